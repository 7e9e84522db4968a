// Package daily is the daily job and its backfills: for each event date,
// run the date's data-quality checks, then build gold for it (package
// gold) unless a failed check holds it back, re-stating earlier dates
// whose silver inputs changed since their last build. Every build is an
// ops.runs row (job gold) with the silver snapshots it read.
//
// Under the lock.Gold lock: a second daily job or backfill fails at once with
// lock.ErrLocked. Resumable: only stale dates are built, so re-running
// after a crash continues where it stopped, and re-running after success
// builds nothing.
package daily

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// Deps are the job's dependencies. Catalog and Locks are required; a nil
// Alerter sends no alert, a nil Log discards, a nil Now is time.Now, a nil
// Progress reports nothing.
type Deps struct {
	Catalog  catalog.Tables
	Locks    lock.Locker
	Alerter  *alert.Alerter
	Log      *slog.Logger
	Now      func() time.Time
	Progress func(done, total int)
	// NewRunID names a build's run (default: "gold-<time>").
	NewRunID func(job string) string
}

// Options configure the job.
type Options struct {
	// Gold configures the builds; its MemoryBudget is split between the
	// dates built at once, its RunID set per build.
	Gold gold.Options
	// Quality runs the dates' checks first when set; nil: no checks.
	Quality *quality.Limits
	// HoldGold holds back a date whose latest partition checks failed.
	HoldGold bool
	// Parallel is how many dates are built at once (default 1).
	Parallel int
	// Force rebuilds every date, stale or not (backfill).
	Force bool
	// Version is recorded in ops.runs.
	Version string
}

// Outcome is what became of one date.
type Outcome struct {
	Date    string           `json:"date"`
	Status  string           `json:"status"` // built, held, failed
	Reason  string           `json:"reason"`
	Rows    map[string]int64 `json:"rows,omitempty"`
	Spills  int              `json:"spill_files"`
	Seconds float64          `json:"seconds"`
	Error   string           `json:"error,omitempty"`
}

// Outcome statuses.
const (
	Built  = "built"
	Held   = "held"
	Failed = "failed"
)

// Report is what one daily job or backfill did, date by date.
type Report struct {
	Outcomes []Outcome
}

// Run is the daily job for event date day: its checks (alerting), then
// gold for every stale date of day-N..day, where N is how far back a late
// event can change gold (the attribution windows).
func Run(ctx context.Context, d Deps, o Options, day time.Time) (Report, error) {
	day = day.UTC().Truncate(24 * time.Hour)
	from := day.AddDate(0, 0, -RestateDays(o.Gold.Windows))
	return run(ctx, d, o, schema.JobDaily, from, day, []time.Time{day})
}

// Backfill builds gold for the stale dates of from..to (every date with
// o.Force), checking each date first; backfill results send no alerts
// and never feed the row-count history.
func Backfill(ctx context.Context, d Deps, o Options, from, to time.Time) (Report, error) {
	d.Alerter = nil
	var all []time.Time
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		all = append(all, day)
	}
	return run(ctx, d, o, schema.JobBackfill, from, to, all)
}

// RestateDays is how far back a late event can change gold: the
// conversion-to-click window plus the click-to-impression window, in days
// (rounded up).
func RestateDays(w gold.Windows) int {
	w = w.WithDefaults()
	return int((w.ConversionToClick + w.ClickToImpression + 24*time.Hour - 1) / (24 * time.Hour))
}

func run(ctx context.Context, d Deps, o Options, job string, from, to time.Time, check []time.Time) (Report, error) {
	d, o = withDefaults(d, o)
	unlock, err := d.Locks.Lock(ctx, lock.Gold)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	if o.Quality != nil {
		qd := quality.Deps{Catalog: d.Catalog, Alerter: d.Alerter, Log: d.Log}
		req := quality.Request{Dates: check, AsOf: d.Now().UTC(), Job: job, RunID: d.NewRunID(job)}
		if _, err := quality.Run(ctx, qd, *o.Quality, req); err != nil {
			return Report{}, err
		}
	}
	todo, err := stale(ctx, d, o, from, to)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Outcomes: buildAll(ctx, d, o, todo)}
	return rep, rep.Err()
}

func withDefaults(d Deps, o Options) (Deps, Options) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Progress == nil {
		d.Progress = func(int, int) {}
	}
	if d.NewRunID == nil {
		d.NewRunID = func(job string) string { return job + "-" + d.Now().UTC().Format("20060102T150405.000000000Z") }
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	o.Gold.Logger = d.Log
	return d, o
}

