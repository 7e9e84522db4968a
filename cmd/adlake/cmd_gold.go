package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// goldJob is the ops.runs job name of gold builds.
const goldJob = "gold"

func runCommand() command {
	return command{
		name:    "run",
		summary: "the daily job: adlake run daily --date D builds gold for D and re-states stale days",
		usage: `Builds the gold tables (gold.attributed_conversions, gold.campaign_daily,
gold.bid_funnel_daily) for event date --date (default yesterday), after
running that date's data-quality checks. With quality.hold_gold (default)
a failed check holds D back: nothing of D is published and the job exits 5.

It also re-states earlier days whose inputs changed since their last build
(late events inside the attribution windows: conversions look back 8 days
for clicks and their impressions): each such day is rebuilt by an atomic
overwrite of its partitions. Re-running changes nothing. Every build is a
row in ops.runs (job gold) with the silver snapshot ids it read.

  adlake run daily --date 2026-11-25`,
		layers: []string{"daily"},
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var date string
			var asJSON bool
			fs.StringVar(&date, "date", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "event date (YYYY-MM-DD), default yesterday")
			fs.BoolVar(&asJSON, "json", false, "print the builds as JSON lines")
			return func(ctx context.Context, e *env) error {
				d, _, err := dateRange(date, "")
				if err != nil {
					return err
				}
				restate := d.AddDate(0, 0, -goldLookbackDays(e))
				return runGold(ctx, e, goldRequest{job: "daily", from: restate, to: d, check: []time.Time{d}, alerts: true, parallel: 1, asJSON: asJSON})
			}
		},
	}
}

func backfillCommand() command {
	return command{
		name:    "backfill",
		summary: "build gold for a date range: adlake backfill --from D1 --to D2 [--parallel N]",
		usage: `Builds gold for every event date --from..--to that was never built or whose
silver inputs changed since its last build, checking each date's data
quality first (results recorded as job backfill: they never feed the
row-count history, and send no alerts). Resumable: after a crash or ^C,
run the same command again and it continues with the dates not yet built.
--force rebuilds every date of the range. --parallel builds N dates at
once, splitting the memory budget between them.

  adlake backfill --from 2026-11-01 --to 2026-11-30 --parallel 2`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var from, to string
			var parallel int
			var force, asJSON bool
			fs.StringVar(&from, "from", "", "first event date (YYYY-MM-DD), required")
			fs.StringVar(&to, "to", "", "last event date (YYYY-MM-DD), default --from")
			fs.IntVar(&parallel, "parallel", 1, "dates built at once")
			fs.BoolVar(&force, "force", false, "rebuild every date, stale or not")
			fs.BoolVar(&asJSON, "json", false, "print the builds as JSON lines")
			return func(ctx context.Context, e *env) error {
				if from == "" {
					return usageError{errors.New("--from is required")}
				}
				d1, d2, err := dateRange(from, to)
				if err != nil {
					return err
				}
				if parallel < 1 || d2.Before(d1) {
					return usageError{errors.New("--parallel must be at least 1 and --to not before --from")}
				}
				var all []time.Time
				for d := d1; !d.After(d2); d = d.AddDate(0, 0, 1) {
					all = append(all, d)
				}
				return runGold(ctx, e, goldRequest{job: "backfill", from: d1, to: d2, check: all, force: force, parallel: parallel, asJSON: asJSON})
			}
		},
	}
}

// goldLookbackDays is how far back a late event can change gold: the
// conversion-to-click window plus the click-to-impression window.
func goldLookbackDays(e *env) int {
	w := goldWindows(e)
	return int((w.ConversionToClick + w.ClickToImpression + 24*time.Hour - 1) / (24 * time.Hour))
}

func goldWindows(e *env) gold.Windows {
	g := e.cfg.Gold
	return gold.Windows{ClickToImpression: time.Duration(g.ClickWindowHours) * time.Hour,
		ConversionToClick: time.Duration(g.ClickLookbackDays) * 24 * time.Hour,
		ConversionToView:  time.Duration(g.ViewLookbackHours) * time.Hour}
}

