// Package rebuild is the `adlake rebuild silver` job: under the locks of
// its feeds (so no ingest of them runs meanwhile) it re-derives silver for
// a range of event dates (silver.Rebuild) and records one ops.runs row per
// feed (job rebuild, window the dates).
package rebuild

import (
	"context"
	"log/slog"
	"time"

	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// Deps are the job's dependencies; a nil Log discards.
type Deps struct {
	Catalog catalog.Tables
	Locks   lock.Locker
	Log     *slog.Logger
}

// Silver re-derives silver for the event dates from..to of the feeds in
// o.Feeds (default all). version is recorded in ops.runs.
func Silver(ctx context.Context, d Deps, o silver.Options, from, to time.Time, version string) (silver.Report, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	feeds := o.Feeds
	if len(feeds) == 0 {
		feeds = schema.Feeds
	}
	unlock, err := lock.All(ctx, d.Locks, lock.Feeds(feeds)...)
	if err != nil {
		return silver.Report{RunID: o.RunID}, err
	}
	defer unlock()
	rep, err := silver.Rebuild(ctx, d.Catalog, o, from, to)
	recs := rep.RunRows(schema.JobRebuild, version)
	for i := range recs {
		recs[i].WindowStart, recs[i].WindowEnd = from, to.AddDate(0, 0, 1)
	}
	if rerr := runs.Append(context.WithoutCancel(ctx), d.Catalog, recs); rerr != nil {
		d.Log.Error("cannot record the run in ops.runs", "error", rerr.Error())
	}
	return rep, err
}
