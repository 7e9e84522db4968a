package decode

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// Limits that keep a corrupt or hostile file from exhausting memory.
const (
	maxAvroHeader = 16 << 20  // header metadata (schema text)
	maxAvroBlock  = 64 << 20  // one compressed block
	maxAvroData   = 256 << 20 // one decompressed block
)

var avroMagic = []byte("Obj\x01")

// ocfReader reads the framing of an Avro Object Container File: a header
// (magic, metadata map, sync marker) and blocks (count, size, data, sync).
// It does not decode records.
type ocfReader struct {
	br     *bufio.Reader
	off    int64 // bytes consumed
	meta   map[string][]byte
	sync   [16]byte
	codec  string
	frame  []byte // bytes of the current block frame, for resync
	data   []byte // compressed block data
	out    []byte // decompressed block
	zstd   *zstd.Decoder
	resync []byte // bytes consumed past a found sync marker, to re-read
}

// errFraming is a block whose frame is broken (resync needed).
var errFraming = errors.New("broken block framing")

func newOCFReader(r io.Reader) (*ocfReader, error) {
	o := &ocfReader{br: bufio.NewReaderSize(r, 1<<20)}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(o, magic); err != nil || !bytes.Equal(magic, avroMagic) {
		return nil, fmt.Errorf("%w: not an Avro object container file", ErrUnreadable)
	}
	meta, err := o.readMeta()
	if err != nil {
		return nil, fmt.Errorf("%w: Avro header: %w", ErrUnreadable, err)
	}
	if _, err := io.ReadFull(o, o.sync[:]); err != nil {
		return nil, fmt.Errorf("%w: Avro header: no sync marker: %w", ErrUnreadable, err)
	}
	o.meta = meta
	o.codec = string(meta["avro.codec"])
	switch o.codec {
	case "", "null", "deflate", "snappy":
	case "zstandard":
		if o.zstd, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxAvroData)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unsupported Avro codec %q", ErrUnreadable, o.codec)
	}
	return o, nil
}

func (o *ocfReader) close() {
	if o.zstd != nil {
		o.zstd.Close()
	}
}

// Read implements io.Reader over the remaining input, counting offsets.
func (o *ocfReader) Read(p []byte) (int, error) {
	if len(o.resync) > 0 {
		n := copy(p, o.resync)
		o.resync = o.resync[n:]
		o.off += int64(n)
		return n, nil
	}
	n, err := o.br.Read(p)
	o.off += int64(n)
	return n, err
}

func (o *ocfReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(o, b[:]); err != nil {
		return 0, err
	}
	o.frame = append(o.frame, b[0])
	return b[0], nil
}

func (o *ocfReader) readLong() (int64, error) {
	u, err := binary.ReadUvarint(o)
	if err != nil {
		return 0, err
	}
	return int64(u>>1) ^ -int64(u&1), nil // zig-zag
}

