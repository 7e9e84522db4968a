package quality

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Committer is what recording needs of the catalog.
type Committer interface {
	Catalog
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

// Run identifies the job run that evaluated checks.
type Run struct {
	ID  string
	Job string // ingest, quality, daily or backfill (backfill results are not history)
	At  time.Time
}

// Record appends results to ops.dq_results in one commit.
func Record(ctx context.Context, cat Committer, run Run, rs []Result) error {
	if len(rs) == 0 {
		return nil
	}
	return appendRows(ctx, cat, schema.DQResults, run, len(rs), func(b *rowBuilder, i int) {
		r := rs[i]
		b.date(r.Date)
		b.str(r.Check)
		b.str(r.Table)
		b.str(r.Partition)
		b.f64(r.Observed)
		b.f64(r.Low)
		b.f64(r.High)
		b.str(r.Expected)
		b.str(string(r.Status))
		b.opt(r.Detail)
		b.str(run.Job)
		b.str(run.ID)
		b.ts(run.At)
	})
}

// history returns the latest observation of check per "table|partition"
// on the dates given, from runs other than backfills.
func history(ctx context.Context, cat Catalog, check string, dates []time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	if len(dates) == 0 {
		return out, nil
	}
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, d := range dates {
		filter = iceberg.NewOr(filter, onDates("dq_date", d, d))
	}
	filter = iceberg.NewAnd(filter, iceberg.EqualTo(iceberg.Reference("check"), check))
	recs, err := batches(ctx, cat, schema.DQResults, filter, "table", "partition", "observed", "job", "checked_at", "check")
	if err != nil {
		return nil, err
	}
	at := map[string]int64{}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("scan ops.dq_results: %w", err)
		}
		tbl, part := column[*array.String](rec, "table"), column[*array.String](rec, "partition")
		obs, job := column[*array.Float64](rec, "observed"), column[*array.String](rec, "job")
		when, chk := column[*array.Timestamp](rec, "checked_at"), column[*array.String](rec, "check")
		for i := 0; i < int(rec.NumRows()); i++ {
			if job.Value(i) == "backfill" || chk.Value(i) != check || obs.IsNull(i) {
				continue
			}
			k := tbl.Value(i) + "|" + part.Value(i)
			if t := int64(when.Value(i)); t >= at[k] {
				at[k], out[k] = t, obs.Value(i)
			}
		}
		rec.Release()
	}
	return out, nil
}

// rowBuilder appends one row's columns in schema order.
type rowBuilder struct {
	f []array.Builder
	i int
}

func (b *rowBuilder) next() array.Builder { f := b.f[b.i]; b.i++; return f }
func (b *rowBuilder) str(v string)        { b.next().(*array.StringBuilder).Append(v) }
func (b *rowBuilder) opt(v string) {
	if v == "" {
		b.next().AppendNull()
		return
	}
	b.str(v)
}
func (b *rowBuilder) f64(v float64) {
	if math.IsNaN(v) {
		b.next().AppendNull()
		return
	}
	b.next().(*array.Float64Builder).Append(v)
}
func (b *rowBuilder) ts(v time.Time) {
	b.next().(*array.TimestampBuilder).Append(arrow.Timestamp(v.UnixMicro()))
}
func (b *rowBuilder) date(v time.Time) {
	b.next().(*array.Date32Builder).Append(arrow.Date32FromTime(v))
}

// appendRows commits n rows built by fill to t.
func appendRows(ctx context.Context, cat Committer, t schema.Table, run Run, n int, fill func(*rowBuilder, int)) error {
	_, err := cat.Commit(ctx, t, func(tbl *table.Table, tx *table.Transaction) error {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer rb.Release()
		for i := 0; i < n; i++ {
			b := &rowBuilder{f: rb.Fields()}
			fill(b, i)
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Append(ctx, rdr, map[string]string{catalog.PropJob: run.Job, catalog.PropRunID: run.ID})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	return nil
}