// goldRequest is one gold job: build the stale dates of from..to (all of
// them with force), after checking the dates in check.
type goldRequest struct {
	job      string // daily or backfill
	from, to time.Time
	check    []time.Time
	alerts   bool
	force    bool
	parallel int
	asJSON   bool
}

// goldOutcome is what became of one date.
type goldOutcome struct {
	Date    string           `json:"date"`
	Status  string           `json:"status"` // built, held, failed
	Reason  string           `json:"reason"`
	Rows    map[string]int64 `json:"rows,omitempty"`
	Spills  int              `json:"spill_files"`
	Seconds float64          `json:"seconds"`
	Error   string           `json:"error,omitempty"`
}

func runGold(ctx context.Context, e *env, req goldRequest) error {
	cat, err := e.catalog(ctx)
	if err != nil {
		return err
	}
	unlock, err := cat.Lock(ctx, "gold")
	if errors.Is(err, catalog.ErrLocked) {
		return fmt.Errorf("%w: another gold job is running", errGoldBusy)
	}
	if err != nil {
		return err
	}
	defer unlock()
	if e.cfg.Quality.Enabled {
		qreq := qualityRequest{dates: req.check, asOf: time.Now().UTC()}
		if _, err := runQuality(ctx, e, cat, qreq, req.job, req.alerts); err != nil {
			return err
		}
	}
	todo, err := goldDates(ctx, e, cat, req)
	if err != nil {
		return err
	}
	var gcat gold.Catalog = cat
	if kill := killSwitch(e.getenv("ADLAKE_TEST_KILL_AFTER_COMMIT")); kill != nil {
		gcat = killingCatalog{cat, kill}
	}
	outcomes := buildDates(ctx, e, cat, gcat, req, todo)
	printGold(e, outcomes, req.asJSON)
	return goldResult(outcomes)
}

// killingCatalog is the kill tests' knob on gold commits (see killSwitch).
type killingCatalog struct {
	*catalog.Catalog
	after func(schema.Table)
}

func (k killingCatalog) Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error) {
	tbl, err := k.Catalog.Commit(ctx, t, build)
	if err == nil {
		k.after(t)
	}
	return tbl, err
}

// errGoldBusy is a second gold job while one runs (exit 4).
var errGoldBusy = errors.New("gold is being built")

// goldDates are the dates to build, oldest first, with why.
func goldDates(ctx context.Context, e *env, cat *catalog.Catalog, req goldRequest) ([]gold.StaleDate, error) {
	if req.force {
		var out []gold.StaleDate
		for d := req.from; !d.After(req.to); d = d.AddDate(0, 0, 1) {
			out = append(out, gold.StaleDate{Date: d, Reason: "forced"})
		}
		return out, nil
	}
	return gold.Stale(ctx, cat, req.from, req.to, goldWindows(e))
}

// buildDates builds dates with req.parallel workers, holding back the
// dates whose latest partition checks failed.
func buildDates(ctx context.Context, e *env, cat *catalog.Catalog, gcat gold.Catalog, req goldRequest, todo []gold.StaleDate) []goldOutcome {
	out := make([]goldOutcome, len(todo))
	budget := e.cfg.Gold.MemoryBudgetMiB << 20 / int64(req.parallel)
	var mu sync.Mutex
	done := 0
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < req.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i] = buildDate(ctx, e, cat, gcat, todo[i], budget)
				mu.Lock()
				done++
				e.term.progress("gold", done, len(todo), 0, 0)
				mu.Unlock()
			}
		}()
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	e.term.done()
	for i := range out {
		if out[i].Date == "" {
			out[i] = goldOutcome{Date: todo[i].Date.Format(time.DateOnly), Status: "failed", Reason: todo[i].Reason, Error: context.Cause(ctx).Error()}
		}
	}
	return out
}

