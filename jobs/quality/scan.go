package quality

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/schema"
)

// onDates is a row filter selecting event dates [from, to].
func onDates(col string, from, to time.Time) iceberg.BooleanExpression {
	return datafile.OnDates(col, arrow.Date32FromTime(from), arrow.Date32FromTime(to))
}

// files plans the data files of t matching filter (all when nil).
func files(ctx context.Context, cat catalog.Loader, t schema.Table, filter iceberg.BooleanExpression) ([]iceberg.DataFile, error) {
	tbl, err := cat.Load(ctx, t)
	if err != nil {
		return nil, err
	}
	return datafile.DataFiles(ctx, tbl, filter)
}

// batches streams the selected columns of t's rows matching filter.
func batches(ctx context.Context, cat catalog.Loader, t schema.Table, filter iceberg.BooleanExpression, cols ...string) (iter.Seq2[arrow.RecordBatch, error], error) {
	tbl, err := cat.Load(ctx, t)
	if err != nil {
		return nil, err
	}
	if tbl.CurrentSnapshot() == nil {
		return func(func(arrow.RecordBatch, error) bool) {}, nil
	}
	_, recs, err := tbl.Scan(table.WithRowFilter(filter), table.WithSelectedFields(cols...)).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", t, err)
	}
	return recs, nil
}

// fieldID is the ID of a top-level column of t.
func fieldID(t schema.Table, col string) (int, error) {
	f, ok := t.Schema.FindFieldByName(col)
	if !ok {
		return 0, fmt.Errorf("%s has no column %s", t, col)
	}
	return f.ID, nil
}

// newest is the largest upper bound of a timestamp column over files
// (zero when no file has one).
func newest(fs []iceberg.DataFile, id int) time.Time {
	var best int64
	found := false
	for _, f := range fs {
		b, ok := f.UpperBoundValues()[id]
		if !ok || len(b) != 8 {
			continue
		}
		if v := int64(binary.LittleEndian.Uint64(b)); !found || v > best {
			best, found = v, true
		}
	}
	if !found {
		return time.Time{}
	}
	return time.UnixMicro(best).UTC()
}

// column returns the column named name of rec (scans return the selected
// columns in schema order, not in the order asked).
func column[T arrow.Array](rec arrow.RecordBatch, name string) T {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		var zero T
		return zero
	}
	c, _ := rec.Column(idx[0]).(T)
	return c
}
