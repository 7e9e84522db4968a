package silver

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// ReplayFilter selects the quarantine rows to replay. Empty fields match all.
type ReplayFilter struct {
	Feed, Reason string
}

// ReplayReport counts what a replay did, by feed and outcome.
type ReplayReport struct {
	Feeds    map[string]map[string]int64 // feed -> outcome -> rows
	Selected int64                       // open quarantine rows selected
}

type rowKey struct {
	file   string
	offset int64
}

// Replay re-submits open silver-stage quarantine rows (those without an
// ops.replays row) to the current silver rules: it re-reads the original
// bronze records, derives silver from them exactly as ingest does, commits
// the accepted ones to silver, and records every outcome in ops.replays.
//
// A record is never in silver twice: replayed records go through the same
// deduplication as ingestion, so a replay that crashed after its silver
// commit and is run again records those records as duplicates. Bronze-stage
// rejects (records that do not parse) are not replayable by this command.
func Replay(ctx context.Context, cat Catalog, o Options, f ReplayFilter) (ReplayReport, error) {
	o = o.withDefaults()
	rep := ReplayReport{Feeds: map[string]map[string]int64{}}
	open, err := openQuarantine(ctx, cat, f)
	if err != nil {
		return rep, err
	}
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return rep, err
	}
	for _, feed := range o.Feeds {
		sel := open[feed]
		if len(sel) == 0 {
			continue
		}
		rep.Selected += int64(len(sel))
		outcomes, err := j.replayFeed(ctx, feed, sel)
		if err != nil {
			return rep, fmt.Errorf("replay %s: %w", feed, err)
		}
		rep.Feeds[feed] = outcomes
	}
	return rep, nil
}

// openQuarantine returns the open silver-stage quarantine rows matching f,
// by feed, with their reason.
func openQuarantine(ctx context.Context, cat Catalog, f ReplayFilter) (map[string]map[rowKey]string, error) {
	done := map[string]map[rowKey]bool{}
	if err := scanTable(ctx, cat, schema.Replays, []string{"feed", "source_file", "source_offset"}, func(rec arrow.RecordBatch, i int) {
		feed := str(rec, 0, i)
		if done[feed] == nil {
			done[feed] = map[rowKey]bool{}
		}
		done[feed][rowKey{str(rec, 1, i), rec.Column(2).(*array.Int64).Value(i)}] = true
	}); err != nil {
		return nil, err
	}
	open := map[string]map[rowKey]string{}
	err := scanTable(ctx, cat, schema.Quarantine, []string{"feed", "source_file", "source_offset", "stage", "reason"}, func(rec arrow.RecordBatch, i int) {
		feed, reason := str(rec, 0, i), str(rec, 4, i)
		if str(rec, 3, i) != "silver" || (f.Feed != "" && feed != f.Feed) || (f.Reason != "" && reason != f.Reason) {
			return
		}
		k := rowKey{str(rec, 1, i), rec.Column(2).(*array.Int64).Value(i)}
		if done[feed][k] {
			return
		}
		if open[feed] == nil {
			open[feed] = map[rowKey]string{}
		}
		open[feed][k] = reason
	})
	return open, err
}

func (j *job) replayFeed(ctx context.Context, feed string, sel map[rowKey]string) (map[string]int64, error) {
	fr := &FeedReport{Feed: feed, Valid: map[string]int64{}, Rejected: map[string]int64{}, Duplicates: map[string]int64{}}
	p, err := j.newPassRun(ctx, feed, targets[feed], fr)
	if err != nil {
		return nil, err
	}
	defer p.release()
	type result struct{ outcome, newReason string }
	results := map[rowKey]result{}
	p.only = func(l lineage) bool {
		_, ok := sel[rowKey{l.file, l.offset}]
		return ok
	}
	p.observe = func(l lineage, outcome, reason string) {
		r := result{outcome: outcome}
		if outcome == OutcomeRejected {
			r.newReason = reason
		}
		results[rowKey{l.file, l.offset}] = r
	}
	tr, err := newTransformer(p)
	if err != nil {
		return nil, err
	}
	bronzeTbl, err := j.cat.Load(ctx, schema.Bronze[feed])
	if err != nil {
		return nil, err
	}
	if err := p.finish(ctx, bronzeTbl, readBronzeRows(p.ctx, bronzeTbl, sel, tr)); err != nil {
		return nil, err
	}
	props := iceberg.Properties{catalog.PropJob: "replay", catalog.PropRunID: j.o.RunID}
	for _, t := range targets[feed] {
		s := p.sinks[t.Name]
		if _, err := j.cat.Commit(ctx, t, func(_ *table.Table, tx *table.Transaction) error {
			return catalog.AddFiles(ctx, tx, s.files, props)
		}); err != nil {
			p.removeAll(ctx, bronzeTbl)
			return nil, err
		}
		j.o.AfterCommit(t)
	}
	out := map[string]int64{}
	recs := make([]replayRow, 0, len(sel))
	for k, reason := range sel {
		r, ok := results[k]
		if !ok {
			return nil, fmt.Errorf("quarantine row %s@%d has no bronze record", k.file, k.offset)
		}
		out[r.outcome]++
		recs = append(recs, replayRow{feed: feed, key: k, reason: reason, outcome: r.outcome, newReason: r.newReason})
	}
	return out, appendReplays(ctx, j, recs)
}

// readBronzeRows streams the bronze batches holding the selected records
// (pruned by source file) through the transformer, which skips the others.
func readBronzeRows(ctx context.Context, tbl *table.Table, sel map[rowKey]string, tr transformer) error {
	files := map[string]bool{}
	for k := range sel {
		files[k.file] = true
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	filter := iceberg.IsIn(iceberg.Reference(schema.ColSourceFile), names...)
	_, batches, err := tbl.Scan(table.WithRowFilter(filter)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scan %s: %w", tbl.Identifier(), err)
	}
	for rec, err := range batches {
		if err != nil {
			return fmt.Errorf("scan %s: %w", tbl.Identifier(), err)
		}
		err := tr.batch(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

type replayRow struct {
	feed            string
	key             rowKey
	reason, outcome string
	newReason       string
}

func appendReplays(ctx context.Context, j *job, recs []replayRow) error {
	if len(recs) == 0 {
		return nil
	}
	_, err := j.cat.Commit(ctx, schema.Replays, func(tbl *table.Table, tx *table.Transaction) error {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		b := array.NewRecordBuilder(j.o.Alloc, sc)
		defer b.Release()
		f := b.Fields()
		now := arrow.Timestamp(j.o.Now().UnixMicro())
		for _, r := range recs {
			setStr(f[0], r.feed)
			setStr(f[1], r.key.file)
			f[2].(*array.Int64Builder).Append(r.key.offset)
			setStr(f[3], r.reason)
			setStr(f[4], r.outcome)
			optStr(f[5], r.newReason)
			setStr(f[6], j.o.RunID)
			f[7].(*array.TimestampBuilder).Append(now)
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Append(ctx, rdr, iceberg.Properties{catalog.PropJob: "replay", catalog.PropRunID: j.o.RunID})
	})
	if err == nil {
		j.o.AfterCommit(schema.Replays)
	}
	return err
}
