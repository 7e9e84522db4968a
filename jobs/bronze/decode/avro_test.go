package decode

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hamba/avro/v2/ocf"

	"github.com/advertisex/adlake/schema"
)

func bidRecords(n int) []schema.BidRequest {
	recs := make([]schema.BidRequest, n)
	for i := range recs {
		country, sh := "USA", 0.8
		recs[i] = schema.BidRequest{
			RequestID: fmt.Sprintf("br-%d", i), EventTime: 1764078312345 + int64(i), Exchange: "openx",
			AuctionType: "FIRST_PRICE", Imps: []schema.Imp{{ImpID: "1", MediaType: "BANNER", BidFloorCPM: 0.5,
				BidFloorCur: "USD", Banner: &schema.Banner{W: 300, H: 250}, DealIDs: []string{"d1"}}},
			Device: &schema.Device{DeviceType: "PHONE", Geo: &schema.Geo{Country: &country}},
			Bcat:   []string{"IAB25"},
		}
		if i%2 == 0 {
			recs[i].Bid = &schema.Bid{ImpID: "1", PriceMicros: 1200000, Currency: "USD", CampaignID: "cmp-1",
				CreativeID: "cr-1", BidShadingFactor: &sh}
		}
	}
	return recs
}

// writeOCF writes recs with contract version v and codec, blockLen records per block.
func writeOCF(t testing.TB, v int, codec ocf.CodecName, blockLen int, recs []schema.BidRequest) []byte {
	t.Helper()
	text, err := schema.BidRequestContract(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc, err := ocf.NewEncoder(text, &buf, ocf.WithCodec(codec), ocf.WithBlockLength(blockLen))
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeAvro(t testing.TB, data []byte) (*collector, Stats, error) {
	t.Helper()
	d, err := NewBidRequests(Options{BatchRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	st, err := d.Decode(context.Background(), bytes.NewReader(data), arrowSchema(t, schema.BronzeBidRequests), testSource, c)
	return c, st, err
}

func TestBidRequestsVersionsAndCodecs(t *testing.T) {
	for _, v := range []int{1, 2} {
		for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
			t.Run(fmt.Sprintf("v%d/%s", v, codec), func(t *testing.T) {
				got, st, err := decodeAvro(t, writeOCF(t, v, codec, 3, bidRecords(10)))
				if err != nil {
					t.Fatal(err)
				}
				if st.Rows != 10 || len(got.rows) != 10 || len(got.rejects) != 0 {
					t.Fatalf("rows %d, rejects %+v", st.Rows, got.rejects)
				}
				r0, r1 := got.rows[0], got.rows[1]
				if r0["request_id"] != "br-0" || r9(got)["_source_offset"] != "9" || r0["_writer_schema"] != fmt.Sprintf("v%d", v) {
					t.Fatalf("row 0 = %v", r0)
				}
				if !strings.Contains(r0["bid"], "cmp-1") || r1["bid"] != "" {
					t.Fatalf("bid: %q / %q", r0["bid"], r1["bid"])
				}
				if !strings.Contains(r0["device"], "USA") || !strings.Contains(r0["imps"], "300") {
					t.Fatalf("nested: %v", r0)
				}
				if hasShading := strings.Contains(r0["bid"], "0.8"); hasShading != (v == 2) {
					t.Fatalf("v%d bid_shading_factor present = %v: %s", v, hasShading, r0["bid"])
				}
				if want := "2025-11-25 13:45:12.345Z"; !strings.HasPrefix(r0["event_time"], "2025-11-25") {
					t.Fatalf("event_time = %q, want %s", r0["event_time"], want)
				}
			})
		}
	}
}

func r9(c *collector) map[string]string { return c.rows[9] }

func TestBidRequestsCorruptBlockIsRejectedAndRestKept(t *testing.T) {
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate} {
		t.Run(string(codec), func(t *testing.T) {
			data := writeOCF(t, 1, codec, 5, bidRecords(15)) // 3 blocks of 5
			// Find the second block: it starts right after the first sync marker
			// following the header's marker.
			hdrEnd := headerEnd(t, data)
			marker := data[hdrEnd-16 : hdrEnd]
			second := hdrEnd + bytes.Index(data[hdrEnd:], marker) + 16
			// Corrupt bytes inside the second block's data (after its 2 varints).
			for i := second + 4; i < second+24; i++ {
				data[i] ^= 0xA5
			}
			got, st, err := decodeAvro(t, data)
			if err != nil {
				t.Fatal(err)
			}
			// The frame is intact, so every record is counted: kept or inside the reject.
			if st.Rows+st.Rejected != 15 || len(got.rejects) != 1 || !got.rejects[0].Binary {
				t.Fatalf("rows %d + rejected %d, want 15; rejects %+v", st.Rows, st.Rejected, got.rejects)
			}
			// A compressed block fails as a whole: exactly its 5 records.
			if codec == ocf.Deflate && (st.Rows != 10 || got.rejects[0].Offset != 5 || got.rejects[0].Records != 5) {
				t.Fatalf("deflate: rows %d, reject %+v; want 10 rows and block 2 (offset 5, 5 records) rejected", st.Rows, got.rejects[0])
			}
			if last := got.rows[len(got.rows)-1]; last["request_id"] != "br-14" {
				t.Fatalf("last row %v: the block after the corrupt one must be kept", last["request_id"])
			}
		})
	}
}

// headerEnd returns the offset just past the header's sync marker.
func headerEnd(t testing.TB, data []byte) int {
	t.Helper()
	o, err := newOCFReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return int(o.off)
}

func TestBidRequestsBrokenFramingResyncs(t *testing.T) {
	data := writeOCF(t, 2, ocf.Null, 5, bidRecords(15))
	hdrEnd := headerEnd(t, data)
	// Break the first block's size varint: the reader must find the next
	// sync marker and keep blocks 2 and 3.
	data[hdrEnd+1] = 0x7f
	got, st, err := decodeAvro(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 10 || len(got.rejects) != 1 || got.rejects[0].Records != 0 {
		t.Fatalf("rows %d, rejects %+v", st.Rows, got.rejects)
	}
	if got.rows[0]["request_id"] != "br-5" {
		t.Fatalf("first kept row %s, want br-5", got.rows[0]["request_id"])
	}
}

func TestBidRequestsUnreadable(t *testing.T) {
	good := writeOCF(t, 1, ocf.Null, 5, bidRecords(10))
	cases := map[string][]byte{
		"not avro":         []byte("this is not an avro file at all"),
		"empty":            nil,
		"truncated header": good[:20],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, st, err := decodeAvro(t, data)
			if err == nil || st.Rows != 0 {
				t.Fatalf("err = %v, rows %d; want ErrUnreadable", err, st.Rows)
			}
		})
	}
	t.Run("truncated tail", func(t *testing.T) {
		got, st, err := decodeAvro(t, good[:len(good)-30])
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 5 || len(got.rejects) != 1 {
			t.Fatalf("rows %d rejects %+v; want the first block kept and the tail rejected", st.Rows, got.rejects)
		}
	})
}
