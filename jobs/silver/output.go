package silver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/schema"
)

// lineage is where a bronze row came from.
type lineage struct {
	file    string
	offset  int64
	day     arrow.Date32
	arrival time.Time // start of the arrival hour
}

// lineageCols reads lineage from a bronze batch.
type lineageCols struct {
	file   *array.String
	offset *array.Int64
	day    *array.Date32
	hour   *array.Int32
}

func bindLineage(rec arrow.RecordBatch) lineageCols {
	return lineageCols{
		file: col[*array.String](rec, schema.ColSourceFile), offset: col[*array.Int64](rec, schema.ColSourceOffset),
		day: col[*array.Date32](rec, schema.ColLandingDate), hour: col[*array.Int32](rec, schema.ColLandingHour),
	}
}

func (c lineageCols) at(i int) lineage {
	day := c.day.Value(i)
	return lineage{file: c.file.Value(i), offset: c.offset.Value(i), day: day,
		arrival: day.ToTime().Add(time.Duration(c.hour.Value(i)) * time.Hour)}
}

// col returns the top-level column name of rec, typed; nil when absent.
func col[T arrow.Array](rec arrow.RecordBatch, name string) T {
	var zero T
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return zero
	}
	a, _ := rec.Column(idx[0]).(T)
	return a
}

// text is a nullable string column, possibly inside a struct column.
type text struct {
	a      *array.String
	parent *array.Struct
}

// textCol resolves "name" or "struct.child" in rec.
func textCol(rec arrow.RecordBatch, path string) text {
	parent, child, nested := strings.Cut(path, ".")
	if !nested {
		return text{a: col[*array.String](rec, path)}
	}
	st := col[*array.Struct](rec, parent)
	if st == nil {
		return text{}
	}
	idx, ok := st.DataType().(*arrow.StructType).FieldIdx(child)
	if !ok {
		return text{}
	}
	a, _ := st.Field(idx).(*array.String)
	return text{a: a, parent: st}
}

// get returns the value of row i; "" when null or absent.
func (t text) get(i int) string {
	if t.a == nil || (t.parent != nil && t.parent.IsNull(i)) || t.a.IsNull(i) {
		return ""
	}
	return t.a.Value(i)
}

