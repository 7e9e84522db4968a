package decode

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/schema"
)

// ClicksConversions decodes RFC 4180 CSV (header row, comma, `"` quoting)
// into rows of bronze.clicks_conversions. Columns are mapped by header name
// (trimmed, case-insensitive), so their order may change; columns the
// contract does not name go to _extra. Empty fields are null.
//
// A row is malformed when its field count differs from the header's, its
// quoting is broken, or it is not valid UTF-8.
type ClicksConversions struct {
	opts    Options
	columns []string // contract columns, in bronze order
}

// NewClicksConversions returns a decoder for the given contract columns,
// which must be top-level string columns of the bronze schema.
func NewClicksConversions(columns []string, o Options) *ClicksConversions {
	return &ClicksConversions{opts: o.withDefaults(), columns: columns}
}

// Decode reads r to the end.
func (d *ClicksConversions) Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src Source, emit Emitter) (Stats, error) {
	return decodeWith(sc, src, emit, d.opts, func(bt *batcher, st *Stats) error {
		return d.decode(ctx, r, bt, st)
	})
}

func (d *ClicksConversions) decode(ctx context.Context, r io.Reader, bt *batcher, st *Stats) (err error) {
	emit := bt.emit
	cols := make([]*array.StringBuilder, len(d.columns))
	for i, c := range d.columns {
		if cols[i], err = field[*array.StringBuilder](bt, c); err != nil {
			return err
		}
	}
	rec := &recorder{r: r}
	cr := csv.NewReader(rec)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil // an empty file holds no records
	}
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrUnreadable, err)
	}
	m := d.mapHeader(header)
	st.Drift = m.drift(d.columns, header)
	rec.discard(cr.InputOffset())
	for {
		if st.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := cr.InputOffset()
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		end := cr.InputOffset()
		off, raw := rec.record(start, end)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			err = reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed, Detail: "CSV: " + pe.Err.Error(), Raw: raw})
		case err != nil:
			return fmt.Errorf("%w: after byte %d: %w", ErrUnreadable, start, err)
		case len(fields) != len(header):
			err = reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed,
				Detail: fmt.Sprintf("row has %d fields, header has %d", len(fields), len(header)), Raw: raw})
		case end-start > MaxRecordBytes:
			err = reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed,
				Detail: fmt.Sprintf("row longer than %d bytes", MaxRecordBytes), Raw: raw})
		case !validUTF8(fields):
			err = reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed, Detail: "not valid UTF-8", Raw: raw})
		default:
			m.appendRow(cols, fields)
			err = bt.endRow(off, m.extra(fields))
			st.Rows++
		}
		if err != nil {
			return err
		}
		rec.discard(end)
	}
	return nil
}

// headerMap maps file columns to contract columns.
type headerMap struct {
	known      []int    // known[i] = file column of contract column i, or -1
	extraCols  []int    // file columns the contract does not name
	extraNames [][]byte // their names, JSON-quoted
	buf        []byte
}

func (d *ClicksConversions) mapHeader(header []string) *headerMap {
	m := &headerMap{known: make([]int, len(d.columns))}
	for i := range m.known {
		m.known[i] = -1
	}
	byName := make(map[string]int, len(d.columns))
	for i, c := range d.columns {
		byName[c] = i
	}
	for j, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if i, ok := byName[name]; ok && m.known[i] < 0 {
			m.known[i] = j
			continue
		}
		q, _ := json.Marshal(strings.TrimSpace(h)) // strings always marshal
		m.extraCols = append(m.extraCols, j)
		m.extraNames = append(m.extraNames, q)
	}
	return m
}

// drift names the header's columns the contract lacks, and the contract's
// the header lacks.
func (m *headerMap) drift(columns, header []string) schema.Drift {
	var d schema.Drift
	for _, j := range m.extraCols {
		d.New = schema.AddName(d.New, strings.TrimSpace(header[j]))
	}
	for i, j := range m.known {
		if j < 0 {
			d.Missing = schema.AddName(d.Missing, columns[i])
		}
	}
	return d
}

func (m *headerMap) appendRow(cols []*array.StringBuilder, fields []string) {
	for i, j := range m.known {
		if j < 0 || fields[j] == "" {
			cols[i].AppendNull()
		} else {
			cols[i].Append(fields[j])
		}
	}
}

// extra returns the JSON object of the non-contract columns of a row, or
// nil when there are none or all are empty.
func (m *headerMap) extra(fields []string) []byte {
	m.buf = m.buf[:0]
	for k, j := range m.extraCols {
		if fields[j] == "" {
			continue
		}
		if len(m.buf) == 0 {
			m.buf = append(m.buf, '{')
		} else {
			m.buf = append(m.buf, ',')
		}
		m.buf = append(m.buf, m.extraNames[k]...)
		m.buf = append(m.buf, ':')
		q, _ := json.Marshal(fields[j])
		m.buf = append(m.buf, q...)
	}
	if len(m.buf) == 0 {
		return nil
	}
	return append(m.buf, '}')
}

func validUTF8(fields []string) bool {
	for _, f := range fields {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// recorder keeps the bytes read through it from offset base on, so the raw
// text of a CSV record can be recovered from the reader's input offsets.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// record returns the offset and raw bytes of the record in [start, end),
// without the blank lines csv skips before it or the line end after it.
func (c *recorder) record(start, end int64) (int64, []byte) {
	lo, hi := start-c.base, end-c.base
	if lo < 0 || hi > int64(len(c.buf)) || lo > hi {
		return start, nil
	}
	raw := c.buf[lo:hi]
	trimmed := bytes.TrimLeft(raw, "\r\n")
	start += int64(len(raw) - len(trimmed))
	return start, bytes.TrimRight(trimmed, "\r\n")
}

// discard forgets the bytes before offset upTo.
func (c *recorder) discard(upTo int64) {
	n := upTo - c.base
	if n <= 0 || n > int64(len(c.buf)) {
		return
	}
	rest := copy(c.buf, c.buf[n:])
	c.buf = c.buf[:rest]
	c.base = upTo
}
