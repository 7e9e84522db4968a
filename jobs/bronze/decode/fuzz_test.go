package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hamba/avro/v2/ocf"

	"github.com/advertisex/adlake/schema"
)

// checkInvariants holds for any input: no panic (the fuzzer would report
// it), the only error is ErrUnreadable, batches are released, and the
// stats agree with what was emitted.
func checkInvariants(t *testing.T, c *collector, st Stats, err error, alloc *memory.CheckedAllocator) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrUnreadable) {
		t.Fatalf("error is not ErrUnreadable: %v", err)
	}
	if int64(len(c.rows)) != st.Rows || int64(len(c.rejects)) != st.Rejects {
		t.Fatalf("stats %+v disagree with %d rows, %d rejects", st, len(c.rows), len(c.rejects))
	}
	for _, r := range c.rejects {
		if r.Reason != ReasonMalformed || len(r.Raw) > MaxRawBytes {
			t.Fatalf("bad reject %+v", r)
		}
	}
	alloc.AssertSize(t, 0)
}

// breaking returns a reader of data that fails like a damaged gzip
// stream (io.ErrUnexpectedEOF) after cut bytes, or reads data whole when
// cut is beyond it; the fuzzers use it so that every invariant also holds
// for a stream that breaks part-way (rows decoded before the break are
// emitted, never dropped).
func breaking(data []byte, cut uint16) (io.Reader, bool) {
	if int(cut) >= len(data) {
		return bytes.NewReader(data), false
	}
	return io.MultiReader(bytes.NewReader(data[:cut]), iotestErr{io.ErrUnexpectedEOF}), true
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func FuzzImpressions(f *testing.F) {
	f.Add([]byte(`{"impression_id":"a","ts":1,"site":{"domain":"d","x":1}}`+"\n{bad\n"), uint16(0xffff))
	f.Add([]byte("\n\r\n[1]\n\"s\"\nnull\n"), uint16(0xffff))
	f.Add([]byte(`{"win_price_cpm_micros":1e400,"geo":{"country":{}}}`), uint16(0xffff))
	f.Add([]byte(`{"impression_id":"a"}`+"\n"+`{"impression_id":"b"}`+"\n"+`{"impression_id":"c"}`+"\n"+`{"impression_id":"d"}`+"\n"+`{"impression_id":"e"}`+"\n"), uint16(90))
	sc := arrowSchema(f, schema.BronzeImpressions)
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		c := &collector{}
		r, broken := breaking(data, cut)
		st, err := NewImpressions(Options{BatchRows: 3, Alloc: alloc}).Decode(context.Background(), r, sc, testSource, c)
		checkInvariants(t, c, st, err, alloc)
		if broken {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("a stream broken at byte %d: err = %v, want ErrUnreadable", cut, err)
			}
			if whole := int64(bytes.Count(data[:cut], []byte("\n"))); st.Rows+st.Rejects+st.Blank != whole {
				t.Fatalf("rows %d + rejects %d + blank %d != %d whole lines before the break", st.Rows, st.Rejects, st.Blank, whole)
			}
			return
		}
		lines := int64(bytes.Count(data, []byte("\n")))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if st.Rows+st.Rejects+st.Blank != lines {
			t.Fatalf("rows %d + rejects %d + blank %d != %d lines", st.Rows, st.Rejects, st.Blank, lines)
		}
	})
}

func FuzzClicksConversions(f *testing.F) {
	f.Add([]byte(strings.Join(schema.ClicksConversionsColumns, ",")+"\na,click,1,,,,,,,,,,\n\"x\n"), uint16(0xffff))
	f.Add([]byte("event_id\n\"a\"\"b\"\nc,d\n"), uint16(0xffff))
	f.Add([]byte("event_id\na\nb\nc\nd\ne\n"), uint16(17))
	sc := arrowSchema(f, schema.BronzeClicksConversions)
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		c := &collector{}
		r, _ := breaking(data, cut)
		st, err := NewClicksConversions(schema.ClicksConversionsColumns, Options{BatchRows: 3, Alloc: alloc}).
			Decode(context.Background(), r, sc, testSource, c)
		checkInvariants(t, c, st, err, alloc)
	})
}

func FuzzBidRequests(f *testing.F) {
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		file := writeOCF(f, 2, codec, 2, bidRecords(5))
		f.Add(file, uint16(0xffff))
		f.Add(file, uint16(len(file)-10))
	}
	f.Add([]byte("Obj\x01garbage"), uint16(0xffff))
	sc := arrowSchema(f, schema.BronzeBidRequests)
	d, err := NewBidRequests(Options{BatchRows: 3})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		d.opts.Alloc = alloc
		c := &collector{}
		r, _ := breaking(data, cut)
		st, err := d.Decode(context.Background(), r, sc, testSource, c)
		checkInvariants(t, c, st, err, alloc)
	})
}

// TestBidRequestsMutations is a deterministic complement to FuzzBidRequests:
// seeded byte flips, insertions of large varints and deletions, on files of
// every codec, must keep the decoder's invariants.
func TestBidRequestsMutations(t *testing.T) {
	sc := arrowSchema(t, schema.BronzeBidRequests)
	d, err := NewBidRequests(Options{BatchRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		seed := writeOCF(t, 2, codec, 2, bidRecords(5))
		for i := 0; i < 500; i++ {
			data := mutate(rng, seed)
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			d.opts.Alloc = alloc
			c := &collector{}
			st, err := d.Decode(context.Background(), bytes.NewReader(data), sc, testSource, c)
			checkInvariants(t, c, st, err, alloc)
			if st.Rows+st.Rejected > 5 {
				t.Fatalf("%s mutation %d: %d rows + %d rejected records from a 5-record file", codec, i, st.Rows, st.Rejected)
			}
		}
	}
}

func mutate(rng *rand.Rand, seed []byte) []byte {
	data := append([]byte(nil), seed...)
	for k := 0; k < 1+rng.Intn(4); k++ {
		p := rng.Intn(len(data))
		switch rng.Intn(3) {
		case 0:
			data[p] = byte(rng.Intn(256))
		case 1:
			data = append(data[:p], append([]byte{0xff, 0xff, 0xff, 0x7f}, data[p:]...)...)
		case 2:
			data = append(data[:p], data[min(len(data), p+rng.Intn(20)):]...)
		}
	}
	return data
}
