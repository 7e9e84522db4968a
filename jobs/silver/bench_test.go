package silver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze/decode"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/schema"
)

// benchRows is the number of bronze rows each benchmark op derives.
const benchRows = 50_000

// bronzeBatches are a feed's bronze rows, decoded once from its landing
// files as bronze decodes them (lineage of each file included).
type bronzeBatches struct {
	recs  []arrow.RecordBatch
	rows  int64
	bytes int64 // Arrow buffer bytes
}

// Batch keeps rec, up to benchRows rows in all.
func (bb *bronzeBatches) Batch(rec arrow.RecordBatch) error {
	var size int64
	for _, c := range rec.Columns() {
		size += dataBytes(c.Data())
	}
	if left := benchRows - bb.rows; rec.NumRows() > left {
		size = size * left / rec.NumRows() // a slice shares the buffers
		cut := rec.NewSlice(0, left)
		rec.Release()
		rec = cut
	}
	if rec.NumRows() == 0 {
		rec.Release()
		return nil
	}
	bb.recs = append(bb.recs, rec)
	bb.rows += rec.NumRows()
	bb.bytes += size
	return nil
}

// dataBytes sums the buffers of an array, children included.
func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

func (bb *bronzeBatches) Reject(decode.Reject) error { return nil }

func (bb *bronzeBatches) release() {
	for _, rec := range bb.recs {
		rec.Release()
	}
}

