package decode

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/hamba/avro/v2/ocf"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// benchRecords is the number of landing records each benchmark op decodes.
const benchRecords = 50_000

// benchInput is the landing data the decoder benchmarks read, built once
// from the generator (clean data, no defects): the records of a day,
// concatenated into one file per format.
type benchInput struct {
	jsonl, csv []byte              // benchRecords lines / rows (CSV: plus the header)
	bids       []schema.BidRequest // benchRecords bid requests
}

var (
	benchOnce sync.Once
	benchIn   benchInput
	benchErr  error
)

func loadBenchInput(b *testing.B) *benchInput {
	b.Helper()
	benchOnce.Do(func() { benchIn, benchErr = makeBenchInput() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &benchIn
}

func makeBenchInput() (benchInput, error) {
	var in benchInput
	dir, err := os.MkdirTemp("", "adlake-decode-bench-")
	if err != nil {
		return in, err
	}
	defer os.RemoveAll(dir)
	store, err := objstore.NewLocal(dir)
	if err != nil {
		return in, err
	}
	ctx := context.Background()
	// A day of 51k impressions: about 94k bid requests and 1k clicks and
	// conversions (CTR 2 %).
	if _, err := gen.Run(ctx, store, gen.Options{Seed: 11, ImpressionsPerDay: 51_000}); err != nil {
		return in, err
	}
	files := map[string][][]byte{} // feed -> contents (gunzipped), in key order
	for obj, err := range store.List(ctx, "") {
		if err != nil {
			return in, err
		}
		f, why := landing.Classify(obj)
		if why != "" || strings.HasPrefix(f.Feed, landing.ReferencePrefix) {
			continue
		}
		data, err := readLanding(ctx, store, f)
		if err != nil {
			return in, err
		}
		files[f.Feed] = append(files[f.Feed], data)
	}

	// Impressions: the day's lines, the first benchRecords of them.
	all := bytes.Join(files[schema.Impressions.Name], nil)
	lines := bytes.SplitAfter(all, []byte("\n"))
	if len(lines) < benchRecords {
		return in, fmt.Errorf("generator wrote %d impressions, want %d", len(lines), benchRecords)
	}
	in.jsonl = bytes.Join(lines[:benchRecords], nil)

	// Clicks and conversions: the day's rows, repeated with fresh event and
	// order ids up to benchRecords rows.
	if in.csv, err = repeatCSV(files[schema.ClicksConversions.Name], benchRecords); err != nil {
		return in, err
	}

	// Bid requests: the first benchRecords records of the day, re-encoded
	// by the benchmark with each codec.
	for _, data := range files[schema.BidRequests.Name] {
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		if err != nil {
			return in, err
		}
		for dec.HasNext() && len(in.bids) < benchRecords {
			var r schema.BidRequest
			if err := dec.Decode(&r); err != nil {
				return in, err
			}
			in.bids = append(in.bids, r)
		}
		if err := dec.Error(); err != nil {
			return in, err
		}
	}
	if len(in.bids) < benchRecords {
		return in, fmt.Errorf("generator wrote %d bid requests, want %d", len(in.bids), benchRecords)
	}
	return in, nil
}

// readLanding returns the content of a landing file, gunzipped.
func readLanding(ctx context.Context, store objstore.Reader, f landing.File) ([]byte, error) {
	rc, err := store.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if f.Gzip {
		gz, err := gzip.NewReader(rc)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		r = gz
	}
	return io.ReadAll(r)
}

// repeatCSV returns one CSV file, in contract column order, of n rows taken
// in turn from the rows of files; every round after the first suffixes
// event_id and order_id so that the ids stay unique.
func repeatCSV(files [][]byte, n int) ([]byte, error) {
	var rows [][]string
	for _, data := range files {
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			rows = append(rows, recs[1:]...) // the header is the contract's
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("generator wrote no clicks or conversions")
	}
	idCol, orderCol := schemaIndex("event_id"), schemaIndex("order_id")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(schema.ClicksConversionsColumns) // writes to a bytes.Buffer cannot fail
	out := make([]string, len(schema.ClicksConversionsColumns))
	for i := range n {
		copy(out, rows[i%len(rows)])
		if round := i / len(rows); round > 0 {
			out[idCol] = fmt.Sprintf("%s-r%d", out[idCol], round)
			if out[orderCol] != "" {
				out[orderCol] = fmt.Sprintf("%s-r%d", out[orderCol], round)
			}
		}
		_ = w.Write(out)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func schemaIndex(col string) int {
	for i, c := range schema.ClicksConversionsColumns {
		if c == col {
			return i
		}
	}
	panic("no contract column " + col)
}

func gzipped(b *testing.B, data []byte) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// discard is an Emitter that counts and releases what it is given.
type discard struct{ rows, rejects int64 }

func (d *discard) Batch(rec arrow.RecordBatch) error {
	d.rows += rec.NumRows()
	rec.Release()
	return nil
}

func (d *discard) Reject(Reject) error {
	d.rejects++
	return nil
}

type benchDecoder interface {
	Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src Source, emit Emitter) (Stats, error)
}

// benchDecode decodes data (a gzip stream when gz) with dec once per op and
// reports MB/s of data as landed and rows/s.
func benchDecode(b *testing.B, dec benchDecoder, sc *arrow.Schema, data []byte, gz bool, records int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	var em discard
	for b.Loop() {
		em = discard{}
		var r io.Reader = bytes.NewReader(data)
		if gz {
			zr, err := gzip.NewReader(r)
			if err != nil {
				b.Fatal(err)
			}
			r = zr
		}
		if _, err := dec.Decode(ctx, r, sc, testSource, &em); err != nil {
			b.Fatal(err)
		}
	}
	if em.rows != int64(records) || em.rejects != 0 {
		b.Fatalf("decoded %d rows and %d rejects, want %d rows", em.rows, em.rejects, records)
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImpressions decodes 50k generated impressions (JSON lines,
// about 470 bytes each), plain and gzipped.
func BenchmarkImpressions(b *testing.B) {
	in := loadBenchInput(b)
	sc := arrowSchema(b, schema.BronzeImpressions)
	dec := NewImpressions(Options{})
	b.Run("json", func(b *testing.B) { benchDecode(b, dec, sc, in.jsonl, false, benchRecords) })
	gz := gzipped(b, in.jsonl)
	b.Run("json.gz", func(b *testing.B) { benchDecode(b, dec, sc, gz, true, benchRecords) })
}

// BenchmarkClicksConversions decodes 50k generated clicks and conversions
// (CSV), plain and gzipped.
func BenchmarkClicksConversions(b *testing.B) {
	in := loadBenchInput(b)
	sc := arrowSchema(b, schema.BronzeClicksConversions)
	dec := NewClicksConversions(schema.ClicksConversionsColumns, Options{})
	b.Run("csv", func(b *testing.B) { benchDecode(b, dec, sc, in.csv, false, benchRecords) })
	gz := gzipped(b, in.csv)
	b.Run("csv.gz", func(b *testing.B) { benchDecode(b, dec, sc, gz, true, benchRecords) })
}

// BenchmarkBidRequests decodes 50k generated bid requests (Avro OCF,
// contract v1, blocks of 50 records as the generator writes them) with
// each codec.
func BenchmarkBidRequests(b *testing.B) {
	in := loadBenchInput(b)
	sc := arrowSchema(b, schema.BronzeBidRequests)
	dec, err := NewBidRequests(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		data := writeOCF(b, 1, codec, 50, in.bids)
		b.Run("avro-"+string(codec), func(b *testing.B) { benchDecode(b, dec, sc, data, false, benchRecords) })
	}
}
