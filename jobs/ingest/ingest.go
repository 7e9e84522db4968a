// Package ingest is the micro-batch job, `adlake ingest`: under the locks
// of its feeds it loads the newest reference snapshots, moves every
// landing file not committed yet into bronze (and what cannot be parsed
// into ops.quarantine), derives silver from the new bronze rows (while
// they are decoded, through silver taps, and by a catch-up pass for
// whatever the taps did not derive), records one ops.runs row per feed and
// stage, and grades the run with the per-run data-quality checks.
//
// Exactly once rests on the ledgers (package ledger), not on this
// orchestration: a run killed at any point is completed by the next one.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// Deps are the job's dependencies. Landing, Catalog and Locks are
// required; a nil Alerter records results without alerting, a nil Log
// discards, a nil Now is time.Now.
type Deps struct {
	Landing objstore.Reader
	Catalog catalog.Tables
	Locks   lock.Locker
	Alerter *alert.Alerter
	Log     *slog.Logger
	Now     func() time.Time
	// Alloc allocates Arrow memory (default memory.DefaultAllocator).
	Alloc memory.Allocator
}

// Options configure one run.
type Options struct {
	// Feeds to ingest (default schema.Feeds).
	Feeds []schema.Feed
	RunID string
	// Bronze tunes landing -> bronze (its Feeds, RunID, Logger, Now and
	// Alloc are set from the above and Deps).
	Bronze bronze.Options
	// Silver derives silver in the same run when set (its Feeds, RunID,
	// Logger and Alloc are set as Bronze's); nil: bronze only.
	Silver *silver.Options
	// Quality runs the per-run checks when set; nil: none.
	Quality *quality.Limits
	// Version is recorded in ops.runs.
	Version string
}

// Report is what one run did.
type Report struct {
	RunID  string
	Bronze bronze.Report
	Silver silver.Report
	Checks []quality.Result
}

// ErrPartial is returned by a run that finished but quarantined whole
// landing files it could not read (exit 3).
var ErrPartial = errors.New("some landing files were unreadable and quarantined whole (see ops.quarantine, reason unreadable_file)")

// Run ingests one micro-batch. The ops.runs rows are written even when the
// run fails (with a fresh context when it was cancelled, so the row says
// so); the checks run only after a successful run. A feed whose lock
// another process holds fails the run at once with lock.ErrLocked (a
// catalog.ErrConflict).
func Run(ctx context.Context, d Deps, o Options) (Report, error) {
	d, o = withDefaults(d, o)
	rep := Report{RunID: o.RunID}
	unlock, err := lock.All(ctx, d.Locks, lock.Feeds(o.Feeds)...)
	if err != nil {
		return rep, err
	}
	defer unlock()
	d.Log.Info("ingest started", "run_id", o.RunID, "landing", d.Landing.String())
	runErr := run(ctx, d, o, &rep)
	if err := runs.Append(context.WithoutCancel(ctx), d.Catalog, rep.records(o, d.Now(), runErr)); err != nil {
		d.Log.Error("cannot record the run in ops.runs", "error", err.Error())
	}
	if runErr != nil {
		return rep, runErr
	}
	if o.Quality != nil {
		qd := quality.Deps{Catalog: d.Catalog, Alerter: d.Alerter, Log: d.Log}
		rep.Checks = quality.RecordRun(ctx, qd, quality.JobRun{ID: o.RunID, Job: schema.JobIngest, At: d.Now().UTC()}, *o.Quality, rep.feedRuns(o.Silver != nil))
	}
	if rep.Bronze.Unreadable() > 0 {
		return rep, ErrPartial
	}
	return rep, nil
}

func withDefaults(d Deps, o Options) (Deps, Options) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Alloc == nil {
		d.Alloc = memory.DefaultAllocator
	}
	if len(o.Feeds) == 0 {
		o.Feeds = schema.Feeds
	}
	o.Bronze.Feeds, o.Bronze.RunID, o.Bronze.Logger, o.Bronze.Now, o.Bronze.Alloc = o.Feeds, o.RunID, d.Log, d.Now, d.Alloc
	if o.Silver != nil {
		s := *o.Silver
		s.Feeds, s.RunID, s.Logger, s.Alloc = o.Feeds, o.RunID, d.Log, d.Alloc
		o.Silver = &s
	}
	return d, o
}