// rowJSON renders row i of rec as a JSON object (the raw of a silver reject).
func rowJSON(rec arrow.RecordBatch, i int) []byte {
	m := make(map[string]any, rec.NumCols())
	for c, f := range rec.Schema().Fields() {
		if !rec.Column(c).IsNull(i) {
			m[f.Name] = rec.Column(c).GetOneForMarshal(i)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// lineageNames are the lineage columns of every silver table, in the
// order appendLineage fills them.
var lineageNames = []string{schema.ColSourceFile, schema.ColSourceOffset, schema.ColLandingDate, schema.ColRunID, schema.ColIngestedAt}

// bind resolves, by name, the columns a transformer fills (in its order)
// and the lineage columns; the table's other columns (added by schema
// evolution) are appended null. It returns the builders of names. A name
// the table lacks is an error: silver's declaration and the table disagree.
func (s *sink) bind(names ...string) ([]array.Builder, error) {
	if s.cols != nil {
		return s.cols[:len(names)], nil
	}
	sc := s.b.Schema()
	used := map[int]bool{}
	for _, n := range append(append([]string(nil), names...), lineageNames...) {
		idx := sc.FieldIndices(n)
		if len(idx) != 1 {
			return nil, fmt.Errorf("%s has no column %s", s.t, n)
		}
		used[idx[0]] = true
		s.cols = append(s.cols, s.b.Field(idx[0]))
	}
	for i, f := range sc.Fields() {
		if used[i] {
			continue
		}
		if !f.Nullable {
			return nil, fmt.Errorf("%s: required column %s is not filled by silver", s.t, f.Name)
		}
		s.rest = append(s.rest, s.b.Field(i))
	}
	return s.cols[:len(names)], nil
}

// appendLineage closes a silver row whose bound columns were appended: it
// appends the lineage columns and nulls for the unbound ones.
func (p *passRun) appendLineage(s *sink, l lineage) error {
	f := s.cols[len(s.cols)-len(lineageNames):]
	f[0].(*array.StringBuilder).Append(l.file)
	f[1].(*array.Int64Builder).Append(l.offset)
	f[2].(*array.Date32Builder).Append(l.day)
	f[3].(*array.StringBuilder).Append(p.j.o.RunID)
	f[4].(*array.TimestampBuilder).Append(arrow.Timestamp(p.at.UnixMicro()))
	for _, b := range s.rest {
		b.AppendNull()
	}
	s.rows++
	p.fr.Valid[s.name]++
	p.observe(l, schema.OutcomeAccepted, "")
	if f[0].Len() >= p.j.o.BatchRows {
		return p.flush(s)
	}
	return nil
}

func (p *passRun) flush(s *sink) error {
	if s.b.Field(0).Len() == 0 {
		return nil
	}
	rec := s.b.NewRecordBatch()
	if !s.on {
		rec.Release()
		return nil
	}
	return p.stage.Send(s.k, rec)
}

func (p *passRun) flushQuarantine() error {
	rec := p.qb.Batch()
	if rec == nil {
		return nil
	}
	if !p.qOn {
		rec.Release()
		return nil
	}
	return p.stage.Send(p.q, rec)
}

func (p *passRun) flushAll() error {
	for _, s := range p.allSinks() {
		if err := p.flush(s); err != nil {
			return err
		}
	}
	return p.flushQuarantine()
}

// reject quarantines row i of the bronze batch rec.
func (p *passRun) reject(rec arrow.RecordBatch, i int, l lineage, reason, detail string) error {
	p.fr.Rejected[reason]++
	p.observe(l, schema.OutcomeRejected, reason)
	if !p.qOn {
		return nil
	}
	one := int64(1)
	row := schema.QuarantineRow{Feed: p.feed.Name, SourceFile: l.file, Offset: &l.offset, Records: &one, Stage: schema.StageSilver,
		Reason: reason, Detail: detail, LandingDate: l.arrival, RunID: p.j.o.RunID, At: p.at}
	row.SetRaw(rowJSON(rec, i), false)
	if err := p.qb.Add(&row); err != nil {
		return err
	}
	if p.qb.Len() >= 4096 {
		return p.flushQuarantine()
	}
	return nil
}

// duplicate counts a row dropped as a duplicate by key kind.
func (p *passRun) duplicate(l lineage, kind string) {
	p.fr.Duplicates[kind]++
	p.observe(l, schema.OutcomeDuplicate, kind)
}

// skip tells whether row l is outside a replay's selection.
func (p *passRun) skip(l lineage) bool { return p.only != nil && !p.only(l) }

// Builder helpers for silver rows.

func setStr(b array.Builder, v string) { b.(*array.StringBuilder).Append(v) }

func optStr(b array.Builder, v string) {
	if v == "" {
		b.AppendNull()
	} else {
		b.(*array.StringBuilder).Append(v)
	}
}

func optF64(b array.Builder, v float64, ok bool) {
	if ok {
		b.(*array.Float64Builder).Append(v)
	} else {
		b.AppendNull()
	}
}

func optI64(b array.Builder, v int64, ok bool) {
	if ok {
		b.(*array.Int64Builder).Append(v)
	} else {
		b.AppendNull()
	}
}

func setTime(b array.Builder, day array.Builder, t time.Time) {
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
	day.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
}

func setBool(b array.Builder, v bool) { b.(*array.BooleanBuilder).Append(v) }

// ctxCheck is how often transformers look at the context.
const ctxCheck = 4096

func checkCtx(ctx context.Context, i int) error {
	if i%ctxCheck == 0 {
		return ctx.Err()
	}
	return nil
}
