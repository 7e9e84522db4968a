// Package silver is the silver job: it derives valid, standardized,
// enriched and deduplicated events from the bronze tables (SPEC §2) into
// silver.impressions, silver.clicks, silver.conversions and
// silver.bid_requests, and sends every record that breaks a rule to
// ops.quarantine with its reason.
//
// Increments and exactly once: each table the job writes for a feed (the
// silver tables and ops.quarantine) records in its snapshot summary the
// bronze snapshot it has consumed up to (ledger.WatermarkKey). A run reads
// the bronze data files added after that watermark, in bronze commit order
// (which is arrival order), and commits quarantine first, then each silver
// table, every commit re-checking its table's watermark: a crash between
// commits makes the next run redo the pass for the tables still behind,
// and only for them.
//
// Deduplication is an anti-join: a record is a duplicate when its key is in
// silver already, on the same event date, or earlier in the same pass.
// Existing keys are loaded per event date, with partition pruning, as 64-bit
// hashes (docs/silver.md discusses the choice).
package silver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

// DevPseudonymKey is used when no key is configured (the embedded demo);
// Run logs a warning when it is in use.
const DevPseudonymKey = "adlake-development-key-not-for-production"

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	Feeds []schema.Feed // default: schema.Feeds
	RunID string
	Now   func() time.Time
	// PseudonymKey keys the user id hash (default DevPseudonymKey, with a
	// warning). Never logged.
	PseudonymKey string
	// ExtraConversionTypes are accepted besides the contract's five.
	ExtraConversionTypes []string
	// MaxRowsPerPass bounds the bronze rows one pass reads (default 2M);
	// a backlog is processed in several committed passes.
	MaxRowsPerPass int64
	BatchRows      int // default 8192
	Alloc          memory.Allocator
	Logger         *slog.Logger
}

