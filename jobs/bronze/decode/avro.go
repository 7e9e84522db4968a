package decode

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/hamba/avro/v2"

	"github.com/advertisex/adlake/schema"
)

// BidRequests decodes Avro Object Container Files of bid requests (writer
// schema contract v1 or v2, codecs null, deflate, snappy, zstandard) into
// rows of bronze.bid_requests. Records are decoded straight into typed
// structs (never through maps), with the file's own writer schema; fields a
// writer schema lacks are null. `_writer_schema` records v1, v2, or
// other:<fingerprint> for a schema that is neither.
//
// A block that cannot be decompressed or decoded is rejected whole (its
// record count is known from the frame); a block whose frame is broken is
// rejected and the reader resynchronizes on the file's sync marker.
type BidRequests struct {
	opts  Options
	api   avro.API
	known map[[32]byte]string
	// contract is the v1 contract's flattened fields; drift caches the
	// diff of each writer schema seen, by fingerprint.
	contract map[string]string
	drift    map[[32]byte]schema.Drift
}

// NewBidRequests returns a decoder; it is not safe for concurrent use.
func NewBidRequests(o Options) (*BidRequests, error) {
	d := &BidRequests{
		opts: o.withDefaults(),
		// Caps keep corrupt length prefixes from allocating gigabytes.
		api:   avro.Config{MaxByteSliceSize: 4 << 20, MaxSliceAllocSize: 1 << 20}.Freeze(),
		known: map[[32]byte]string{},
		drift: map[[32]byte]schema.Drift{},
	}
	for _, v := range []int{1, 2} {
		text, err := schema.BidRequestContract(v)
		if err != nil {
			return nil, err
		}
		sc, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
		if err != nil {
			return nil, fmt.Errorf("contract v%d: %w", v, err)
		}
		d.known[sc.Fingerprint()] = fmt.Sprintf("v%d", v)
		if v == 1 {
			d.contract = map[string]string{}
			avroFields(sc, "", d.contract)
		}
	}
	return d, nil
}

// Decode reads one container file to the end.
func (d *BidRequests) Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src Source, emit Emitter) (Stats, error) {
	return decodeWith(sc, src, emit, d.opts, func(bt *batcher, st *Stats) error {
		return d.decode(ctx, r, bt, st)
	})
}

func (d *BidRequests) decode(ctx context.Context, r io.Reader, bt *batcher, st *Stats) error {
	emit := bt.emit
	o, err := newOCFReader(r)
	if err != nil {
		return err
	}
	defer o.close()
	writer, err := avro.ParseWithCache(string(o.meta["avro.schema"]), "", &avro.SchemaCache{})
	if err != nil {
		return fmt.Errorf("%w: Avro writer schema: %w", ErrUnreadable, err)
	}
	version, ok := d.known[writer.Fingerprint()]
	if !ok {
		fp := writer.Fingerprint()
		version = "other:" + hex.EncodeToString(fp[:8])
	}
	st.Drift = d.writerDrift(writer)
	cols, err := bidBuilders(bt)
	if err != nil {
		return err
	}
	var ordinal int64
	var rec schema.BidRequest
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		blk, err := o.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errFraming) {
			skipped, serr := o.skipToSync()
			detail := fmt.Sprintf("Avro block at byte %d: %v; skipped %d bytes to the next sync marker", blk.start, err, len(skipped))
			if serr != nil {
				detail = fmt.Sprintf("Avro block at byte %d: %v; no sync marker follows", blk.start, err)
			}
			if err := reject(emit, st, Reject{Offset: ordinal, Reason: ReasonMalformed, Detail: detail, Raw: skipped, Binary: true}); err != nil {
				return err
			}
			if serr != nil {
				break
			}
			continue
		}
		if err != nil {
			if err := reject(emit, st, Reject{Offset: ordinal, Records: blk.count, Reason: ReasonMalformed,
				Detail: fmt.Sprintf("Avro block at byte %d (%d records): %v", blk.start, blk.count, err), Raw: o.data, Binary: true}); err != nil {
				return err
			}
			ordinal += blk.count
			continue
		}
		dec := d.api.NewDecoder(writer, bytes.NewReader(blk.data))
		for i := int64(0); i < blk.count; i++ {
			rec = schema.BidRequest{}
			if err := dec.Decode(&rec); err != nil {
				if err := reject(emit, st, Reject{Offset: ordinal + i, Records: blk.count - i, Reason: ReasonMalformed,
					Detail: fmt.Sprintf("Avro block at byte %d: record %d of %d: %v", blk.start, i, blk.count, err),
					Raw:    blk.data, Binary: true}); err != nil {
					return err
				}
				break
			}
			cols.append(&rec, version)
			if err := bt.endRow(ordinal+i, nil); err != nil {
				return err
			}
			st.Rows++
		}
		ordinal += blk.count
	}
	return nil
}

// writerDrift is the drift of a writer schema against contract v1.
func (d *BidRequests) writerDrift(writer avro.Schema) schema.Drift {
	fp := writer.Fingerprint()
	if dr, ok := d.drift[fp]; ok {
		return dr
	}
	fields := map[string]string{}
	avroFields(writer, "", fields)
	dr := avroDrift(d.contract, fields)
	d.drift[fp] = dr
	return dr
}
