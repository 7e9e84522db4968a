package silver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

type fixture struct{ laketest.Lake }

func newFixture(t *testing.T) fixture { return fixture{laketest.New(t)} }

// ingest runs bronze then silver, as `adlake ingest` does.
func (f fixture) ingest(t *testing.T, runID string, alloc memory.Allocator) silver.Report {
	t.Helper()
	ctx := context.Background()
	if _, err := bronze.Run(ctx, f.Store, f.Cat, bronze.Options{RunID: runID, MaxFilesPerCommit: 7}); err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, f.Store, f.Cat, nil, runID, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := silver.Run(ctx, f.Cat, silver.Options{RunID: runID, Alloc: alloc, PseudonymKey: "test-key", MaxRowsPerPass: 5000})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func count(t *testing.T, f fixture, tb schema.Table) int64 { return f.Rows(t, tb) }

// silverRejects counts silver-stage quarantine rows by feed and reason.
func silverRejects(t *testing.T, cat *catalog.Catalog) map[[2]string]int64 {
	t.Helper()
	tbl, _ := cat.Load(context.Background(), schema.Quarantine)
	_, batches, err := tbl.Scan(table.WithSelectedFields("feed", "stage", "reason")).ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[[2]string]int64{}
	for rec, err := range batches {
		if err != nil {
			t.Fatal(err)
		}
		idx := func(n string) *array.String { return rec.Column(rec.Schema().FieldIndices(n)[0]).(*array.String) }
		feed, stage, reason := idx("feed"), idx("stage"), idx("reason")
		for i := 0; i < int(rec.NumRows()); i++ {
			if stage.Value(i) == "silver" {
				out[[2]string{feed.Value(i), reason.Value(i)}]++
			}
		}
		rec.Release()
	}
	return out
}

func TestSilverFromDefects(t *testing.T) {
	f := newFixture(t)
	m, err := gen.Run(context.Background(), f.Store, gen.Options{Seed: 5, Days: 2, ImpressionsPerDay: 5000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rep := f.ingest(t, "run-1", alloc)
	alloc.AssertSize(t, 0)
	byFeed := map[string]silver.FeedReport{}
	for _, fr := range rep.Feeds {
		byFeed[fr.Feed] = fr
	}
	rejects := silverRejects(t, f.Cat)
	imp, cc, bids := m.Feeds["impressions"], m.Feeds["clicks_conversions"], m.Feeds["bid_requests"]
	checks := []struct {
		name      string
		got, want int64
	}{
		{"silver.impressions rows", count(t, f, schema.SilverImpressions), imp.Valid},
		{"silver.clicks rows", count(t, f, schema.SilverClicks), cc.Kinds["click"]},
		{"silver.conversions rows", count(t, f, schema.SilverConversions), cc.Kinds["conversion"]},
		{"silver.bid_requests rows", count(t, f, schema.SilverBidRequests), bids.Valid},
		{"impressions missing_required", rejects[[2]string{"impressions", "missing_required"}], imp.MissingRequired},
		{"impressions invalid_timestamp", rejects[[2]string{"impressions", "invalid_timestamp"}], imp.InvalidTimestamp},
		{"impressions future_timestamp", rejects[[2]string{"impressions", "future_timestamp"}], imp.FutureTimestamp},
		{"impressions too_late", rejects[[2]string{"impressions", "too_late"}], imp.TooLate},
		{"impressions invalid_value", rejects[[2]string{"impressions", "invalid_value"}], imp.InvalidValue},
		{"impressions duplicates", byFeed["impressions"].Duplicates["id"], imp.Duplicates},
		{"clicks_conversions missing_required", rejects[[2]string{"clicks_conversions", "missing_required"}], cc.MissingRequired},
		{"clicks_conversions invalid_timestamp", rejects[[2]string{"clicks_conversions", "invalid_timestamp"}], cc.InvalidTimestamp},
		{"clicks_conversions future_timestamp", rejects[[2]string{"clicks_conversions", "future_timestamp"}], cc.FutureTimestamp},
		{"clicks_conversions too_late", rejects[[2]string{"clicks_conversions", "too_late"}], cc.TooLate},
		{"clicks_conversions invalid_value", rejects[[2]string{"clicks_conversions", "invalid_value"}], cc.InvalidValue},
		{"clicks_conversions id duplicates", byFeed["clicks_conversions"].Duplicates["id"], cc.Duplicates},
		{"clicks_conversions order duplicates", byFeed["clicks_conversions"].Duplicates["order"], cc.OrderDuplicates},
		{"bid_requests duplicates", byFeed["bid_requests"].Duplicates["id"], bids.Duplicates},
		{"bid_requests rejects", rejects[[2]string{"bid_requests", "future_timestamp"}] + rejects[[2]string{"bid_requests", "too_late"}], 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// Every bronze row is accounted for: silver, silver rejects, or duplicates.
	for _, fr := range rep.Feeds {
		var valid, rej, dup int64
		for _, n := range fr.Valid {
			valid += n
		}
		for _, n := range fr.Rejected {
			rej += n
		}
		for _, n := range fr.Duplicates {
			dup += n
		}
		if want := m.Feeds[fr.Feed].BronzeRows; fr.RowsIn != want || valid+rej+dup != want {
			t.Errorf("%s: read %d bronze rows, silver %d + rejected %d + duplicates %d; bronze has %d", fr.Feed, fr.RowsIn, valid, rej, dup, want)
		}
	}
	if imp.MissingRequired == 0 || imp.Duplicates == 0 || cc.OrderDuplicates == 0 || cc.InvalidValue < 3 || bids.Duplicates == 0 {
		t.Fatalf("the generator did not inject what this test relies on: %+v %+v", *imp, *cc)
	}

	// A file delivered again in a later batch: every row is a duplicate.
	src := "impressions/dt=2026-11-25/hr=05/imp-05-0.json"
	rc, err := f.Store.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if err := f.Store.Put(context.Background(), "impressions/dt=2026-11-26/hr=23/imp-again.json", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	before := count(t, f, schema.SilverImpressions)
	rep2 := f.ingest(t, "run-2", nil)
	lines := int64(bytes.Count(data, []byte("\n")))
	if got := rep2.Feeds[0].Duplicates["id"]; got+sumRejected(rep2.Feeds[0]) != lines || got == 0 {
		t.Errorf("re-delivered file: %d duplicates + %d rejected, want %d lines", got, sumRejected(rep2.Feeds[0]), lines)
	}
	if after := count(t, f, schema.SilverImpressions); after != before {
		t.Errorf("silver.impressions grew from %d to %d on a re-delivered file", before, after)
	}

	// Nothing new: nothing committed.
	snaps := map[string]int64{}
	for _, tb := range schema.All() {
		tbl, _ := f.Cat.Load(context.Background(), tb)
		if s := tbl.CurrentSnapshot(); s != nil {
			snaps[tb.String()] = s.SnapshotID
		}
	}
	rep3 := f.ingest(t, "run-3", nil)
	for _, fr := range rep3.Feeds {
		if fr.Commits != 0 || fr.RowsIn != 0 {
			t.Errorf("idle run, %s: %+v", fr.Feed, fr)
		}
	}
	for _, tb := range schema.All() {
		tbl, _ := f.Cat.Load(context.Background(), tb)
		if s := tbl.CurrentSnapshot(); s != nil && s.SnapshotID != snaps[tb.String()] {
			t.Errorf("idle run committed to %s", tb)
		}
	}
}

func sumRejected(fr silver.FeedReport) int64 {
	var n int64
	for _, v := range fr.Rejected {
		n += v
	}
	return n
}

// countByDate counts rows of a silver table per event date.
func countByDate(t *testing.T, cat *catalog.Catalog, tb schema.Table) map[int32]int64 {
	t.Helper()
	tbl, _ := cat.Load(context.Background(), tb)
	_, batches, err := tbl.Scan(table.WithSelectedFields(schema.ColEventDate)).ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for rec, err := range batches {
		if err != nil {
			t.Fatal(err)
		}
		d := rec.Column(0).(*array.Date32)
		for i := 0; i < d.Len(); i++ {
			out[int32(d.Value(i))]++
		}
		rec.Release()
	}
	return out
}

func TestRebuild(t *testing.T) {
	f := newFixture(t)
	m, err := gen.Run(context.Background(), f.Store, gen.Options{Seed: 13, Days: 2, ImpressionsPerDay: 3000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	f.ingest(t, "run-1", nil)
	day0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	before := countByDate(t, f.Cat, schema.SilverImpressions)
	convBefore := count(t, f, schema.SilverConversions)
	snap := func() int64 {
		tbl, _ := f.Cat.Load(context.Background(), schema.SilverImpressions)
		return tbl.CurrentSnapshot().SnapshotID
	}
	s0 := snap()
	rebuild := func(from, to time.Time, extra ...string) {
		t.Helper()
		if _, err := silver.Rebuild(context.Background(), f.Cat, silver.Options{RunID: "rebuild", PseudonymKey: "test-key", ExtraConversionTypes: extra}, from, to); err != nil {
			t.Fatal(err)
		}
	}
	// One day, same rules: the same rows, in new files.
	rebuild(day0, day0)
	if after := countByDate(t, f.Cat, schema.SilverImpressions); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("rebuild of one day changed counts by date: %v -> %v", before, after)
	}
	if snap() == s0 {
		t.Fatal("rebuild committed nothing")
	}
	// Both days with "refund" accepted: the refunds join silver.
	rebuild(day0, day0.AddDate(0, 0, 1), "refund")
	refunds := m.Feeds["clicks_conversions"].Kinds["refund_conversion"]
	if got := count(t, f, schema.SilverConversions); got != convBefore+refunds {
		t.Fatalf("conversions after rebuild = %d, want %d + %d refunds", got, convBefore, refunds)
	}
	if after := countByDate(t, f.Cat, schema.SilverImpressions); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("impressions by date changed: %v -> %v", before, after)
	}
	// Ingest after a rebuild still finds nothing new.
	rep := f.ingest(t, "run-2", nil)
	for _, fr := range rep.Feeds {
		if fr.RowsIn != 0 {
			t.Fatalf("ingest after rebuild re-read %d bronze rows of %s", fr.RowsIn, fr.Feed)
		}
	}
}

// TestTapsDeriveSilverDuringIngest runs bronze with silver taps, as
// `adlake ingest` does: silver must equal the generator's counts, and the
// catch-up Run must find nothing left to read.
func TestTapsDeriveSilverDuringIngest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m, err := gen.Run(ctx, f.Store, gen.Options{Seed: 17, Days: 1, ImpressionsPerDay: 4000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, f.Store, f.Cat, nil, "tap", nil); err != nil {
		t.Fatal(err)
	}
	o := silver.Options{RunID: "tap", PseudonymKey: "test-key"}
	tapper, err := silver.NewTapper(ctx, f.Cat, o)
	if err != nil {
		t.Fatal(err)
	}
	taps := 0
	_, err = bronze.Run(ctx, f.Store, f.Cat, bronze.Options{RunID: "tap", MaxFilesPerCommit: 9,
		Tap: func(ctx context.Context, feed schema.Feed, tbl *table.Table) (bronze.Tap, error) {
			tp, err := tapper.Open(ctx, feed, tbl)
			if tp == nil {
				return nil, err
			}
			taps++
			return tp, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if taps < 6 {
		t.Fatalf("only %d chunks were tapped", taps)
	}
	rep, err := silver.Run(ctx, f.Cat, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range rep.Feeds {
		if fr.RowsIn != 0 {
			t.Errorf("catch-up run re-read %d bronze rows of %s: a tap did not commit", fr.RowsIn, fr.Feed)
		}
	}
	imp, cc, bids := m.Feeds["impressions"], m.Feeds["clicks_conversions"], m.Feeds["bid_requests"]
	for _, c := range []struct {
		tb   schema.Table
		want int64
	}{
		{schema.SilverImpressions, imp.Valid}, {schema.SilverClicks, cc.Kinds["click"]},
		{schema.SilverConversions, cc.Kinds["conversion"]}, {schema.SilverBidRequests, bids.Valid},
	} {
		if got := count(t, f, c.tb); got != c.want {
			t.Errorf("%s = %d, want %d", c.tb, got, c.want)
		}
	}
	rejects := silverRejects(t, f.Cat)
	if got, want := rejects[[2]string{"impressions", "missing_required"}]+rejects[[2]string{"impressions", "too_late"}], imp.MissingRequired+imp.TooLate; got != want {
		t.Errorf("impressions rejects = %d, want %d", got, want)
	}
	merged := silver.Merge(rep, tapper.Reports())
	for _, fr := range merged.Feeds {
		if want := m.Feeds[fr.Feed].BronzeRows; fr.RowsIn != want {
			t.Errorf("%s: taps read %d bronze rows, want %d", fr.Feed, fr.RowsIn, want)
		}
	}
}

// TestIngestOnPostgresCatalog runs bronze and silver with the catalog in
// PostgreSQL (as a shared deployment would) and checks the exact counts.
func TestIngestOnPostgresCatalog(t *testing.T) {
	url := laketest.PostgresURL(t)
	if url == "" {
		t.Skip("no PostgreSQL: run through `make test`, which starts one")
	}
	f := fixture{laketest.OpenCatalog(t, t.TempDir(), url)}
	m, err := gen.Run(context.Background(), f.Store, gen.Options{Seed: 41, Days: 1, ImpressionsPerDay: 2000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := f.ingest(t, "pg", nil)
	if n := count(t, f, schema.SilverImpressions); n != m.Feeds["impressions"].Valid {
		t.Errorf("silver.impressions = %d, want %d", n, m.Feeds["impressions"].Valid)
	}
	if n := count(t, f, schema.BronzeBidRequests); n != m.Feeds["bid_requests"].BronzeRows {
		t.Errorf("bronze.bid_requests = %d, want %d", n, m.Feeds["bid_requests"].BronzeRows)
	}
	if got := rep.Feeds[1].Duplicates["order"]; got != m.Feeds["clicks_conversions"].OrderDuplicates {
		t.Errorf("order duplicates = %d, want %d", got, m.Feeds["clicks_conversions"].OrderDuplicates)
	}
}
