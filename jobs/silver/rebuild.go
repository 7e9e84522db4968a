package silver

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Rebuild re-derives silver for the event dates from..to (inclusive) from
// bronze, with the current rules and reference data, and replaces those
// partitions of the feeds' silver tables, one atomic commit per table.
// Bronze is read by arrival day: valid events of a date arrive at most 30
// days later and one hour and 15 minutes earlier, so the arrival days
// from-1 .. to+31 hold all of them. Quarantine is not touched (the rejects
// of those dates are there from ingestion), nor are the silver watermarks.
//
// Do not run it concurrently with ingest of the same feed: rows ingested
// into the rebuilt dates between its read and its commit would be replaced.
func Rebuild(ctx context.Context, cat Catalog, o Options, from, to time.Time) (Report, error) {
	o = o.withDefaults()
	rep := Report{RunID: o.RunID}
	if to.Before(from) {
		return rep, fmt.Errorf("rebuild: --to %s is before --from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return rep, err
	}
	lo, hi := arrow.Date32FromTime(from), arrow.Date32FromTime(to)
	for _, feed := range o.Feeds {
		fr := FeedReport{Feed: feed, Started: o.Now(), Valid: map[string]int64{}, Rejected: map[string]int64{}, Duplicates: map[string]int64{}}
		fr.Err = j.rebuildFeed(ctx, feed, lo, hi, &fr)
		fr.Ended = o.Now()
		rep.Feeds = append(rep.Feeds, fr)
		if fr.Err != nil {
			return rep, fmt.Errorf("rebuild %s: %w", feed, fr.Err)
		}
	}
	return rep, nil
}

func (j *job) rebuildFeed(ctx context.Context, feed string, lo, hi arrow.Date32, fr *FeedReport) error {
	p, err := j.newPassRun(ctx, feed, targets[feed], fr)
	if err != nil {
		return err
	}
	defer p.release()
	p.q.on = false // the rejects of these dates are in quarantine already
	p.keepDay = func(d arrow.Date32) bool { return d >= lo && d <= hi }
	tr, err := newTransformer(p)
	if err != nil {
		return err
	}
	fresh(tr) // dedup within the rebuilt rows only: the old rows are being replaced
	bronzeTbl, err := j.cat.Load(ctx, schema.Bronze[feed])
	if err != nil {
		return err
	}
	if err := p.finish(ctx, bronzeTbl, p.readArrivals(p.ctx, bronzeTbl, lo-1, hi+31, tr)); err != nil {
		return err
	}
	props := iceberg.Properties{catalog.PropJob: "rebuild", catalog.PropRunID: j.o.RunID}
	for _, t := range targets[feed] {
		s := p.sinks[t.Name]
		_, err := j.cat.Commit(ctx, t, func(cur *table.Table, tx *table.Transaction) error {
			old, err := filesOfDates(ctx, cur, lo, hi)
			if err != nil {
				return err
			}
			if len(old) == 0 {
				return catalog.AddFiles(ctx, tx, s.files, props)
			}
			return tx.ReplaceDataFilesWithDataFiles(ctx, old, s.files, props)
		})
		if err != nil {
			p.removeAll(ctx, bronzeTbl)
			return err
		}
		fr.Commits++
		j.o.AfterCommit(t)
	}
	return nil
}

// fresh empties the transformer's key indexes of existing silver keys.
func fresh(tr transformer) {
	for _, k := range tr.indexes() {
		k.tables = nil
	}
}

// filesOfDates returns the data files of the silver partitions lo..hi.
func filesOfDates(ctx context.Context, tbl *table.Table, lo, hi arrow.Date32) ([]iceberg.DataFile, error) {
	return catalog.DataFiles(ctx, tbl, catalog.OnDates(schema.ColEventDate, lo, hi))
}

// readArrivals reads the bronze partitions of arrival days lo..hi in
// arrival order (partition, then file).
func (p *passRun) readArrivals(ctx context.Context, tbl *table.Table, lo, hi arrow.Date32, tr transformer) error {
	tasks, err := tbl.Scan(table.WithRowFilter(catalog.OnDates(schema.ColLandingDate, lo, hi))).PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("plan %s: %w", tbl.Identifier(), err)
	}
	sort.Slice(tasks, func(a, b int) bool {
		if pa, pb := partitionOf(tasks[a]), partitionOf(tasks[b]); pa != pb {
			return pa < pb
		}
		return tasks[a].File.FilePath() < tasks[b].File.FilePath()
	})
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if err := p.readFile(ctx, fs, t.File.FilePath(), tr); err != nil {
			return err
		}
	}
	return nil
}
