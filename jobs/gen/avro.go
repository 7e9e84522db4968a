package gen

import (
	"bytes"
	"compress/flate"
	"hash/crc32"

	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/schema"
)

var codecs = []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard}

// blockLen is the number of records per Avro block the generator writes.
const blockLen = 50

// writeBids writes the hour's bid requests: one won request per RTB
// impression, and for every impression one more request, alternately with
// a losing bid and with no bid.
func (g *generator) writeBids(ctx context.Context, h time.Time, idx int, imps []impression) error {
	fc := newFeedCounts()
	recs := make([]schema.BidRequest, 0, 2*len(imps))
	for i := range imps {
		im := &imps[i]
		if im.request != "" {
			recs = append(recs, g.bidRequest(im, im.request, true, true))
		}
		recs = append(recs, g.bidRequest(im, g.id("br"), i%2 == 0, false))
	}
	if g.o.Defects && idx%5 == 3 && len(recs) > 0 {
		recs = append(recs, recs[0]) // the same request delivered twice
		fc.Duplicates++
	}
	version := 1
	if g.o.Defects && idx%6 == 5 {
		version = 2
		fc.Kinds["v2_file"]++
	}
	if g.anomalyAt(AvroV2, h) {
		if version == 1 {
			fc.Kinds["v2_file"]++
		}
		version = 2
		g.m.Anomaly.Files++
	}
	codec := codecs[idx%len(codecs)]
	corrupt := g.o.Defects && idx%24 == 15 && len(recs) > 3*blockLen
	if corrupt {
		codec = ocf.Deflate
	}
	var sync [16]byte
	for i := range sync {
		sync[i] = byte(g.rng.IntN(256))
	}
	data, starts, err := encodeOCF(version, codec, sync, recs)
	if err != nil {
		return err
	}
	fc.Records = int64(len(recs))
	fc.BronzeRows = fc.Records
	fc.Valid = fc.Records - fc.Duplicates
	if corrupt {
		// Make block 1 undecodable: its deflate data starts with a block
		// of the reserved type 3, which every inflater rejects.
		skip := varintLen(data[starts[1]:])
		skip += varintLen(data[starts[1]+skip:])
		data[starts[1]+skip] = 0x07
		fc.MalformedRows++
		fc.MalformedRecords += blockLen
		fc.BronzeRows -= blockLen
		fc.Valid -= blockLen // block 1 holds no duplicate (it is the last record)
		fc.Kinds["corrupt_block"]++
	}
	for i, r := range recs[:len(recs)-int(fc.Duplicates)] {
		if r.Test && !(corrupt && i >= blockLen && i < 2*blockLen) {
			fc.Kinds["test"]++
		}
	}
	if _, err := g.put(ctx, landing.Key(schema.BidRequests.Name, h, fmt.Sprintf("bids-%02d.avro", h.Hour())), data, false); err != nil {
		return err
	}
	fc.Files, fc.Bytes = 1, int64(len(data))
	g.m.Feeds[schema.BidRequests.Name].add(fc)
	if g.o.Defects && idx%24 == 9 {
		garbage := []byte("Obj\x02 this is not an Avro container")
		if _, err := g.put(ctx, landing.Key(schema.BidRequests.Name, h, "bids-corrupt.avro"), garbage, false); err != nil {
			return err
		}
		feed := g.m.Feeds[schema.BidRequests.Name]
		feed.Files++
		feed.UnreadableFiles++
		feed.Bytes += int64(len(garbage))
	}
	return nil
}

