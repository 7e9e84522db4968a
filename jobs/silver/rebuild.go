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
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/ledger"
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
func Rebuild(ctx context.Context, cat catalog.Tables, o Options, from, to time.Time) (Report, error) {
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
		fr := newFeedReport(feed, o.Now())
		fr.Err = j.rebuildFeed(ctx, feed, lo, hi, &fr)
		fr.Ended = o.Now()
		rep.Feeds = append(rep.Feeds, fr)
		if fr.Err != nil {
			return rep, fmt.Errorf("rebuild %s: %w", feed.Name, fr.Err)
		}
	}
	return rep, nil
}

func (j *job) rebuildFeed(ctx context.Context, feed schema.Feed, lo, hi arrow.Date32, fr *FeedReport) error {
	p, err := j.newPassRun(ctx, feed, feed.Silver, fr) // the rejects of these dates are in quarantine already
	if err != nil {
		return err
	}
	defer p.close(ctx)
	p.keepDay = func(d arrow.Date32) bool { return d >= lo && d <= hi }
	tr, err := newTransformer(p)
	if err != nil {
		return err
	}
	fresh(tr) // dedup within the rebuilt rows only: the old rows are being replaced
	bronzeTbl, err := j.cat.Load(ctx, feed.Bronze)
	if err != nil {
		return err
	}
	if err := p.finish(p.readArrivals(p.stage.Context(), bronzeTbl, lo-1, hi+31, tr)); err != nil {
		return err
	}
	props := iceberg.Properties{ledger.PropJob: schema.JobRebuild, ledger.PropRunID: j.o.RunID}
	return p.commitEach(ctx, func(cur *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		old, err := datafile.DataFiles(ctx, cur, datafile.OnDates(schema.ColEventDate, lo, hi))
		if err != nil {
			return err
		}
		return datafile.Replace(ctx, tx, old, files, props)
	})
}

// fresh empties the transformer's key indexes of existing silver keys.
func fresh(tr transformer) {
	for _, k := range tr.indexes() {
		k.tables = nil
	}
}

// readArrivals reads the bronze partitions of arrival days lo..hi in
// arrival order (partition, then file).
func (p *passRun) readArrivals(ctx context.Context, tbl *table.Table, lo, hi arrow.Date32, tr transformer) error {
	tasks, err := tbl.Scan(table.WithRowFilter(datafile.OnDates(schema.ColLandingDate, lo, hi))).PlanFiles(ctx)
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
