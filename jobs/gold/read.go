package gold

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// input is one silver table as of the snapshot a build reads.
type input struct {
	t    schema.Table
	tbl  *table.Table
	snap int64 // 0: the table had no snapshot
}

// files returns the data files of the partitions event_date lo..hi of the
// input's snapshot (partition pruning on the identity partition), in path
// order so that reads are deterministic.
func (in input) files(ctx context.Context, lo, hi arrow.Date32) ([]string, error) {
	if in.snap == 0 {
		return nil, nil
	}
	filter := iceberg.NewAnd(
		iceberg.GreaterThanEqual(iceberg.Reference(schema.ColEventDate), iceberg.Date(lo)),
		iceberg.LessThanEqual(iceberg.Reference(schema.ColEventDate), iceberg.Date(hi)))
	tasks, err := in.tbl.Scan(table.WithSnapshotID(in.snap), table.WithRowFilter(filter)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", in.t, err)
	}
	out := make([]string, 0, len(tasks))
	for _, t := range tasks {
		if len(t.DeleteFiles) > 0 {
			return nil, fmt.Errorf("%s: %s has delete files, which gold does not read", in.t, t.File.FilePath())
		}
		out = append(out, t.File.FilePath())
	}
	sort.Strings(out)
	return out, nil
}

// cols gives a batch's columns by name, with typed accessors that tolerate
// the encodings arrow-go may return.
type cols struct {
	rec arrow.RecordBatch
	idx map[string]int
}

type strCol interface {
	IsNull(int) bool
	Value(int) string
}

func (c cols) col(name string) (arrow.Array, error) {
	i, ok := c.idx[name]
	if !ok {
		return nil, fmt.Errorf("column %s missing", name)
	}
	return c.rec.Column(i), nil
}

func (c cols) str(name string) (strCol, error) {
	a, err := c.col(name)
	if err != nil {
		return nil, err
	}
	switch s := a.(type) {
	case *array.String:
		return s, nil
	case *array.LargeString:
		return s, nil
	case *array.StringView:
		return s, nil
	}
	return nil, fmt.Errorf("column %s is %s, not a string", name, a.DataType())
}

// micros returns a timestamp column as microseconds since the epoch.
type microsCol struct {
	a   *array.Timestamp
	mul int64
	div int64
}

func (m microsCol) Value(i int) int64 {
	v := int64(m.a.Value(i))
	return v * m.mul / m.div
}
func (m microsCol) IsNull(i int) bool { return m.a.IsNull(i) }

func (c cols) ts(name string) (microsCol, error) {
	a, err := c.col(name)
	if err != nil {
		return microsCol{}, err
	}
	t, ok := a.(*array.Timestamp)
	if !ok {
		return microsCol{}, fmt.Errorf("column %s is %s, not a timestamp", name, a.DataType())
	}
	m := microsCol{a: t, mul: 1, div: 1}
	switch t.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		m.mul = 1e6
	case arrow.Millisecond:
		m.mul = 1e3
	case arrow.Nanosecond:
		m.div = 1e3
	}
	return m, nil
}

func typed[T arrow.Array](c cols, name string) (T, error) {
	var zero T
	a, err := c.col(name)
	if err != nil {
		return zero, err
	}
	t, ok := a.(T)
	if !ok {
		return zero, fmt.Errorf("column %s is %s, not %T", name, a.DataType(), zero)
	}
	return t, nil
}

// readFiles streams the named columns of every file, batch by batch.
func readFiles(ctx context.Context, fs icebergio.IO, paths []string, names []string, alloc memory.Allocator, batchRows int, fn func(cols) error) error {
	for _, p := range paths {
		if err := readFile(ctx, fs, p, names, alloc, batchRows, fn); err != nil {
			return err
		}
	}
	return nil
}

func readFile(ctx context.Context, fs icebergio.IO, path string, names []string, alloc memory.Allocator, batchRows int, fn func(cols) error) error {
	o := catalog.ParquetRead{Columns: names, BatchRows: batchRows, Parallel: true, Alloc: alloc}
	return catalog.ReadParquet(ctx, fs, path, o, func(rec arrow.RecordBatch) error {
		c := cols{rec: rec, idx: map[string]int{}}
		for i, f := range rec.Schema().Fields() {
			c.idx[f.Name] = i
		}
		if err := fn(c); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
}

func (c cols) rows() int { return int(c.rec.NumRows()) }
