package quality

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// lag grades the minutes from newest to the as-of time; no newest at all
// (nothing ever arrived) fails.
func (c *Checker) lag(check, tableName, part string, newest time.Time, what string, th Threshold) Result {
	r := Result{Date: day(c.asOf), Check: check, Table: tableName, Partition: part, Low: 0}
	if newest.IsZero() {
		_, r.High, r.Expected = judge(0, th)
		r.Observed, r.Status = math.NaN(), capped(Fail, th.Severity)
		r.Detail = "no " + what + " yet"
	} else {
		r.Observed = math.Max(0, math.Round(c.asOf.Sub(newest).Minutes()))
		r.Status, r.High, r.Expected = judge(r.Observed, th)
		r.Detail = fmt.Sprintf("newest %s %s, as of %s", what, newest.Format(time.RFC3339), c.asOf.Format(time.RFC3339))
	}
	r.Expected += " minutes"
	return r
}

// eventFreshness: minutes since the newest event of each feed in silver,
// read from the data files' upper bounds of event_ts.
func (c *Checker) eventFreshness(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, feed := range schema.Feeds {
		var newestAt time.Time
		var names []string
		for _, t := range feed.Silver {
			fs, err := files(ctx, c.cat, t, nil)
			if err != nil {
				return nil, err
			}
			id, err := fieldID(t, "event_ts")
			if err != nil {
				return nil, err
			}
			if n := newest(fs, id); n.After(newestAt) {
				newestAt = n
			}
			names = append(names, t.String())
		}
		out = append(out, c.lag(FreshnessEvent, strings.Join(names, ","), "", newestAt, "event", c.lim.FreshEvents))
	}
	return out, nil
}

// landingFreshness: minutes since the end of the newest arrival hour of
// each feed's committed landing files (from the bronze ledger).
func (c *Checker) landingFreshness(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, feed := range schema.Feeds {
		t := feed.Bronze
		tbl, err := c.cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		committed, err := ledger.Ledger(tbl)
		if err != nil {
			return nil, err
		}
		var newestAt time.Time
		for key := range committed {
			if f, reason := landing.Classify(objstore.Object{Key: key}); reason == "" && f.Hour.Add(time.Hour).After(newestAt) {
				newestAt = f.Hour.Add(time.Hour)
			}
		}
		out = append(out, c.lag(FreshnessLanding, t.String(), "", newestAt, "landing hour ended", c.lim.FreshLanding))
	}
	return out, nil
}

// jobNotRun: minutes since the last successful (ok or partial) ingest
// run, from ops.runs.
func (c *Checker) jobNotRun(ctx context.Context) ([]Result, error) {
	tbl, err := c.cat.Load(ctx, schema.Runs)
	if err != nil {
		return nil, err
	}
	var last time.Time
	for r, err := range rows.Scan[schema.RunRow](ctx, tbl, iceberg.EqualTo(iceberg.Reference("job"), schema.JobIngest)) {
		if err != nil {
			return nil, fmt.Errorf("ops.runs: %w", err)
		}
		if r.Job == schema.JobIngest && (r.Status == schema.RunOK || r.Status == schema.RunPartial) && r.Finished.After(last) {
			last = r.Finished
		}
	}
	return []Result{c.lag(JobNotRun, schema.Runs.String(), "job=ingest", last, "successful ingest run finished", c.lim.JobNotRun)}, nil
}