func (o *ocfReader) readBytes(max int64) ([]byte, error) {
	n, err := o.readLong()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > max {
		return nil, fmt.Errorf("length %d out of range", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(o, b)
	return b, err
}

func (o *ocfReader) readMeta() (map[string][]byte, error) {
	meta := map[string][]byte{}
	var total int64
	for {
		n, err := o.readLong()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return meta, nil
		}
		if n < 0 {
			n = -n
			if _, err := o.readLong(); err != nil { // block size, unused
				return nil, err
			}
		}
		for ; n > 0; n-- {
			k, err := o.readBytes(maxAvroHeader)
			if err != nil {
				return nil, err
			}
			v, err := o.readBytes(maxAvroHeader)
			if err != nil {
				return nil, err
			}
			if total += int64(len(k) + len(v)); total > maxAvroHeader {
				return nil, errors.New("metadata too large")
			}
			meta[string(k)] = v
		}
	}
}

// block is one block as read: its start offset, declared record count and
// decompressed data (valid until the next call).
type block struct {
	start int64
	count int64
	data  []byte
}

// next reads the next block. io.EOF means a clean end. errFraming means
// the frame at block.start is broken; call skipToSync to go on. Other
// errors are a truncated or unreadable remainder. A decompression failure
// is returned with an intact frame (the next block can be read).
func (o *ocfReader) next() (block, error) {
	o.frame = o.frame[:0]
	b := block{start: o.off}
	count, err := o.readLong()
	if errors.Is(err, io.EOF) && len(o.frame) == 0 {
		return b, io.EOF
	}
	if err != nil {
		return b, fmt.Errorf("%w: block count: %w", errFraming, err)
	}
	size, err := o.readLong()
	if err != nil {
		return b, fmt.Errorf("%w: block size: %w", errFraming, err)
	}
	if count < 0 || size < 0 || size > maxAvroBlock || count > size*8+8 {
		return b, fmt.Errorf("%w: implausible block (count %d, size %d)", errFraming, count, size)
	}
	b.count = count
	o.data = growTo(o.data, int(size))
	if _, err := io.ReadFull(o, o.data); err != nil {
		o.frame = append(o.frame, o.data...)
		return b, fmt.Errorf("%w: truncated block: %w", errFraming, err)
	}
	o.frame = append(o.frame, o.data...)
	var marker [16]byte
	n, err := io.ReadFull(o, marker[:])
	o.frame = append(o.frame, marker[:n]...)
	if err != nil || marker != o.sync {
		return b, fmt.Errorf("%w: sync marker missing after block", errFraming)
	}
	b.data, err = o.decompress(o.data)
	if err != nil {
		return b, fmt.Errorf("%s block: %w", o.codec, err)
	}
	return b, nil
}

// skipToSync discards input up to and including the next sync marker,
// searching from one byte past the broken block's start. It returns the
// bytes skipped (for the reject) and io.EOF if no marker follows.
func (o *ocfReader) skipToSync() ([]byte, error) {
	var skipped []byte
	if len(o.frame) > 0 {
		skipped = append(skipped, o.frame[0])
	}
	window := append([]byte(nil), o.frame[min(1, len(o.frame)):]...)
	for {
		if i := bytes.Index(window, o.sync[:]); i >= 0 {
			skipped = append(skipped, window[:i]...)
			rest := window[i+len(o.sync):]
			o.off -= int64(len(rest))
			o.resync = append(append([]byte(nil), rest...), o.resync...)
			return skipped, nil
		}
		keep := max(0, len(window)-len(o.sync)+1)
		skipped = append(skipped, window[:keep]...)
		if len(skipped) > MaxRawBytes {
			skipped = skipped[:MaxRawBytes]
		}
		window = window[keep:]
		var chunk [64 << 10]byte
		n, err := o.Read(chunk[:])
		window = append(window, chunk[:n]...)
		if n == 0 && err != nil {
			skipped = append(skipped, window...)
			return skipped, io.EOF
		}
	}
}

func (o *ocfReader) decompress(data []byte) ([]byte, error) {
	var err error
	switch o.codec {
	case "", "null":
		return data, nil
	case "deflate":
		fr := flate.NewReader(bytes.NewReader(data))
		o.out, err = readAllLimited(o.out[:0], fr, maxAvroData)
		return o.out, err
	case "snappy":
		if len(data) < 4 {
			return nil, errors.New("snappy block too short")
		}
		n, err := snappy.DecodedLen(data[:len(data)-4])
		if err != nil || n > maxAvroData {
			return nil, fmt.Errorf("snappy: bad length: %v", err)
		}
		o.out, err = snappy.Decode(growTo(o.out, n), data[:len(data)-4])
		if err != nil {
			return nil, err
		}
		if crc32.ChecksumIEEE(o.out) != binary.BigEndian.Uint32(data[len(data)-4:]) {
			return nil, errors.New("snappy: CRC mismatch")
		}
		return o.out, nil
	case "zstandard":
		o.out, err = o.zstd.DecodeAll(data, o.out[:0])
		return o.out, err
	}
	return nil, fmt.Errorf("codec %q", o.codec)
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func readAllLimited(dst []byte, r io.Reader, limit int) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	n, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if n > int64(limit) {
		return nil, fmt.Errorf("decompressed block over %d bytes", limit)
	}
	return buf.Bytes(), err
}
