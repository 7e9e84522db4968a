package decode

import (
	"bytes"
	"context"
	"errors"
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

func FuzzImpressions(f *testing.F) {
	f.Add([]byte(`{"impression_id":"a","ts":1,"site":{"domain":"d","x":1}}` + "\n{bad\n"))
	f.Add([]byte("\n\r\n[1]\n\"s\"\nnull\n"))
	f.Add([]byte(`{"win_price_cpm_micros":1e400,"geo":{"country":{}}}`))
	sc := arrowSchema(f, schema.BronzeImpressions)
	f.Fuzz(func(t *testing.T, data []byte) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		c := &collector{}
		st, err := NewImpressions(Options{BatchRows: 3, Alloc: alloc}).Decode(context.Background(), bytes.NewReader(data), sc, testSource, c)
		checkInvariants(t, c, st, err, alloc)
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
	f.Add([]byte(strings.Join(schema.ClicksConversionsColumns, ",") + "\na,click,1,,,,,,,,,,\n\"x\n"))
	f.Add([]byte("event_id\n\"a\"\"b\"\nc,d\n"))
	sc := arrowSchema(f, schema.BronzeClicksConversions)
	f.Fuzz(func(t *testing.T, data []byte) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		c := &collector{}
		st, err := NewClicksConversions(schema.ClicksConversionsColumns, Options{BatchRows: 3, Alloc: alloc}).
			Decode(context.Background(), bytes.NewReader(data), sc, testSource, c)
		checkInvariants(t, c, st, err, alloc)
	})
}

func FuzzBidRequests(f *testing.F) {
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		f.Add(writeOCF(f, 2, codec, 2, bidRecords(5)))
	}
	f.Add([]byte("Obj\x01garbage"))
	sc := arrowSchema(f, schema.BronzeBidRequests)
	d, err := NewBidRequests(Options{BatchRows: 3})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		d.opts.Alloc = alloc
		c := &collector{}
		st, err := d.Decode(context.Background(), bytes.NewReader(data), sc, testSource, c)
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