func (o Options) withDefaults() Options {
	if len(o.Feeds) == 0 {
		o.Feeds = schema.Feeds
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRowsPerPass <= 0 {
		o.MaxRowsPerPass = 2_000_000
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 8192
	}
	if o.Alloc == nil {
		o.Alloc = memory.DefaultAllocator
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// FeedReport is what one run did for one feed.
type FeedReport struct {
	Feed           string
	Started, Ended time.Time
	Passes         int
	RowsIn         int64            // bronze rows read
	Valid          map[string]int64 // rows written, by silver table
	Rejected       map[string]int64 // quarantined, by reason
	Duplicates     map[string]int64 // dropped, by key kind ("id", "order")
	Commits        int
	Err            error
}

// Report is what one run did.
type Report struct {
	RunID string
	Feeds []FeedReport
}

// Run derives silver from every bronze snapshot not consumed yet.
func Run(ctx context.Context, cat catalog.Tables, o Options) (Report, error) {
	rep := Report{RunID: o.RunID}
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return rep, err
	}
	o = j.o
	var first error
	for _, feed := range o.Feeds {
		fr := j.runFeed(ctx, feed)
		rep.Feeds = append(rep.Feeds, fr)
		if fr.Err != nil && first == nil {
			first = fmt.Errorf("silver %s: %w", feed.Name, fr.Err)
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, first
}

// Merge adds the taps' reports to rep, feed by feed.
func Merge(rep Report, taps map[string]*FeedReport) Report {
	for i := range rep.Feeds {
		t, ok := taps[rep.Feeds[i].Feed]
		if !ok {
			continue
		}
		f := &rep.Feeds[i]
		f.RowsIn += t.RowsIn
		f.Commits += t.Commits
		f.Passes += t.Passes
		for _, m := range [][2]map[string]int64{{f.Valid, t.Valid}, {f.Rejected, t.Rejected}, {f.Duplicates, t.Duplicates}} {
			for k, v := range m[1] {
				m[0][k] += v
			}
		}
		if t.Started.Before(f.Started) {
			f.Started = t.Started
		}
	}
	return rep
}

type job struct {
	cat    catalog.Tables
	o      Options
	refs   *refs
	pseudo *pseudonymizer
	bots   *bots
}

// newJob applies the defaults and loads the reference lookups.
func newJob(ctx context.Context, cat catalog.Tables, o Options) (*job, error) {
	o = o.withDefaults()
	if o.PseudonymKey == "" {
		o.PseudonymKey = DevPseudonymKey
		o.Logger.Warn("no pseudonymization key configured (silver.pseudonym_key / ADLAKE_SILVER_PSEUDONYM_KEY): using the development key")
	}
	r, err := loadRefs(ctx, cat)
	if err != nil {
		return nil, err
	}
	return &job{cat: cat, o: o, refs: r, pseudo: newPseudonymizer(o.PseudonymKey), bots: newBots()}, nil
}

// newFeedReport returns an empty report of feed.
func newFeedReport(feed schema.Feed, started time.Time) FeedReport {
	return FeedReport{Feed: feed.Name, Started: started, Valid: map[string]int64{}, Rejected: map[string]int64{}, Duplicates: map[string]int64{}}
}

func (j *job) runFeed(ctx context.Context, feed schema.Feed) (fr FeedReport) {
	fr = newFeedReport(feed, j.o.Now())
	defer func() { fr.Ended = j.o.Now() }()
	bronzeTbl, err := j.cat.Load(ctx, feed.Bronze)
	if err != nil {
		fr.Err = err
		return fr
	}
	snaps := ledger.Ancestry(bronzeTbl)
	// Group the feed's tables by watermark: normally all agree; after a
	// crash between commits some are one pass behind.
	groups := map[int64][]schema.Table{}
	for _, t := range feed.Targets() {
		tbl, err := j.cat.Load(ctx, t)
		if err != nil {
			fr.Err = err
			return fr
		}
		wm, err := ledger.Watermark(tbl, feed.Name)
		if err != nil {
			fr.Err = err
			return fr
		}
		groups[wm] = append(groups[wm], t)
	}
	wms := make([]int64, 0, len(groups))
	for wm := range groups {
		wms = append(wms, wm)
	}
	slices.Sort(wms)
	for _, wm := range wms {
		tables := groups[wm] // the group keeps its tables as its watermark advances
		pending, err := after(snaps, wm)
		if err != nil {
			fr.Err = err
			return fr
		}
		for _, pass := range passes(pending, j.o.MaxRowsPerPass) {
			if err := j.pass(ctx, feed, bronzeTbl, wm, pass, tables, &fr); err != nil {
				fr.Err = err
				return fr
			}
			wm = pass[len(pass)-1].SnapshotID
			fr.Passes++
		}
	}
	return fr
}

// after returns the snapshots after the one with id wm (all when wm is 0).
func after(snaps []table.Snapshot, wm int64) ([]table.Snapshot, error) {
	if wm == 0 {
		return snaps, nil
	}
	for i, s := range snaps {
		if s.SnapshotID == wm {
			return snaps[i+1:], nil
		}
	}
	return nil, fmt.Errorf("watermark snapshot %d is not in the bronze history (expired or rolled back?); see docs/silver.md", wm)
}

// passes groups consecutive snapshots, each pass reading at most maxRows
// bronze rows (a single larger snapshot is a pass of its own).
func passes(snaps []table.Snapshot, maxRows int64) [][]table.Snapshot {
	var out [][]table.Snapshot
	var cur []table.Snapshot
	var rows int64
	for _, s := range snaps {
		n := addedRecords(s)
		if len(cur) > 0 && rows+n > maxRows {
			out = append(out, cur)
			cur, rows = nil, 0
		}
		cur = append(cur, s)
		rows += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func addedRecords(s table.Snapshot) int64 {
	if s.Summary == nil {
		return 0
	}
	var n int64
	fmt.Sscan(s.Summary.Properties["added-records"], &n)
	return n
}
