package quality

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/lake/catalog"
)

// Deps are what running and recording checks need. Catalog is required; a
// nil Alerter raises no alert, a nil Log discards, a nil Now is time.Now.
type Deps struct {
	Catalog catalog.Tables
	Alerter *alert.Alerter
	Log     *slog.Logger
	Now     func() time.Time
}

func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// Request is what [Run] checks.
type Request struct {
	// Dates are the event dates whose partition checks run, in order.
	Dates []time.Time
	// Now runs the checks of the present moment (freshness, job not run)
	// as well.
	Now bool
	// AsOf is the time the checks judge against (zero: Deps.Now).
	AsOf time.Time
	// Only restricts the checks to these names (none: all).
	Only []string
	// Job and RunID identify the run in ops.dq_results and ops.alerts:
	// schema.JobQuality, JobDaily or JobBackfill and a unique id.
	Job, RunID string
}

// Run runs the partition checks of each date of req, then (req.Now) the
// checks of the present, recording the results of each date and of the
// present in ops.dq_results, one commit each, as they are found; then it
// raises the alerts they call for through d.Alerter, when there is one.
//
// It returns the results found, and stops at the first date whose checks
// or recording failed, returning the results recorded before it with the
// error (no alert is raised then). Alert delivery failures are logged,
// never returned: the results are recorded either way.
func Run(ctx context.Context, d Deps, lim Limits, req Request) ([]Result, error) {
	d = d.withDefaults()
	asOf := req.AsOf
	if asOf.IsZero() {
		asOf = d.Now()
	}
	ck := NewChecker(d.Catalog, lim, AsOf(asOf), Only(req.Only...), WithLogger(d.Log))
	run := JobRun{ID: req.RunID, Job: req.Job, At: d.Now().UTC()}
	var out []Result
	batch := func(rs []Result, err error) error {
		if err != nil {
			return err
		}
		if err := Record(ctx, d.Catalog, run, rs); err != nil {
			return err
		}
		out = append(out, rs...)
		return nil
	}
	for _, day := range req.Dates {
		if err := batch(ck.Date(ctx, day)); err != nil {
			return out, err
		}
	}
	if req.Now {
		if err := batch(ck.Now(ctx)); err != nil {
			return out, err
		}
	}
	d.alert(ctx, run, out)
	return out, nil
}

// RecordRun grades what one ingest run did to its feeds ([RunChecks]),
// records the results in ops.dq_results (one commit) and raises the
// alerts they call for through d.Alerter, when there is one. Its failures
// are logged, never returned: the run's data is committed either way, and
// a result not recorded raises no alert.
func RecordRun(ctx context.Context, d Deps, run JobRun, lim Limits, feeds []FeedRun) []Result {
	d = d.withDefaults()
	rs := RunChecks(feeds, run.At, lim)
	if err := Record(ctx, d.Catalog, run, rs); err != nil {
		d.Log.Error("cannot record data-quality results", "error", err.Error())
		return rs
	}
	d.alert(ctx, run, rs)
	return rs
}

// alert raises the alerts rs call for, logging a failure.
func (d Deps) alert(ctx context.Context, run JobRun, rs []Result) {
	if d.Alerter == nil {
		return
	}
	if _, err := d.Alerter.Alert(ctx, alert.Run{ID: run.ID, Job: run.Job, At: run.At}, findings(rs)); err != nil {
		d.Log.Error("alert delivery failed", "error", err.Error())
	}
}

// NewRequest is the request of the checks of the event dates from..to
// (zero: none given), as of at: their partition checks, oldest first, and
// the checks of the present when at was given explicitly (asOfGiven) or a
// date is at's day. With no date, the present checks and the settled hours
// of at's day.
func NewRequest(from, to, at time.Time, asOfGiven bool, only []string) Request {
	req := Request{AsOf: at, Now: asOfGiven, Only: only}
	today := at.Truncate(24 * time.Hour)
	if from.IsZero() {
		req.Dates, req.Now = []time.Time{today}, true
		return req
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		req.Dates = append(req.Dates, d)
		req.Now = req.Now || d.Equal(today)
	}
	return req
}

// ParseChecks parses a comma-separated list of check names (empty: all).
func ParseChecks(list string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if !slices.Contains(Checks, c) {
			return nil, fmt.Errorf("unknown check %q (checks: %s)", c, strings.Join(Checks, ", "))
		}
		out = append(out, c)
	}
	return out, nil
}
