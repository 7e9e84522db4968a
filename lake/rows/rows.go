// Package rows moves Go structs to and from the rows of adlake's tables by
// column name, against a table's actual schema: the one way ops tables
// (and gold's marts) are written and read.
//
// A row type is a struct whose fields carry `col:"name"` tags. Writing
// binds each tagged field to the column of that name (an error when the
// table lacks it); columns the struct does not name are appended null (an
// error when they are required). Because binding is by name, a column
// added to a table (at the end, optional, as schema evolution does) breaks
// neither writers nor readers of an older row type.
//
// Field types and nulls: string (an empty string is null in an optional
// column), []byte (into a string column; nil is null), int64, int32, bool
// and their pointers (nil is null), float64 (NaN is null), time.Time for
// timestamp and date columns (the zero time is null). A null in a required
// column is an error.
package rows

import (
	"context"
	"fmt"
	"iter"
	"math"
	"reflect"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/schema"
)

// tagged is one `col`-tagged field of a row type.
type tagged struct {
	col   string
	index int
	typ   reflect.Type
}

// fieldsOf lists the tagged fields of struct type t.
func fieldsOf(t reflect.Type) ([]tagged, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("rows: %s is not a struct", t)
	}
	var out []tagged
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := f.Tag.Get("col"); name != "" {
			out = append(out, tagged{col: name, index: i, typ: f.Type})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rows: %s has no col-tagged field", t)
	}
	return out, nil
}

// Builder accumulates rows of type T into record batches of one Arrow
// schema. It is not safe for concurrent use.
type Builder[T any] struct {
	b    *array.RecordBuilder
	put  []func(reflect.Value) error // by tagged field
	idx  []int                       // struct field index of each put
	rest []array.Builder             // columns T does not name
	n    int
}

var timeType = reflect.TypeOf(time.Time{})

// NewBuilder returns a builder of T rows for the Arrow schema sc (the
// Arrow form of a table's current schema). It fails when a tagged field
// has no column of its name, or a type the column cannot take, or when a
// required column is not named by T.
func NewBuilder[T any](alloc memory.Allocator, sc *arrow.Schema) (*Builder[T], error) {
	fields, err := fieldsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	rb := array.NewRecordBuilder(alloc, sc)
	b := &Builder[T]{b: rb}
	named := map[int]bool{}
	for _, f := range fields {
		i := sc.FieldIndices(f.col)
		if len(i) != 1 {
			rb.Release()
			return nil, fmt.Errorf("rows: %s has no column %s", reflect.TypeFor[T](), f.col)
		}
		put, err := setter(rb.Field(i[0]), sc.Field(i[0]), f.typ)
		if err != nil {
			rb.Release()
			return nil, err
		}
		named[i[0]] = true
		b.put = append(b.put, put)
		b.idx = append(b.idx, f.index)
	}
	for i, f := range sc.Fields() {
		if named[i] {
			continue
		}
		if !f.Nullable {
			rb.Release()
			return nil, fmt.Errorf("rows: required column %s is not a field of %s", f.Name, reflect.TypeFor[T]())
		}
		b.rest = append(b.rest, rb.Field(i))
	}
	return b, nil
}

// Add appends one row. An error (a null in a required column) leaves the
// row half-appended: the builder must then be released, not used further.
func (b *Builder[T]) Add(r *T) error {
	v := reflect.ValueOf(r).Elem()
	for k, put := range b.put {
		if err := put(v.Field(b.idx[k])); err != nil {
			return err
		}
	}
	for _, c := range b.rest {
		c.AppendNull()
	}
	b.n++
	return nil
}

// Len is the number of rows added since the last batch.
func (b *Builder[T]) Len() int { return b.n }

// Schema is the Arrow schema of the batches.
func (b *Builder[T]) Schema() *arrow.Schema { return b.b.Schema() }

// Batch returns the rows added since the last batch (the caller releases
// it); nil when there are none.
func (b *Builder[T]) Batch() arrow.RecordBatch {
	if b.n == 0 {
		return nil
	}
	b.n = 0
	return b.b.NewRecordBatch()
}

// Release frees the builder.
func (b *Builder[T]) Release() { b.b.Release() }

// errNull is a null for a required column.
func errNull(f arrow.Field) error { return fmt.Errorf("rows: column %s is required, got null", f.Name) }