func (g *generator) bidRequest(im *impression, id string, withBid, won bool) schema.BidRequest {
	r := g.rng
	ts := im.ts.Add(-time.Duration(50+r.IntN(250)) * time.Millisecond)
	country := countries3[im.country]
	domain, ua, ip := im.domain, im.ua, im.ip
	req := schema.BidRequest{
		RequestID: id, EventTime: ts.UnixMilli(), Exchange: exchanges[r.IntN(len(exchanges))],
		AuctionType: "FIRST_PRICE", Test: g.pct(1),
		Imps: []schema.Imp{{ImpID: "1", MediaType: "BANNER", BidFloorCPM: 0.1 + r.Float64(), BidFloorCur: "USD",
			Banner: &schema.Banner{W: 300, H: 250}, DealIDs: []string{}}},
		Site:   &schema.Site{Domain: &domain, Cat: []string{"IAB1"}},
		Device: &schema.Device{UA: &ua, IP: &ip, DeviceType: "PHONE", Geo: &schema.Geo{Country: &country}},
		Bcat:   []string{},
	}
	if im.user != "" {
		user := im.user
		req.User = &schema.User{UserID: &user, Segments: []schema.Segment{}}
	}
	if withBid {
		price := im.price
		if !won {
			price = im.price / 2
		}
		shade := 0.85
		req.Bid = &schema.Bid{ImpID: "1", PriceMicros: price + 100_000, Currency: "USD",
			CampaignID: g.ref.campaigns[im.campaign].id, CreativeID: im.creative, BidShadingFactor: &shade}
		sc := true
		req.SchainComplete = &sc
	}
	return req
}

// encodeOCF writes recs as an Object Container File with blocks of
// blockLen records and returns the byte offset at which each block starts.
// The framing is written here (hamba's encoder orders header metadata at
// random, which would make files irreproducible); hamba encodes records.
func encodeOCF(version int, codec ocf.CodecName, sync [16]byte, recs []schema.BidRequest) ([]byte, []int, error) {
	text, err := schema.BidRequestContract(version)
	if err != nil {
		return nil, nil, err
	}
	// A fresh schema cache keeps v1 and v2 (same record names) apart.
	sc, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, nil, fmt.Errorf("gen: contract v%d: %w", version, err)
	}
	var buf bytes.Buffer
	buf.WriteString("Obj\x01")
	meta := [][2]string{{"avro.codec", string(codec)}, {"avro.schema", text}}
	buf.Write(zigzag(int64(len(meta))))
	for _, kv := range meta {
		for _, s := range kv {
			buf.Write(zigzag(int64(len(s))))
			buf.WriteString(s)
		}
	}
	buf.Write(zigzag(0))
	buf.Write(sync[:])
	var starts []int
	var block bytes.Buffer
	enc := avro.NewEncoderForSchema(sc, &block)
	for lo := 0; lo < len(recs); lo += blockLen {
		hi := min(lo+blockLen, len(recs))
		block.Reset()
		for i := lo; i < hi; i++ {
			if err := enc.Encode(&recs[i]); err != nil {
				return nil, nil, fmt.Errorf("gen: avro encode: %w", err)
			}
		}
		data, err := compress(codec, block.Bytes())
		if err != nil {
			return nil, nil, err
		}
		starts = append(starts, buf.Len())
		buf.Write(zigzag(int64(hi - lo)))
		buf.Write(zigzag(int64(len(data))))
		buf.Write(data)
		buf.Write(sync[:])
	}
	return buf.Bytes(), starts, nil
}

func compress(codec ocf.CodecName, data []byte) ([]byte, error) {
	switch codec {
	case ocf.Null:
		return append([]byte(nil), data...), nil
	case ocf.Deflate:
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.DefaultCompression) // the level is valid
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
		err := w.Close()
		return b.Bytes(), err
	case ocf.Snappy:
		out := snappy.Encode(nil, data)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(data)), nil
	case ocf.ZStandard:
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		return enc.EncodeAll(data, nil), nil
	}
	return nil, fmt.Errorf("gen: codec %s", codec)
}

func zigzag(v int64) []byte { return binary.AppendUvarint(nil, uint64(v<<1)^uint64(v>>63)) }

func varintLen(b []byte) int {
	_, n := binary.Uvarint(b)
	return n
}
