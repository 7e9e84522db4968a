// Package quarantine builds rows of ops.quarantine: every record adlake
// rejects, with its reason, where it came from and its raw bytes, so it can
// be inspected and replayed. Rows are never dropped: a rejected record ends
// up either here or (after replay) in its table.
package quarantine

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Row is one quarantined record or file.
type Row struct {
	Feed, SourceFile string
	Offset           int64 // <0: none (whole file)
	Records          int64 // <=0: unknown
	Stage, Reason    string
	Detail           string
	Raw              []byte
	Binary           bool // Raw is stored base64
	LandingHour      time.Time
	RunID            string
	At               time.Time
}

// Builder accumulates rows into Arrow batches of the ops.quarantine schema.
// It is not safe for concurrent use.
type Builder struct {
	sc   *arrow.Schema
	b    *array.RecordBuilder
	cols []array.Builder
	n    int
}

// NewBuilder returns a Builder for the Arrow form of ice, the current
// schema of ops.quarantine (schema.Quarantine or an evolution of it that
// keeps its leading columns).
func NewBuilder(alloc memory.Allocator, ice *iceberg.Schema) (*Builder, error) {
	sc, err := table.SchemaToArrowSchema(ice, nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("quarantine schema: %w", err)
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(alloc, sc)
	return &Builder{sc: sc, b: b, cols: b.Fields()}, nil
}

// Schema returns the Arrow schema of the batches.
func (q *Builder) Schema() *arrow.Schema { return q.sc }

// Len returns the rows added since the last batch.
func (q *Builder) Len() int { return q.n }

// Add appends one row. The column order is that of schema.Quarantine.
func (q *Builder) Add(r Row) {
	s := func(i int, v string) { q.cols[i].(*array.StringBuilder).Append(v) }
	optS := func(i int, v string) {
		if v == "" {
			q.cols[i].AppendNull()
		} else {
			s(i, v)
		}
	}
	optI := func(i int, v int64, ok bool) {
		if ok {
			q.cols[i].(*array.Int64Builder).Append(v)
		} else {
			q.cols[i].AppendNull()
		}
	}
	s(0, r.Feed)
	s(1, r.SourceFile)
	optI(2, r.Offset, r.Offset >= 0)
	optI(3, r.Records, r.Records > 0)
	s(4, r.Stage)
	s(5, r.Reason)
	optS(6, r.Detail)
	switch {
	case r.Raw == nil:
		q.cols[7].AppendNull()
	case r.Binary:
		s(7, base64.StdEncoding.EncodeToString(r.Raw))
	default:
		q.cols[7].(*array.StringBuilder).BinaryBuilder.Append(r.Raw)
	}
	if r.Binary {
		s(8, "base64")
	} else {
		s(8, "text")
	}
	q.cols[9].(*array.Date32Builder).Append(arrow.Date32FromTime(r.LandingHour))
	s(10, r.RunID)
	q.cols[11].(*array.TimestampBuilder).Append(arrow.Timestamp(r.At.UnixMicro()))
	q.n++
}

// Batch returns the rows added so far as a batch (the caller releases it)
// and starts a new one; nil when there are none.
func (q *Builder) Batch() arrow.RecordBatch {
	if q.n == 0 {
		return nil
	}
	q.n = 0
	return q.b.NewRecordBatch()
}

// Release frees the builder.
func (q *Builder) Release() { q.b.Release() }