// setter returns the function appending a Go value of type gt to col.
func setter(col array.Builder, f arrow.Field, gt reflect.Type) (func(reflect.Value) error, error) {
	null := func() error {
		if !f.Nullable {
			return errNull(f)
		}
		col.AppendNull()
		return nil
	}
	ptr := gt.Kind() == reflect.Pointer
	elem := gt
	if ptr {
		elem = gt.Elem()
	}
	deref := func(v reflect.Value) (reflect.Value, bool) {
		if ptr {
			if v.IsNil() {
				return v, false
			}
			return v.Elem(), true
		}
		return v, true
	}
	bad := fmt.Errorf("rows: column %s (%s) cannot take a %s", f.Name, f.Type, gt)
	switch c := col.(type) {
	case *array.StringBuilder:
		switch {
		case elem.Kind() == reflect.String:
			return func(v reflect.Value) error {
				v, ok := deref(v)
				if !ok || (v.String() == "" && f.Nullable) {
					return null()
				}
				c.Append(v.String())
				return nil
			}, nil
		case elem.Kind() == reflect.Slice && elem.Elem().Kind() == reflect.Uint8 && !ptr:
			return func(v reflect.Value) error {
				if v.IsNil() {
					return null()
				}
				c.BinaryBuilder.Append(v.Bytes())
				return nil
			}, nil
		}
	case *array.Int64Builder:
		if elem.Kind() == reflect.Int64 || elem.Kind() == reflect.Int {
			return func(v reflect.Value) error {
				if v, ok := deref(v); ok {
					c.Append(v.Int())
					return nil
				}
				return null()
			}, nil
		}
	case *array.Int32Builder:
		if elem.Kind() == reflect.Int32 {
			return func(v reflect.Value) error {
				if v, ok := deref(v); ok {
					c.Append(int32(v.Int()))
					return nil
				}
				return null()
			}, nil
		}
	case *array.Float64Builder:
		if elem.Kind() == reflect.Float64 {
			return func(v reflect.Value) error {
				v, ok := deref(v)
				if !ok || math.IsNaN(v.Float()) {
					return null()
				}
				c.Append(v.Float())
				return nil
			}, nil
		}
	case *array.BooleanBuilder:
		if elem.Kind() == reflect.Bool {
			return func(v reflect.Value) error {
				if v, ok := deref(v); ok {
					c.Append(v.Bool())
					return nil
				}
				return null()
			}, nil
		}
	case *array.TimestampBuilder:
		unit := f.Type.(*arrow.TimestampType).Unit
		if elem == timeType && !ptr {
			return func(v reflect.Value) error {
				t := v.Interface().(time.Time)
				if t.IsZero() {
					return null()
				}
				ts, err := arrow.TimestampFromTime(t, unit)
				if err != nil {
					return fmt.Errorf("rows: column %s: %w", f.Name, err)
				}
				c.Append(ts)
				return nil
			}, nil
		}
	case *array.Date32Builder:
		if elem == timeType && !ptr {
			return func(v reflect.Value) error {
				t := v.Interface().(time.Time)
				if t.IsZero() {
					return null()
				}
				c.Append(arrow.Date32FromTime(t))
				return nil
			}, nil
		}
	}
	return nil, bad
}

