// Package gold builds the gold tables of SPEC §3-4 for one event date at a
// time: gold.attributed_conversions (last-touch attribution of every
// non-bot conversion), gold.campaign_daily and gold.bid_funnel_daily.
//
// Attribution is a sort-merge join: the silver impressions, clicks and
// conversions a date needs are each sorted by (user, campaign, time, id)
// with an external sort (Sorter: bounded memory, spill files, k-way merge)
// and walked together group by group, keeping one impression and one click
// of state. Impressions are first semi-join filtered to the (user,
// campaign) groups that have a click or conversion.
//
// Build replaces the event_date partition of each gold table in one commit
// per table (rows of schema.AttributedConversionRow, schema.CampaignDailyRow
// and schema.BidFunnelDailyRow, written with lake/rows), recording in the snapshot summary the silver snapshots it read
// (PropInputs) so that Stale can tell which dates silver changed under
// since. Reads are pinned to those snapshots: a build is a function of
// them, and building twice gives the same rows. docs/gold.md has the rules
// and the choices where the SPEC is silent.
package gold

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Snapshot summary properties of every gold commit, besides the job
// (schema.JobGold) and run id of lake/ledger.
const (
	// PropDate is the event date (YYYY-MM-DD) the commit built.
	PropDate = "adlake.gold.date"
	// PropInputs is a JSON object of the snapshot ids read, by table name
	// ("silver.impressions": 123, ...); 0 for a table without snapshots.
	PropInputs = "adlake.gold.inputs"
)

// Options configure Build. Zero values take the documented defaults.
type Options struct {
	// Windows are the attribution lookbacks (default DefaultWindows).
	Windows Windows
	// MemoryBudget bounds the bytes the attribution sorts buffer, all
	// three together (default 512 MiB); beyond it they spill to SpillDir.
	// Other state (the day's bid-request index, per-campaign counters and
	// the day's attributed conversions) is not counted.
	MemoryBudget int64
	// SpillDir is where a build makes its temporary folder of spill files
	// (default os.TempDir()); the folder is removed when the build ends,
	// whether it succeeds, fails or is cancelled.
	SpillDir string
	// BatchRows is the Parquet read batch size (default 16384).
	BatchRows int
	// Alloc allocates Arrow memory (default memory.DefaultAllocator).
	Alloc memory.Allocator
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// RunID is written to every gold row (_run_id) and commit.
	RunID string
	// Now stamps _built_at (default time.Now).
	Now func() time.Time
}

// WithDefaults returns o with every zero value replaced by its documented
// default: the options Build and Attribute run with.
func (o Options) WithDefaults() Options {
	o.Windows = o.Windows.WithDefaults()
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 512 << 20
	}
	if o.SpillDir == "" {
		o.SpillDir = os.TempDir()
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 16384
	}
	if o.Alloc == nil {
		o.Alloc = memory.DefaultAllocator
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Report is what one Build (or Attribute) did for one date.
type Report struct {
	RunID string
	// Date is the event date built (UTC midnight).
	Date time.Time
	// Inputs are the snapshot ids read, by table name (0: no snapshot);
	// the same map is recorded as PropInputs.
	Inputs map[string]int64
	// Rows committed, by gold table name (Attribute: the attributed
	// conversions, not written).
	Rows map[string]int64
	// Attribution counts the date's conversions by attribution.
	Attribution map[string]int64
	// ImpressionsRead counts the silver impression rows read;
	// ImpressionsSorted those that passed the semi-join filter.
	ImpressionsRead, ImpressionsSorted int64
	// Sort sums the three attribution sorts' counters.
	Sort SortStats
	// Commits counts the gold tables committed (3 on success).
	Commits int
	// Started and Ended bracket the run (Options.Now).
	Started, Ended time.Time
}

// Inputs of a build: the silver tables, in the order of PropInputs.
var inputTables = []schema.Table{schema.SilverImpressions, schema.SilverClicks, schema.SilverConversions, schema.SilverBidRequests, schema.RefFxRates}

// Build computes the three gold tables for the event date of day (its UTC
// date) and replaces their event_date partition, one commit per table in
// the order of schema.Gold(), each recording PropDate and PropInputs. The
// rows are a function of the silver snapshots read (Report.Inputs), so a
// second Build over unchanged silver commits the same rows again (only
// _run_id and _built_at differ). The data files of all three tables are
// written (by one datafile.Stage) before the first commit, and every file
// not committed is removed: a failure while writing leaves the three tables
// as they were; a failure between the three commits leaves the later
// tables at their previous build, which Stale reports.
func Build(ctx context.Context, cat catalog.Tables, day time.Time, o Options) (Report, error) {
	o = o.WithDefaults()
	rep := Report{RunID: o.RunID, Date: dayOf(day), Started: o.Now()}
	res, err := compute(ctx, cat, arrow.Date32FromTime(rep.Date), o, true, &rep)
	if err != nil {
		return rep, fmt.Errorf("gold %s: %w", rep.Date.Format(time.DateOnly), err)
	}
	if err := publish(ctx, cat, res, o, &rep); err != nil {
		return rep, fmt.Errorf("gold %s: %w", rep.Date.Format(time.DateOnly), err)
	}
	rep.Ended = o.Now()
	o.Logger.Info("gold built", "date", rep.Date.Format(time.DateOnly), "rows", rep.Rows,
		"spill_files", rep.Sort.SpillFiles, "spill_bytes", rep.Sort.SpillBytes)
	return rep, nil
}

// Attribute runs only the attribution of the conversions of day (nothing
// is written) and returns its counts; for benchmarks and dry runs.
func Attribute(ctx context.Context, cat catalog.Loader, day time.Time, o Options) (Report, error) {
	o = o.WithDefaults()
	rep := Report{RunID: o.RunID, Date: dayOf(day), Started: o.Now()}
	res, err := compute(ctx, cat, arrow.Date32FromTime(rep.Date), o, false, &rep)
	if err != nil {
		return rep, fmt.Errorf("gold attribution %s: %w", rep.Date.Format(time.DateOnly), err)
	}
	rep.Rows = map[string]int64{schema.GoldAttributedConversions.String(): int64(len(res.attributed))}
	rep.Ended = o.Now()
	return rep, nil
}

func dayOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
