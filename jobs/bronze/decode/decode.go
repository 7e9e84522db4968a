// Package decode turns the bytes of one landing file into Arrow record
// batches of its bronze table, and into rejects for what cannot be parsed.
//
// Contract of every decoder (checked by the fuzz targets):
//   - It never panics and never returns a partial row: a record is either
//     appended whole to the batch or reported as one Reject.
//   - Output is in file order. Batches carry the lineage columns of
//     schema.Lineage filled from the Source.
//   - The returned error is non-nil only when the rest of the file cannot be
//     read at all (corrupt gzip, not Avro, truncated stream); it wraps
//     ErrUnreadable. Rows and rejects emitted before it stay valid: the
//     caller quarantines the unreadable remainder, it drops nothing.
//   - Every landing record is counted exactly once: in Stats.Rows (a row),
//     or in the Records of a Reject.
package decode

import (
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/advertisex/adlake/schema"
)

// ErrUnreadable marks a file (or its remainder) that cannot be read.
var ErrUnreadable = errors.New("unreadable file")

// Reason codes of bronze-stage rejects.
const (
	ReasonMalformed  = "malformed"       // a record that does not parse
	ReasonUnreadable = "unreadable_file" // a file, or its remainder, that cannot be read
)

// MaxRecordBytes bounds one text record (a JSON line, a CSV row); longer
// records are rejected as malformed. MaxRawBytes bounds the raw bytes kept
// with a reject.
const (
	MaxRecordBytes = 4 << 20
	MaxRawBytes    = 1 << 20
)

// Source identifies the landing file being decoded.
type Source struct {
	Key        string    // landing key, relative to the landing root
	Hour       time.Time // arrival hour (dt/hr)
	RunID      string
	IngestedAt time.Time
}

// Reject is one record, or span of a file, that could not be parsed.
type Reject struct {
	Offset  int64  // as _source_offset; -1 for the whole file
	Records int64  // landing records it stands for; 0 when unknown
	Reason  string // ReasonMalformed or ReasonUnreadable
	Detail  string
	Raw     []byte // at most MaxRawBytes; valid only during the Reject call
	Binary  bool   // Raw is binary (to be stored base64)
}

// Emitter receives a decoder's output in file order.
type Emitter interface {
	// Batch takes ownership of rec (the callee releases it).
	Batch(rec arrow.RecordBatch) error
	Reject(r Reject) error
}

// Stats counts what one file held.
type Stats struct {
	Rows     int64 // records appended to batches
	Rejected int64 // landing records inside rejects (where known)
	Rejects  int64 // Reject calls
	Blank    int64 // blank lines (JSON) skipped; they are no records
	// Drift is how the file's fields differ from the contract: CSV header
	// columns, Avro writer schema fields (against contract v1), JSON keys
	// seen. Set by every decoder that could read the file's fields.
	Drift schema.Drift
}

// Options tune the decoders. The zero value is usable.
type Options struct {
	// BatchRows is the number of rows per emitted batch (default 8192).
	BatchRows int
	// Alloc allocates the batches (default memory.DefaultAllocator).
	Alloc memory.Allocator
}

func (o Options) withDefaults() Options {
	if o.BatchRows <= 0 {
		o.BatchRows = 8192
	}
	if o.Alloc == nil {
		o.Alloc = memory.DefaultAllocator
	}
	return o
}

// batcher accumulates rows of one bronze table and emits full batches.
type batcher struct {
	b       *array.RecordBuilder
	rows    int
	max     int
	emit    Emitter
	src     Source
	lineage [len(lineageCols)]array.Builder
	day     arrow.Date32
	ingest  arrow.Timestamp
}

var lineageCols = [...]string{schema.ColExtra, schema.ColSourceFile, schema.ColSourceOffset,
	schema.ColLandingDate, schema.ColLandingHour, schema.ColRunID, schema.ColIngestedAt}

