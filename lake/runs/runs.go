// Package runs is the run ledger, ops.runs: one row per finished job run and
// feed, written at the end of the run. It is the operators' history ("what
// ran, on what, with what result"); exactly-once does not depend on it (the
// snapshot ledger in package catalog does that), so a run killed before
// writing its row is visible in table snapshots but not here.
package runs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Record is one row of ops.runs.
type Record struct {
	RunID, Job, Feed, Status    string
	Started, Finished           time.Time
	WindowStart, WindowEnd      time.Time // zero: none
	Files, FilesUnreadable      int64
	BytesIn, RowsIn, RowsOut    int64
	RowsRejected, RowsDuplicate int64
	Commits                     int64
	Error, Version              string
	// Inputs is what the run read, as JSON (gold: silver table -> snapshot
	// id); "" for none.
	Inputs string
}

// Statuses.
const (
	StatusOK      = "ok"
	StatusPartial = "partial" // finished, but some files were quarantined whole
	StatusFailed  = "failed"
)

// Committer is what Append needs of the catalog.
type Committer interface {
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

// Append writes records in one commit.
func Append(ctx context.Context, cat Committer, alloc memory.Allocator, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	_, err := cat.Commit(ctx, schema.Runs, func(tbl *table.Table, tx *table.Transaction) error {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		rec := build(alloc, sc, recs)
		defer rec.Release()
		rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Append(ctx, rdr, map[string]string{catalog.PropJob: recs[0].Job, catalog.PropRunID: recs[0].RunID})
	})
	if err != nil {
		return fmt.Errorf("ops.runs: %w", err)
	}
	return nil
}

func build(alloc memory.Allocator, sc *arrow.Schema, recs []Record) arrow.RecordBatch {
	b := array.NewRecordBuilder(alloc, sc)
	defer b.Release()
	f := b.Fields()
	str := func(i int, v string) { f[i].(*array.StringBuilder).Append(v) }
	ts := func(i int, v time.Time) {
		if v.IsZero() {
			f[i].AppendNull()
		} else {
			f[i].(*array.TimestampBuilder).Append(arrow.Timestamp(v.UnixMicro()))
		}
	}
	num := func(i int, v int64) { f[i].(*array.Int64Builder).Append(v) }
	opt := func(i int, v string) {
		if v == "" {
			f[i].AppendNull()
		} else {
			str(i, v)
		}
	}
	for _, r := range recs {
		str(0, r.RunID)
		str(1, r.Job)
		str(2, r.Feed)
		str(3, r.Status)
		ts(4, r.Started)
		ts(5, r.Finished)
		ts(6, r.WindowStart)
		ts(7, r.WindowEnd)
		for i, v := range []int64{r.Files, r.FilesUnreadable, r.BytesIn, r.RowsIn, r.RowsOut, r.RowsRejected, r.RowsDuplicate, r.Commits} {
			num(8+i, v)
		}
		opt(16, r.Error)
		opt(17, r.Version)
		opt(18, r.Inputs)
	}
	return b.NewRecordBatch()
}

// Loader is what Recent needs of the catalog.
type Loader interface {
	Load(ctx context.Context, t schema.Table) (*table.Table, error)
}

// Recent returns the last n records by finish time, newest first.
func Recent(ctx context.Context, cat Loader, n int) ([]Record, error) {
	tbl, err := cat.Load(ctx, schema.Runs)
	if err != nil {
		return nil, err
	}
	_, batches, err := tbl.Scan().ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan ops.runs: %w", err)
	}
	var out []Record
	for rec, err := range batches {
		if err != nil {
			return nil, fmt.Errorf("scan ops.runs: %w", err)
		}
		out = append(out, decodeBatch(rec)...)
		rec.Release()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Finished.After(out[j].Finished) })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func decodeBatch(rec arrow.RecordBatch) []Record {
	col := func(name string) arrow.Array { return rec.Column(rec.Schema().FieldIndices(name)[0]) }
	str := func(name string, i int) string {
		c := col(name).(*array.String)
		if c.IsNull(i) {
			return ""
		}
		return c.Value(i)
	}
	ts := func(name string, i int) time.Time {
		c := col(name).(*array.Timestamp)
		if c.IsNull(i) {
			return time.Time{}
		}
		return time.UnixMicro(int64(c.Value(i))).UTC()
	}
	num := func(name string, i int) int64 { return col(name).(*array.Int64).Value(i) }
	out := make([]Record, rec.NumRows())
	for i := range out {
		out[i] = Record{
			RunID: str("run_id", i), Job: str("job", i), Feed: str("feed", i), Status: str("status", i),
			Started: ts("started_at", i), Finished: ts("finished_at", i),
			WindowStart: ts("window_start", i), WindowEnd: ts("window_end", i),
			Files: num("files", i), FilesUnreadable: num("files_unreadable", i), BytesIn: num("bytes_in", i),
			RowsIn: num("rows_in", i), RowsOut: num("rows_out", i), RowsRejected: num("rows_rejected", i),
			RowsDuplicate: num("rows_duplicate", i), Commits: num("commits", i),
			Error: str("error", i), Version: str("version", i), Inputs: str("inputs", i),
		}
	}
	return out
}