// run does the work: reference, bronze with taps, silver catch-up.
func run(ctx context.Context, d Deps, o Options, rep *Report) error {
	var tapper *silver.Tapper
	if o.Silver != nil {
		// Reference data first: the silver taps enrich with it.
		if err := reference.Load(ctx, d.Landing, d.Catalog, d.Alloc, o.RunID, d.Log); err != nil {
			return err
		}
		var err error
		if tapper, err = silver.NewTapper(ctx, d.Catalog, *o.Silver); err != nil {
			return err
		}
		o.Bronze.Tap = func(ctx context.Context, feed schema.Feed, tbl *table.Table) (bronze.Tap, error) {
			t, err := tapper.Open(ctx, feed, tbl)
			if t == nil {
				return nil, err // no tap: the catch-up pass derives this chunk
			}
			return t, err
		}
	}
	var err error
	if rep.Bronze, err = bronze.Run(ctx, d.Landing, d.Catalog, o.Bronze); err != nil || o.Silver == nil {
		return err
	}
	// Whatever the taps did not derive (silver behind, a tap discarded),
	// the ordinary passes derive now.
	rep.Silver, err = silver.Run(ctx, d.Catalog, *o.Silver)
	rep.Silver = silver.Merge(rep.Silver, tapper.Reports())
	return err
}

// records are the run's ops.runs rows: one per feed and stage, or one for
// the whole run when it failed before any feed.
func (r Report) records(o Options, now time.Time, runErr error) []schema.RunRow {
	var out []schema.RunRow
	for _, f := range r.Bronze.Feeds {
		status := schema.RunOK
		switch {
		case f.Err != nil:
			status = schema.RunFailed
		case f.FilesUnreadable > 0:
			status = schema.RunPartial
		}
		out = append(out, schema.RunRow{
			RunID: r.RunID, Job: schema.JobIngest, Feed: f.Feed, Status: status, Started: f.Started, Finished: f.Ended,
			WindowStart: f.WindowStart, WindowEnd: f.WindowEnd, Files: int64(f.Files), FilesUnreadable: int64(f.FilesUnreadable),
			BytesIn: f.Bytes, RowsIn: f.Decoded + f.RejectedRecords, RowsOut: f.Rows, RowsRejected: f.Rejects,
			Commits: int64(f.Commits), Version: o.Version, Error: errText(f.Err),
		})
	}
	out = append(out, r.Silver.RunRows(schema.JobSilver, o.Version)...)
	if len(r.Bronze.Feeds) == 0 && runErr != nil && !errors.Is(runErr, context.Canceled) {
		out = append(out, schema.RunRow{RunID: r.RunID, Job: schema.JobIngest, Feed: "*", Status: schema.RunFailed,
			Started: now, Finished: now, Error: runErr.Error(), Version: o.Version})
	}
	return out
}

// feedRuns joins the bronze and silver reports by feed, as the per-run
// checks see them: landing records are what the decoders counted, bronze
// rows what the commits added.
func (r Report) feedRuns(silverOn bool) []quality.FeedRun {
	byFeed := map[string]silver.FeedReport{}
	for _, f := range r.Silver.Feeds {
		byFeed[f.Feed] = f
	}
	var out []quality.FeedRun
	for _, f := range r.Bronze.Feeds {
		feed, _ := schema.FeedNamed(f.Feed)
		fr := quality.FeedRun{Feed: f.Feed, Table: feed.Bronze.String(),
			Landing: f.Decoded + f.RejectedRecords, Bronze: f.Rows, BronzeRejected: f.RejectedRecords}
		if s, ok := byFeed[f.Feed]; ok && silverOn {
			fr.Silver, fr.SilverIn = true, s.RowsIn
			fr.SilverOut, fr.SilverRejected, fr.SilverDup = sum(s.Valid), sum(s.Rejected), sum(s.Duplicates)
		}
		for _, sig := range sortedKeys(f.Drift) {
			dr := f.Drift[sig]
			fr.Drift = append(fr.Drift, quality.DriftFiles{Drift: dr.Drift, Files: dr.Files, Example: dr.Example})
		}
		out = append(out, fr)
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
