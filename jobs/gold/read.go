package gold

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/schema"
)

// input is one table a build reads, as of the snapshot it reads.
type input struct {
	t    schema.Table
	tbl  *table.Table
	snap int64 // 0: the table had no snapshot
}

// paths returns the data files of the input's snapshot that may hold rows
// matching filter (nil: all of them), in path order so that reads are
// deterministic. Gold reads data files as they are, so a table with delete
// files is an error.
func (in input) paths(ctx context.Context, filter iceberg.BooleanExpression) ([]string, error) {
	if in.snap == 0 {
		return nil, nil
	}
	opts := []table.ScanOption{table.WithSnapshotID(in.snap)}
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	tasks, err := in.tbl.Scan(opts...).PlanFiles(ctx)
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

// dateRange is an inclusive range of event dates.
type dateRange struct{ lo, hi arrow.Date32 }

// inputRanges returns, for a gold table built for day, the event dates of
// each silver input it reads: the one statement of what a build reads,
// which Build's reads (span) and Stale's checks both derive from.
func inputRanges(t schema.Table, day arrow.Date32, w Windows) map[string]dateRange {
	clickDays, impDays := w.lookbackDays()
	switch t.Name {
	case schema.GoldBidFunnelDaily.Name:
		return map[string]dateRange{
			schema.SilverBidRequests.String(): {day, day},
			schema.SilverImpressions.String(): {day, day + 1},
		}
	default: // attributed_conversions, campaign_daily
		return map[string]dateRange{
			schema.SilverImpressions.String(): {day - arrow.Date32(impDays), day},
			schema.SilverClicks.String():      {day - arrow.Date32(clickDays), day},
			schema.SilverConversions.String(): {day, day},
		}
	}
}

// span returns the event dates of input t that the computation reads: the
// union of its ranges for the gold tables computed (with marts all three,
// else gold.attributed_conversions); ok is false when none reads t.
func (c *computation) span(t schema.Table) (r dateRange, ok bool) {
	built := schema.Gold()
	if !c.marts {
		built = []schema.Table{schema.GoldAttributedConversions}
	}
	for _, g := range built {
		x, in := inputRanges(g, c.day, c.o.Windows)[t.String()]
		switch {
		case !in:
		case !ok:
			r, ok = x, true
		default:
			r = dateRange{min(r.lo, x.lo), max(r.hi, x.hi)}
		}
	}
	return r, ok
}

// read streams the named columns of the files of input t with an
// event_date in its span to fn, file by file (in path order), batch by
// batch.
func (c *computation) read(ctx context.Context, t schema.Table, names []string, fn func(*cols) error) error {
	r, ok := c.span(t)
	if !ok {
		return fmt.Errorf("%s is not an input of the tables computed", t)
	}
	paths, err := c.ins[t.String()].paths(ctx, datafile.OnDates(schema.ColEventDate, r.lo, r.hi))
	if err != nil {
		return err
	}
	return c.readFiles(ctx, paths, names, fn)
}

// readFiles streams the named columns of the data files at paths to fn,
// batch by batch; fn's errors are wrapped with the file's path.
func (c *computation) readFiles(ctx context.Context, paths []string, names []string, fn func(*cols) error) error {
	o := datafile.ParquetRead{Columns: names, BatchRows: c.o.BatchRows, Parallel: true, Alloc: c.o.Alloc}
	for _, p := range paths {
		err := datafile.ReadParquet(ctx, c.fs, p, o, func(rec arrow.RecordBatch) error {
			if err := fn(newCols(rec)); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// cols binds the columns of a batch by name, with typed accessors that
// tolerate the encodings arrow-go may return. An accessor of a missing or
// mistyped column returns a zero (unusable) column and keeps the first
// such error in err: a reader binds all its columns, then checks err once,
// before reading any row.
type cols struct {
	rec arrow.RecordBatch
	idx map[string]int
	err error
}

func newCols(rec arrow.RecordBatch) *cols {
	c := &cols{rec: rec, idx: make(map[string]int, rec.NumCols())}
	for i, f := range rec.Schema().Fields() {
		c.idx[f.Name] = i
	}
	return c
}

// rows is the number of rows of the batch.
func (c *cols) rows() int { return int(c.rec.NumRows()) }

func (c *cols) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *cols) col(name string) arrow.Array {
	i, ok := c.idx[name]
	if !ok {
		c.fail(fmt.Errorf("column %s missing", name))
		return nil
	}
	return c.rec.Column(i)
}

// strCol is a string column of any Arrow string encoding.
type strCol interface {
	IsNull(int) bool
	Value(int) string
}

func (c *cols) str(name string) strCol {
	switch s := c.col(name).(type) {
	case *array.String:
		return s
	case *array.LargeString:
		return s
	case *array.StringView:
		return s
	case nil:
		return nil
	default:
		c.fail(fmt.Errorf("column %s is %s, not a string", name, s.DataType()))
		return nil
	}
}

// microsCol is a timestamp column read as microseconds since the epoch.
type microsCol struct {
	a   *array.Timestamp
	mul int64
	div int64
}

// Value is row i in microseconds since the Unix epoch.
func (m microsCol) Value(i int) int64 {
	v := int64(m.a.Value(i))
	return v * m.mul / m.div
}

// IsNull reports whether row i is null.
func (m microsCol) IsNull(i int) bool { return m.a.IsNull(i) }

func (c *cols) ts(name string) microsCol {
	t := colAs[*array.Timestamp](c, name)
	if t == nil {
		return microsCol{}
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
	return m
}

// colAs returns the column name as a T.
func colAs[T arrow.Array](c *cols, name string) T {
	var zero T
	a := c.col(name)
	if a == nil {
		return zero
	}
	t, ok := a.(T)
	if !ok {
		c.fail(fmt.Errorf("column %s is %s, not %T", name, a.DataType(), zero))
	}
	return t
}

// optStr is row i of s, unset when null.
func optStr(s strCol, i int) opt[string] {
	if s.IsNull(i) {
		return opt[string]{}
	}
	return some(s.Value(i))
}

// optF64 is row i of f, unset when null.
func optF64(f *array.Float64, i int) opt[float64] {
	if f.IsNull(i) {
		return opt[float64]{}
	}
	return some(f.Value(i))
}