// BenchmarkSilver derives silver from the first 50k bronze rows of each
// feed of a generated day (51k impressions, with the generator's defects:
// rejects, duplicates, odd casing, unknown creatives), enriched from the
// day's reference snapshots; every op is a new pass (empty dedup sets):
//   - rules/<feed>: validation, standardization, enrichment,
//     pseudonymization and dedup, the silver rows built and dropped (no
//     Parquet, no quarantine rows);
//   - rules+parquet/<feed>: the same pass writing its silver and quarantine
//     Parquet data files (removed, never committed).
//
// MB/s is of the bronze batches' Arrow buffers. clicks_conversions repeats
// the day's clicks and conversions (about 1k) with fresh ids up to 50k.
func BenchmarkSilver(b *testing.B) {
	lake := laketest.New(b)
	ctx := context.Background()
	if _, err := gen.Run(ctx, lake.Store, gen.Options{Seed: 13, ImpressionsPerDay: 51_000, Defects: true}); err != nil {
		b.Fatal(err)
	}
	if err := reference.Load(ctx, lake.Store, lake.Cat, nil, "bench", nil); err != nil {
		b.Fatal(err)
	}
	tapper, err := silver.NewTapper(ctx, lake.Cat, silver.Options{RunID: "bench", PseudonymKey: "bench-key"})
	if err != nil {
		b.Fatal(err)
	}
	inputs := map[string]*bronzeBatches{}
	for _, feed := range schema.Feeds {
		in := bronzeInput(b, lake, feed)
		defer in.release()
		inputs[feed.Name] = in
	}
	for _, mode := range []struct {
		name  string
		write bool
	}{{"rules", false}, {"rules+parquet", true}} {
		for _, feed := range schema.Feeds {
			in := inputs[feed.Name]
			b.Run(mode.name+"/"+feed.Name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(in.bytes)
				var fr silver.FeedReport
				for b.Loop() {
					p, err := tapper.OpenBenchPass(ctx, feed, mode.write)
					if err != nil {
						b.Fatal(err)
					}
					for _, rec := range in.recs {
						if err := p.Batch(rec); err != nil {
							b.Fatal(err)
						}
					}
					if fr, err = p.Close(ctx); err != nil {
						b.Fatal(err)
					}
				}
				if out := sum(fr.Valid) + sum(fr.Rejected) + sum(fr.Duplicates); fr.RowsIn != in.rows || out != in.rows || sum(fr.Valid) < in.rows*9/10 {
					b.Fatalf("%d rows in, %d out (valid %v, rejected %v, duplicates %v), want %d", fr.RowsIn, out, fr.Valid, fr.Rejected, fr.Duplicates, in.rows)
				}
				b.ReportMetric(float64(in.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// bronzeInput decodes the feed's landing files, in key order, into its
// first benchRows bronze rows.
func bronzeInput(b *testing.B, lake laketest.Lake, feed schema.Feed) *bronzeBatches {
	b.Helper()
	ctx := context.Background()
	tbl, err := lake.Cat.Load(ctx, feed.Bronze)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		b.Fatal(err)
	}
	var files []landing.File
	var contents [][]byte
	for obj, err := range lake.Store.List(ctx, feed.Name+"/") {
		if err != nil {
			b.Fatal(err)
		}
		f, why := landing.Classify(obj)
		if why != "" || f.Size == 0 {
			continue
		}
		data, err := readLanding(ctx, lake, f)
		if err != nil {
			continue // an unreadable file of the defects: no rows
		}
		files, contents = append(files, f), append(contents, data)
	}
	if feed.Name == schema.ClicksConversions.Name {
		contents = repeatClicks(b, contents, benchRows)
	}
	var dec interface {
		Decode(context.Context, io.Reader, *arrow.Schema, decode.Source, decode.Emitter) (decode.Stats, error)
	}
	switch feed.Format {
	case schema.JSONLines:
		dec = decode.NewImpressions(decode.Options{})
	case schema.CSV:
		dec = decode.NewClicksConversions(schema.ClicksConversionsColumns, decode.Options{})
	case schema.Avro:
		if dec, err = decode.NewBidRequests(decode.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	in := &bronzeBatches{}
	ingested := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	for i, f := range files {
		if in.rows >= benchRows {
			break
		}
		src := decode.Source{Key: f.Key, Hour: f.Hour, RunID: "bench", IngestedAt: ingested}
		if _, err := dec.Decode(ctx, bytes.NewReader(contents[i]), sc, src, in); err != nil && !errors.Is(err, decode.ErrUnreadable) {
			b.Fatal(err)
		}
	}
	if in.rows < benchRows {
		b.Fatalf("%s: %d bronze rows, want %d", feed.Name, in.rows, benchRows)
	}
	return in
}

// readLanding returns the content of a landing file, gunzipped.
func readLanding(ctx context.Context, lake laketest.Lake, f landing.File) ([]byte, error) {
	rc, err := lake.Store.Open(ctx, f.Key)
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

// repeatClicks repeats the rows of every clicks_conversions file, in the
// file, as many times as the day needs to hold n rows; every repetition
// after the first suffixes event_id and order_id, so that it holds new
// events (and the same duplicates).
func repeatClicks(b *testing.B, files [][]byte, n int) [][]byte {
	b.Helper()
	var total int
	parsed := make([][][]string, len(files))
	for i, data := range files {
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			b.Fatal(err)
		}
		parsed[i] = recs
		if len(recs) > 0 {
			total += len(recs) - 1
		}
	}
	if total == 0 {
		b.Fatal("the generator wrote no clicks or conversions")
	}
	times := (n + total - 1) / total
	out := make([][]byte, len(files))
	for i, recs := range parsed {
		if len(recs) == 0 {
			continue
		}
		idCol, orderCol := -1, -1
		for c, name := range recs[0] {
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "event_id":
				idCol = c
			case "order_id":
				orderCol = c
			}
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(recs[0]) // writes to a bytes.Buffer cannot fail
		for k := range times {
			for _, rec := range recs[1:] {
				row := append([]string(nil), rec...)
				for _, c := range []int{idCol, orderCol} {
					if k > 0 && c >= 0 && c < len(row) && row[c] != "" {
						row[c] = fmt.Sprintf("%s-r%d", row[c], k)
					}
				}
				_ = w.Write(row)
			}
		}
		w.Flush()
		out[i] = buf.Bytes()
	}
	return out
}
