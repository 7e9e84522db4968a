package decode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/valyala/fastjson"

	"github.com/advertisex/adlake/schema"
)

// Impressions decodes newline-delimited JSON impressions into rows of
// bronze.impressions. Each line is parsed once (fastjson); known fields go
// to typed columns, unknown fields (at the top level or inside site, device
// and geo) go to _extra as a JSON object with dotted keys.
//
// A line is malformed when it is not valid UTF-8 or JSON, not an object, or
// a known field has a type its column cannot hold (an object where a string
// is expected, a non-integer price). Strings accept JSON numbers (kept as
// their text); `ts` keeps numbers as digits.
type Impressions struct {
	opts Options
	p    fastjson.Parser
	row  impressionRow
}

// NewImpressions returns a decoder; it is not safe for concurrent use.
func NewImpressions(o Options) *Impressions { return &Impressions{opts: o.withDefaults()} }

type textField struct {
	v     []byte
	valid bool
}

type impressionRow struct {
	impressionID, ts, userID, creativeID, requestID, currency textField
	siteSet, deviceSet, geoSet                                bool
	siteDomain, sitePage                                      textField
	devType, devUA, devIP                                     textField
	geoCountry, geoRegion                                     textField
	price                                                     int64
	priceValid                                                bool
	extra                                                     []byte
	newKeys                                                   []string // extra keys seen in the file (drift), kept across rows
	err                                                       error
}

type impressionCols struct {
	id, ts, user, creative, request, currency *array.StringBuilder
	site, device, geo                         *array.StructBuilder
	siteDomain, sitePage                      *array.StringBuilder
	devType, devUA, devIP                     *array.StringBuilder
	geoCountry, geoRegion                     *array.StringBuilder
	price                                     *array.Int64Builder
}

func impressionBuilders(bt *batcher) (c impressionCols, err error) {
	get := func(name string) *array.StringBuilder {
		b, e := field[*array.StringBuilder](bt, name)
		err = errors.Join(err, e)
		return b
	}
	getStruct := func(name string) *array.StructBuilder {
		b, e := field[*array.StructBuilder](bt, name)
		err = errors.Join(err, e)
		return b
	}
	c.id, c.ts, c.user, c.creative = get("impression_id"), get("ts"), get("user_id"), get("creative_id")
	c.request, c.currency = get("request_id"), get("currency")
	c.site, c.device, c.geo = getStruct("site"), getStruct("device"), getStruct("geo")
	c.price, err = field[*array.Int64Builder](bt, "win_price_cpm_micros")
	if err != nil {
		return c, err
	}
	child := func(s *array.StructBuilder, i int) *array.StringBuilder {
		return s.FieldBuilder(i).(*array.StringBuilder)
	}
	c.siteDomain, c.sitePage = child(c.site, 0), child(c.site, 1)
	c.devType, c.devUA, c.devIP = child(c.device, 0), child(c.device, 1), child(c.device, 2)
	c.geoCountry, c.geoRegion = child(c.geo, 0), child(c.geo, 1)
	return c, nil
}

// Decode reads r to the end, emitting batches of sc (the bronze.impressions
// Arrow schema) and rejects.
func (d *Impressions) Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src Source, emit Emitter) (Stats, error) {
	d.row.newKeys = nil
	st, err := decodeWith(sc, src, emit, d.opts, func(bt *batcher, st *Stats) error {
		return d.decode(ctx, r, bt, st)
	})
	st.Drift.New = d.row.newKeys
	return st, err
}

func (d *Impressions) decode(ctx context.Context, r io.Reader, bt *batcher, st *Stats) error {
	emit := bt.emit
	cols, err := impressionBuilders(bt)
	if err != nil {
		return err
	}
	lr := newLineReader(r)
	for {
		if st.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, off, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			if err := reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed,
				Detail: fmt.Sprintf("line longer than %d bytes", MaxRecordBytes), Raw: line}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: after byte %d: %w", ErrUnreadable, off, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			st.Blank++
			continue
		}
		if detail := d.parse(line); detail != "" {
			if err := reject(emit, st, Reject{Offset: off, Records: 1, Reason: ReasonMalformed, Detail: detail, Raw: line}); err != nil {
				return err
			}
			continue
		}
		d.row.appendTo(&cols)
		if err := bt.endRow(off, d.row.extra); err != nil {
			return err
		}
		st.Rows++
	}
	return nil
}

// parse fills d.row from one line, or returns why the line is malformed.
func (d *Impressions) parse(line []byte) string {
	if !utf8.Valid(line) {
		return "not valid UTF-8"
	}
	v, err := d.p.ParseBytes(line)
	if err != nil {
		return "invalid JSON: " + err.Error()
	}
	obj, err := v.Object()
	if err != nil {
		return "not a JSON object"
	}
	row := &d.row
	*row = impressionRow{extra: row.extra[:0], newKeys: row.newKeys}
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if row.err != nil {
			return
		}
		switch string(k) {
		case "impression_id":
			row.impressionID, row.err = text(k, v)
		case "ts":
			row.ts, row.err = text(k, v)
		case "user_id":
			row.userID, row.err = text(k, v)
		case "creative_id":
			row.creativeID, row.err = text(k, v)
		case "request_id":
			row.requestID, row.err = text(k, v)
		case "currency":
			row.currency, row.err = text(k, v)
		case "win_price_cpm_micros":
			row.price, row.priceValid, row.err = integer(k, v)
		case "site":
			row.siteSet, row.err = nested(row, "site", v, [3]string{"domain", "page"}, [3]*textField{&row.siteDomain, &row.sitePage})
		case "device":
			row.deviceSet, row.err = nested(row, "device", v, [3]string{"type", "ua", "ip"}, [3]*textField{&row.devType, &row.devUA, &row.devIP})
		case "geo":
			row.geoSet, row.err = nested(row, "geo", v, [3]string{"country", "region"}, [3]*textField{&row.geoCountry, &row.geoRegion})
		default:
			row.addExtra(string(k), v)
		}
	})
	if row.err != nil {
		return row.err.Error()
	}
	if len(row.extra) > 0 {
		row.extra = append(row.extra, '}')
	} else {
		row.extra = nil
	}
	return ""
}