// Committer commits to a table (a *catalog.Catalog).
type Committer interface {
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

// Append commits rs to t in one commit whose snapshot summary is props.
// The rows are built against t's schema as of each commit attempt.
// Nothing is committed for no rows.
func Append[T any](ctx context.Context, cat Committer, t schema.Table, rs []T, props iceberg.Properties) error {
	if len(rs) == 0 {
		return nil
	}
	_, err := cat.Commit(ctx, t, func(tbl *table.Table, tx *table.Transaction) error {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		b, err := NewBuilder[T](memory.DefaultAllocator, sc)
		if err != nil {
			return err
		}
		defer b.Release()
		for i := range rs {
			if err := b.Add(&rs[i]); err != nil {
				return err
			}
		}
		rec := b.Batch()
		defer rec.Release()
		rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		return tx.Append(ctx, rdr, props)
	})
	if err != nil {
		return fmt.Errorf("append to %s: %w", t, err)
	}
	return nil
}

// Decode returns the rows of rec as T values, fields bound by column name:
// a tagged field whose column rec lacks keeps its zero value, a null
// becomes the field type's null (see the package doc).
func Decode[T any](rec arrow.RecordBatch) ([]T, error) {
	fields, err := fieldsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	out := make([]T, rec.NumRows())
	for _, f := range fields {
		idx := rec.Schema().FieldIndices(f.col)
		if len(idx) != 1 {
			continue
		}
		get, err := getter(rec.Column(idx[0]), f.typ)
		if err != nil {
			return nil, fmt.Errorf("rows: column %s: %w", f.col, err)
		}
		for i := range out {
			get(i, reflect.ValueOf(&out[i]).Elem().Field(f.index))
		}
	}
	return out, nil
}

// getter returns the function setting a Go value of type gt from row i of
// col.
func getter(col arrow.Array, gt reflect.Type) (func(i int, dst reflect.Value), error) {
	ptr := gt.Kind() == reflect.Pointer
	set := func(dst reflect.Value, v reflect.Value) {
		if ptr {
			p := reflect.New(gt.Elem())
			p.Elem().Set(v.Convert(gt.Elem()))
			dst.Set(p)
			return
		}
		dst.Set(v.Convert(gt))
	}
	elem := gt
	if ptr {
		elem = gt.Elem()
	}
	nullable := func(f func(i int, dst reflect.Value)) func(int, reflect.Value) {
		return func(i int, dst reflect.Value) {
			if col.IsNull(i) {
				if elem.Kind() == reflect.Float64 && !ptr {
					dst.SetFloat(math.NaN())
				}
				return
			}
			f(i, dst)
		}
	}
	switch c := col.(type) {
	case *array.String:
		if elem.Kind() == reflect.String {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
		if elem.Kind() == reflect.Slice && elem.Elem().Kind() == reflect.Uint8 && !ptr {
			return nullable(func(i int, dst reflect.Value) { dst.SetBytes([]byte(c.Value(i))) }), nil
		}
	case *array.LargeString:
		if elem.Kind() == reflect.String {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
	case *array.Int64:
		if elem.Kind() == reflect.Int64 || elem.Kind() == reflect.Int {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
	case *array.Int32:
		if elem.Kind() == reflect.Int32 {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
	case *array.Float64:
		if elem.Kind() == reflect.Float64 {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
	case *array.Boolean:
		if elem.Kind() == reflect.Bool {
			return nullable(func(i int, dst reflect.Value) { set(dst, reflect.ValueOf(c.Value(i))) }), nil
		}
	case *array.Timestamp:
		if elem == timeType && !ptr {
			unit := c.DataType().(*arrow.TimestampType).Unit
			return nullable(func(i int, dst reflect.Value) {
				dst.Set(reflect.ValueOf(c.Value(i).ToTime(unit).UTC()))
			}), nil
		}
	case *array.Date32:
		if elem == timeType && !ptr {
			return nullable(func(i int, dst reflect.Value) { dst.Set(reflect.ValueOf(c.Value(i).ToTime().UTC())) }), nil
		}
	}
	return nil, fmt.Errorf("a %s column cannot fill a %s", col.DataType(), gt)
}

// Columns returns the columns T names that tbl has: what a scan for T
// needs to read.
func Columns[T any](tbl *table.Table) ([]string, error) {
	fields, err := fieldsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fields {
		if _, ok := tbl.Schema().FindFieldByName(f.col); ok {
			out = append(out, f.col)
		}
	}
	return out, nil
}

// Scan yields the rows of tbl's current snapshot that match filter (nil:
// all) as T values, reading only the columns T names. A table without a
// snapshot yields nothing.
func Scan[T any](ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if tbl.CurrentSnapshot() == nil {
			return
		}
		cols, err := Columns[T](tbl)
		if err != nil {
			yield(zero, err)
			return
		}
		opts := []table.ScanOption{table.WithSelectedFields(cols...)}
		if filter != nil {
			opts = append(opts, table.WithRowFilter(filter))
		}
		_, batches, err := tbl.Scan(opts...).ToArrowRecords(ctx)
		if err != nil {
			yield(zero, fmt.Errorf("scan %s: %w", tbl.Identifier(), err))
			return
		}
		for rec, err := range batches {
			if err != nil {
				yield(zero, fmt.Errorf("scan %s: %w", tbl.Identifier(), err))
				return
			}
			rs, err := Decode[T](rec)
			rec.Release()
			if err != nil {
				yield(zero, err)
				return
			}
			for _, r := range rs {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// Collect gathers a Scan into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for r, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