// buildDate builds one date (unless its checks failed) and records it.
func buildDate(ctx context.Context, e *env, cat *catalog.Catalog, gcat gold.Catalog, sd gold.StaleDate, budget int64) goldOutcome {
	o := goldOutcome{Date: sd.Date.Format(time.DateOnly), Reason: sd.Reason}
	rec := runs.Record{RunID: newRunID(goldJob), Job: goldJob, Feed: "*", Started: time.Now().UTC(),
		WindowStart: sd.Date, WindowEnd: sd.Date.AddDate(0, 0, 1), Version: version}
	if e.cfg.Quality.HoldGold {
		failures, err := quality.Failures(ctx, cat, sd.Date)
		if err == nil && len(failures) > 0 {
			err = fmt.Errorf("%w: %s", errChecksFailed, describe(failures))
			o.Status = "held"
		}
		if err != nil {
			return finishGold(ctx, e, cat, o, rec, nil, err)
		}
	}
	rep, err := gold.Build(ctx, gcat, sd.Date, gold.Options{Windows: goldWindows(e), MemoryBudget: budget,
		SpillDir: e.cfg.Gold.SpillDir, BatchRows: e.cfg.Ingest.BatchRows, Logger: e.log, RunID: rec.RunID})
	o.Rows, o.Spills = rep.Rows, rep.Sort.SpillFiles
	return finishGold(ctx, e, cat, o, rec, &rep, err)
}

func finishGold(ctx context.Context, e *env, cat *catalog.Catalog, o goldOutcome, rec runs.Record, rep *gold.Report, err error) goldOutcome {
	rec.Finished = time.Now().UTC()
	o.Seconds = rec.Finished.Sub(rec.Started).Seconds()
	rec.Status = runs.StatusOK
	switch {
	case err != nil && o.Status == "held":
		rec.Status, rec.Error, o.Error = "held", err.Error(), err.Error()
	case err != nil:
		o.Status, rec.Status, rec.Error, o.Error = "failed", runs.StatusFailed, err.Error(), err.Error()
	default:
		o.Status = "built"
	}
	if rep != nil {
		for _, n := range rep.Rows {
			rec.RowsOut += n
		}
		rec.Commits = int64(rep.Commits)
		if b, jerr := json.Marshal(rep.Inputs); jerr == nil {
			rec.Inputs = string(b)
		}
	}
	if aerr := runs.Append(context.WithoutCancel(ctx), cat, nil, []runs.Record{rec}); aerr != nil {
		e.log.Error("cannot record the run in ops.runs", "error", aerr.Error())
	}
	return o
}

func describe(rs []quality.Result) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s %s observed %s, expected %s", r.Check, r.Table, r.Partition, resultJSON(r).Observed, r.Expected))
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("and %d more", len(parts)-3))
	}
	return strings.Join(parts, "; ")
}

// goldResult maps outcomes to the job's error: a failed build first, then
// a held date.
func goldResult(out []goldOutcome) error {
	var held error
	for _, o := range out {
		switch o.Status {
		case "failed":
			return fmt.Errorf("gold %s: %s", o.Date, o.Error)
		case "held":
			held = fmt.Errorf("gold %s held back: %w", o.Date, errChecksFailed)
		}
	}
	return held
}

func printGold(e *env, out []goldOutcome, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(e.out)
		for _, o := range out {
			_ = enc.Encode(o)
		}
		return
	}
	if len(out) == 0 {
		fmt.Fprintln(e.out, "gold is up to date: no date to build")
		return
	}
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "DATE\tSTATUS\tCONVERSIONS\tCAMPAIGN DAYS\tFUNNEL ROWS\tSPILLS\tSECONDS\tWHY")
	for _, o := range out {
		why := o.Reason
		if o.Error != "" {
			why = o.Error
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%s\n", o.Date, o.Status, o.Rows["gold.attributed_conversions"],
			o.Rows["gold.campaign_daily"], o.Rows["gold.bid_funnel_daily"], o.Spills, o.Seconds, why)
	}
	_ = w.Flush()
}