func newBatcher(sc *arrow.Schema, src Source, emit Emitter, o Options) (*batcher, error) {
	bt := &batcher{
		b: array.NewRecordBuilder(o.Alloc, sc), max: o.BatchRows, emit: emit, src: src,
		day:    arrow.Date32FromTime(src.Hour),
		ingest: arrow.Timestamp(src.IngestedAt.UnixMicro()),
	}
	for i, name := range lineageCols {
		idx := sc.FieldIndices(name)
		if len(idx) != 1 {
			bt.b.Release()
			return nil, fmt.Errorf("bronze schema has no lineage column %s", name)
		}
		bt.lineage[i] = bt.b.Field(idx[0])
	}
	return bt, nil
}

// field returns the builder of a top-level column, typed.
func field[T array.Builder](bt *batcher, name string) (T, error) {
	var zero T
	idx := bt.b.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return zero, fmt.Errorf("bronze schema has no column %s", name)
	}
	f, ok := bt.b.Field(idx[0]).(T)
	if !ok {
		return zero, fmt.Errorf("column %s: unexpected builder %T", name, bt.b.Field(idx[0]))
	}
	return f, nil
}

// endRow closes a row whose data columns were appended: it appends the
// lineage columns and emits a batch when full.
func (bt *batcher) endRow(offset int64, extra []byte) error {
	if extra == nil {
		bt.lineage[0].AppendNull()
	} else {
		bt.lineage[0].(*array.StringBuilder).BinaryBuilder.Append(extra)
	}
	bt.lineage[1].(*array.StringBuilder).Append(bt.src.Key)
	bt.lineage[2].(*array.Int64Builder).Append(offset)
	bt.lineage[3].(*array.Date32Builder).Append(bt.day)
	bt.lineage[4].(*array.Int32Builder).Append(int32(bt.src.Hour.Hour()))
	bt.lineage[5].(*array.StringBuilder).Append(bt.src.RunID)
	bt.lineage[6].(*array.TimestampBuilder).Append(bt.ingest)
	bt.rows++
	if bt.rows >= bt.max {
		return bt.flush()
	}
	return nil
}

func (bt *batcher) flush() error {
	if bt.rows == 0 {
		return nil
	}
	rec := bt.b.NewRecordBatch()
	bt.rows = 0
	return bt.emit.Batch(rec)
}

// complete reports whether every column holds exactly the rows ended so
// far: false only when a row was cut off half-appended (a decoder panic).
func (bt *batcher) complete() bool {
	for _, f := range bt.b.Fields() {
		if f.Len() != bt.rows {
			return false
		}
	}
	return true
}

// decodeWith runs body, a decoder's loop over one file, with a batcher of
// sc, and keeps the package contract at every exit:
//   - rows appended before the end of the file, or before the point where
//     the rest of it turned unreadable, are emitted (the unflushed batch
//     included): the rows before damage are valid and reach bronze;
//   - a panic in third-party code facing hostile input becomes an
//     ErrUnreadable remainder, never a crash of the batch;
//   - an error of the emitter or the context is returned as it is (the
//     caller abandons the chunk, so nothing needs emitting).
func decodeWith(sc *arrow.Schema, src Source, emit Emitter, o Options, body func(bt *batcher, st *Stats) error) (st Stats, err error) {
	bt, err := newBatcher(sc, src, emit, o)
	if err != nil {
		return st, err
	}
	defer bt.release()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: decoder failed: %v", ErrUnreadable, p)
		}
		if err != nil && !errors.Is(err, ErrUnreadable) {
			return
		}
		if !bt.complete() {
			// A half-appended row cannot be emitted; the rows of this batch
			// are lost, and reconciliation (records decoded against rows
			// committed) reports them.
			return
		}
		if ferr := bt.flush(); ferr != nil {
			err = ferr
		}
	}()
	err = body(bt, &st)
	return st, err
}

func (bt *batcher) release() { bt.b.Release() }

// reject sends r with Raw capped at MaxRawBytes.
func reject(emit Emitter, st *Stats, r Reject) error {
	if len(r.Raw) > MaxRawBytes {
		r.Detail += fmt.Sprintf(" (raw truncated from %d bytes)", len(r.Raw))
		r.Raw = r.Raw[:MaxRawBytes]
	}
	st.Rejects++
	st.Rejected += r.Records
	return emit.Reject(r)
}