func (row *impressionRow) addExtra(key string, v *fastjson.Value) {
	row.newKeys = schema.AddName(row.newKeys, key)
	if len(row.extra) == 0 {
		row.extra = append(row.extra, '{')
	} else {
		row.extra = append(row.extra, ',')
	}
	k, _ := json.Marshal(key) // a string always marshals
	row.extra = append(row.extra, k...)
	row.extra = append(row.extra, ':')
	row.extra = v.MarshalTo(row.extra)
}

// nested reads an object of up to three string fields (keys[i] into
// dst[i]); unknown keys go to extras as "name.key". Null means absent.
func nested(row *impressionRow, name string, v *fastjson.Value, keys [3]string, dst [3]*textField) (bool, error) {
	if v.Type() == fastjson.TypeNull {
		return false, nil
	}
	obj, err := v.Object()
	if err != nil {
		return false, fmt.Errorf("field %s: want an object, got %s", name, v.Type())
	}
	var ferr error
	obj.Visit(func(k []byte, v *fastjson.Value) {
		if ferr != nil {
			return
		}
		for i, key := range keys {
			if key != "" && key == string(k) {
				*dst[i], ferr = text(k, v)
				if ferr != nil {
					ferr = fmt.Errorf("%s.%w", name, ferr)
				}
				return
			}
		}
		row.addExtra(name+"."+string(k), v)
	})
	return true, ferr
}

func text(k []byte, v *fastjson.Value) (textField, error) {
	switch v.Type() {
	case fastjson.TypeString:
		return textField{v: v.GetStringBytes(), valid: true}, nil
	case fastjson.TypeNumber:
		return textField{v: v.MarshalTo(nil), valid: true}, nil
	case fastjson.TypeNull:
		return textField{}, nil
	default:
		return textField{}, fmt.Errorf("field %s: want a string, got %s", k, v.Type())
	}
}

func integer(k []byte, v *fastjson.Value) (int64, bool, error) {
	switch v.Type() {
	case fastjson.TypeNull:
		return 0, false, nil
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, true, nil
		}
		f, err := v.Float64()
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true, nil
		}
	case fastjson.TypeString:
		if n, err := strconv.ParseInt(string(v.GetStringBytes()), 10, 64); err == nil {
			return n, true, nil
		}
	}
	return 0, false, fmt.Errorf("field %s: want an integer, got %s", k, v.MarshalTo(nil))
}

func appendText(b *array.StringBuilder, f textField) {
	if f.valid {
		b.BinaryBuilder.Append(f.v)
	} else {
		b.AppendNull()
	}
}

func (row *impressionRow) appendTo(c *impressionCols) {
	appendText(c.id, row.impressionID)
	appendText(c.ts, row.ts)
	appendText(c.user, row.userID)
	appendText(c.creative, row.creativeID)
	appendText(c.request, row.requestID)
	appendText(c.currency, row.currency)
	if row.priceValid {
		c.price.Append(row.price)
	} else {
		c.price.AppendNull()
	}
	c.site.Append(row.siteSet)
	appendText(c.siteDomain, row.siteDomain)
	appendText(c.sitePage, row.sitePage)
	c.device.Append(row.deviceSet)
	appendText(c.devType, row.devType)
	appendText(c.devUA, row.devUA)
	appendText(c.devIP, row.devIP)
	c.geo.Append(row.geoSet)
	appendText(c.geoCountry, row.geoCountry)
	appendText(c.geoRegion, row.geoRegion)
}

var errLineTooLong = errors.New("line too long")

// lineReader yields lines (without the newline) and their byte offsets.
type lineReader struct {
	br  *bufio.Reader
	off int64
	buf []byte
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{br: bufio.NewReaderSize(r, 256<<10)} }

// next returns the next line and its offset. A final line without newline
// is returned; io.EOF comes after it. A line over MaxRecordBytes is
// returned truncated with errLineTooLong, and the rest of it skipped.
func (l *lineReader) next() ([]byte, int64, error) {
	start := l.off
	l.buf = l.buf[:0]
	tooLong := false
	for {
		chunk, err := l.br.ReadSlice('\n')
		l.off += int64(len(chunk))
		if !tooLong {
			if len(l.buf)+len(chunk) > MaxRecordBytes {
				tooLong = true
				l.buf = append(l.buf, chunk[:MaxRecordBytes-len(l.buf)]...)
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if l.off == start {
				return nil, start, io.EOF
			}
		case err != nil:
			return nil, start, err
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(l.buf, []byte("\n")), []byte("\r"))
		if tooLong {
			return line, start, errLineTooLong
		}
		return line, start, nil
	}
}