// stale lists the dates to build, oldest first, with why.
func stale(ctx context.Context, d Deps, o Options, from, to time.Time) ([]gold.StaleDate, error) {
	if !o.Force {
		return gold.Stale(ctx, d.Catalog, from, to, o.Gold.Windows)
	}
	var out []gold.StaleDate
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		out = append(out, gold.StaleDate{Date: day, Reason: "forced"})
	}
	return out, nil
}

// buildAll builds the dates with o.Parallel workers, each with its share
// of the memory budget; dates not reached (cancelled) are failed.
func buildAll(ctx context.Context, d Deps, o Options, todo []gold.StaleDate) []Outcome {
	out := make([]Outcome, len(todo))
	budget := o.Gold.WithDefaults().MemoryBudget / int64(o.Parallel)
	var mu sync.Mutex
	done := 0
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < o.Parallel; w++ {
		wg.Go(func() {
			for i := range work {
				out[i] = buildDate(ctx, d, o, todo[i], budget)
				mu.Lock()
				done++
				d.Progress(done, len(todo))
				mu.Unlock()
			}
		})
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	for i := range out {
		if out[i].Date == "" {
			out[i] = Outcome{Date: todo[i].Date.Format(time.DateOnly), Status: Failed, Reason: todo[i].Reason, Error: context.Cause(ctx).Error()}
		}
	}
	return out
}

// buildDate builds one date (unless its checks failed) and records it in
// ops.runs.
func buildDate(ctx context.Context, d Deps, o Options, sd gold.StaleDate, budget int64) Outcome {
	rec := schema.RunRow{RunID: d.NewRunID(schema.JobGold), Job: schema.JobGold, Feed: "*", Started: d.Now().UTC(),
		WindowStart: sd.Date, WindowEnd: sd.Date.AddDate(0, 0, 1), Version: o.Version}
	out := Outcome{Date: sd.Date.Format(time.DateOnly), Reason: sd.Reason, Status: Built}
	var rep gold.Report
	err := hold(ctx, d, o, sd.Date)
	if err != nil {
		out.Status = Held
	} else {
		g := o.Gold
		g.MemoryBudget, g.RunID = budget, rec.RunID
		rep, err = gold.Build(ctx, d.Catalog, sd.Date, g)
		out.Rows, out.Spills = rep.Rows, rep.Sort.SpillFiles
		if err != nil {
			out.Status = Failed
		}
	}
	rec.Finished = d.Now().UTC()
	out.Seconds = rec.Finished.Sub(rec.Started).Seconds()
	rec.Status = map[string]string{Built: schema.RunOK, Held: schema.RunHeld, Failed: schema.RunFailed}[out.Status]
	if err != nil {
		rec.Error, out.Error = err.Error(), err.Error()
	}
	for _, n := range rep.Rows {
		rec.RowsOut += n
	}
	rec.Commits = int64(rep.Commits)
	if rep.Inputs != nil {
		if b, jerr := json.Marshal(rep.Inputs); jerr == nil {
			rec.Inputs = string(b)
		}
	}
	if aerr := runs.Append(context.WithoutCancel(ctx), d.Catalog, []schema.RunRow{rec}); aerr != nil {
		d.Log.Error("cannot record the run in ops.runs", "error", aerr.Error())
	}
	return out
}

// hold returns a quality.ErrFailed error describing the failed partition
// checks of day, when o.HoldGold and there are some.
func hold(ctx context.Context, d Deps, o Options, day time.Time) error {
	if !o.HoldGold {
		return nil
	}
	failures, err := quality.Failures(ctx, d.Catalog, day)
	if err != nil || len(failures) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s", quality.ErrFailed, describe(failures))
}

func describe(rs []quality.Result) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s %s observed %s, expected %s", r.Check, r.Table, r.Partition, quality.FormatObserved(r.Observed), r.Expected))
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("and %d more", len(parts)-3))
	}
	return strings.Join(parts, "; ")
}

// Err is the job's error: the first failed build, else a held date
// (wrapping quality.ErrFailed), else nil.
func (r Report) Err() error {
	var held error
	for _, o := range r.Outcomes {
		switch o.Status {
		case Failed:
			return fmt.Errorf("gold %s: %s", o.Date, o.Error)
		case Held:
			held = fmt.Errorf("gold %s held back: %w", o.Date, quality.ErrFailed)
		}
	}
	return held
}
