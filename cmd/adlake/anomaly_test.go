package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/schema"
)

// Each data-quality check against the anomaly adlake gen injects for it:
// the exact ops.dq_results row, exactly one alert per channel, then the
// resolved message once the cause is fixed the way an operator would.

func firing(st quality.Status, check, tbl, part string) string {
	return subject(channel.Firing, st, check, tbl, part)
}

func resolved(check, tbl, part string) string {
	return subject(channel.Resolved, quality.Pass, check, tbl, part)
}

// anomalyDay generates the day under test with an anomaly and ingests it.
func (l *dqLake) anomalyDay(t *testing.T, kind string) *gen.AnomalyInfo {
	t.Helper()
	m := l.gen(t, gen.Options{Seed: 5, Start: dqDay, ImpressionsPerDay: dqVolume, Anomaly: kind})
	l.manifest = m
	l.cli(t, exitOK, "ingest")
	return m.Anomaly
}

// nextCleanDay delivers and ingests a clean 2026-11-26.
func (l *dqLake) nextCleanDay(t *testing.T) {
	t.Helper()
	l.gen(t, gen.Options{Seed: 6, Start: dqDay.AddDate(0, 0, 1), ImpressionsPerDay: dqVolume})
	l.cli(t, exitOK, "ingest")
}

func (l *dqLake) quality(t *testing.T, want int, checks string) {
	t.Helper()
	l.cli(t, want, "quality", "--date", "2026-11-25", "--as-of", dqAsOf, "--checks", checks)
}

func expectRow(t *testing.T, got dqRow, status string, observed float64) {
	t.Helper()
	if got.Status != status || math.Abs(got.Observed-observed) > 1e-9 {
		t.Errorf("ops.dq_results: %s observed %v (%s; %s), want %s observed %v", got.Status, got.Observed, got.Expected, got.Detail, status, observed)
	}
}

func TestQualityDroppedHour(t *testing.T) {
	l := newDQLake(t)
	l.anomalyDay(t, gen.DroppedHour)
	l.expectAlerts(t) // nothing per run: every record is accounted for
	l.quality(t, exitChecks, quality.RowCount)
	part := "event_date=2026-11-25/hour=13"
	row := l.result(t, quality.RowCount, "silver.impressions", part)
	expectRow(t, row, "fail", float64(l.hourRows(t, schema.SilverImpressions, dqDay, 13)))
	var hist []float64
	for k := 1; k <= 3; k++ {
		hist = append(hist, float64(l.hourRows(t, schema.SilverImpressions, dqDay.AddDate(0, 0, -7*k), 13)))
	}
	med, mad := medianMAD(hist)
	scale := math.Max(math.Max(1.4826*mad, math.Sqrt(med)), 1)
	if math.Abs(row.Low-math.Max(0, med-4*scale)) > 1e-9 || math.Abs(row.High-(med+4*scale)) > 1e-9 {
		t.Errorf("expected range [%v, %v], want median %v ± 4 × %v", row.Low, row.High, med, scale)
	}
	l.expectAlerts(t, firing(quality.Fail, quality.RowCount, "silver.impressions", part))
	l.quality(t, exitChecks, quality.RowCount) // still missing: no second alert
	l.expectAlerts(t)

	// The producer delivers the lost hour late.
	l.gen(t, gen.Options{Seed: 5, Start: dqDay, ImpressionsPerDay: dqVolume})
	l.cli(t, exitOK, "ingest")
	l.quality(t, exitOK, quality.RowCount)
	expectRow(t, l.result(t, quality.RowCount, "silver.impressions", part), "pass", float64(l.hourRows(t, schema.SilverImpressions, dqDay, 13)))
	l.expectAlerts(t, resolved(quality.RowCount, "silver.impressions", part))
}

func TestQualityStalledFeed(t *testing.T) {
	l := newDQLake(t)
	a := l.anomalyDay(t, gen.StalledFeed)
	l.expectAlerts(t)
	checks := quality.FreshnessLanding + "," + quality.FreshnessEvent
	l.quality(t, exitChecks, checks)
	// The last file arrived in hour 05: 18 h 45 min before the as-of time.
	expectRow(t, l.result(t, quality.FreshnessLanding, "bronze.clicks_conversions", ""), "fail", 18*60+45)
	events := "silver.clicks,silver.conversions"
	ev := l.result(t, quality.FreshnessEvent, events, "")
	expectRow(t, ev, "fail", l.lagOfNewest(t, schema.SilverClicks, schema.SilverConversions))
	if a.Hour != 6 || a.HeldFiles != 18 {
		t.Fatalf("anomaly %+v", a)
	}
	l.expectAlerts(t, firing(quality.Fail, quality.FreshnessLanding, "bronze.clicks_conversions", ""),
		firing(quality.Fail, quality.FreshnessEvent, events, ""))

	// The tracker catches up.
	l.gen(t, gen.Options{Seed: 5, Start: dqDay, ImpressionsPerDay: dqVolume})
	l.cli(t, exitOK, "ingest")
	l.quality(t, exitOK, checks)
	expectRow(t, l.result(t, quality.FreshnessLanding, "bronze.clicks_conversions", ""), "pass", 45)
	l.expectAlerts(t, resolved(quality.FreshnessLanding, "bronze.clicks_conversions", ""), resolved(quality.FreshnessEvent, events, ""))
}

func TestQualitySchemaDrift(t *testing.T) {
	for _, tc := range []struct {
		kind, table, field string
	}{
		{gen.NewCSVColumn, "bronze.clicks_conversions", `"new":["click_source"]`},
		{gen.AvroV2, "bronze.bid_requests", `"new":["bid.bid_shading_factor","schain_complete"]`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			l := newDQLake(t)
			a := l.anomalyDay(t, tc.kind)
			row := l.result(t, quality.SchemaDrift, tc.table, "")
			expectRow(t, row, "warn", float64(a.Files))
			if !strings.Contains(row.Detail, tc.field) || !strings.Contains(row.Detail, fmt.Sprintf(`"files":%d`, a.Files)) {
				t.Errorf("drift detail %s, want %s in %d files", row.Detail, tc.field, a.Files)
			}
			l.expectAlerts(t, firing(quality.Warn, quality.SchemaDrift, tc.table, ""))
			l.nextCleanDay(t)
			expectRow(t, l.result(t, quality.SchemaDrift, tc.table, ""), "pass", 0)
			l.expectAlerts(t, resolved(quality.SchemaDrift, tc.table, ""))
		})
	}
}

func TestQualityRunRates(t *testing.T) {
	for _, tc := range []struct {
		kind, check string
		rate        func(m *gen.Manifest) float64
	}{
		{gen.DuplicateBurst, quality.DuplicateRate, func(m *gen.Manifest) float64 {
			return float64(m.Anomaly.Records) / float64(m.Feeds["impressions"].BronzeRows)
		}},
		{gen.RejectBurst, quality.RejectRate, func(m *gen.Manifest) float64 {
			return float64(m.Anomaly.Records) / float64(m.Feeds["impressions"].Records)
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			l := newDQLake(t)
			l.anomalyDay(t, tc.kind)
			want := tc.rate(l.manifest)
			expectRow(t, l.result(t, tc.check, "bronze.impressions", ""), "fail", want)
			l.expectAlerts(t, firing(quality.Fail, tc.check, "bronze.impressions", ""))
			l.nextCleanDay(t)
			expectRow(t, l.result(t, tc.check, "bronze.impressions", ""), "pass", 0)
			l.expectAlerts(t, resolved(tc.check, "bronze.impressions", ""))
		})
	}
}

func TestQualityMissingReference(t *testing.T) {
	l := newDQLake(t)
	a := l.anomalyDay(t, gen.MissingReference)
	l.expectAlerts(t)
	l.quality(t, exitOK, quality.UnknownCreative) // under 5 %: a warning
	part := "event_date=2026-11-25"
	nulls, rows := l.nulls(t, schema.SilverImpressions, "campaign_id", dqDay)
	expectRow(t, l.result(t, quality.UnknownCreative, "silver.impressions", part), "warn", float64(nulls)/float64(rows))
	if all, _ := l.nulls(t, schema.SilverImpressions, "campaign_id", time.Time{}); all != a.CreativeImpressions {
		t.Errorf("%d impressions without campaign, the generator wrote %d of %s", all, a.CreativeImpressions, a.Creative)
	}
	l.expectAlerts(t, firing(quality.Warn, quality.UnknownCreative, "silver.impressions", part))

	// The reference is fixed by a new snapshot; silver of the day is re-derived.
	src, err := filepath.Glob(filepath.Join(l.landing(), "reference", "creatives", "dt=2026-11-18", "*", "creatives.csv"))
	if err != nil || len(src) != 1 {
		t.Fatalf("reference snapshot: %v %v", src, err)
	}
	data, err := os.ReadFile(src[0])
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(l.landing(), "reference", "creatives", "dt=2026-11-26", "hr=00", "creatives.csv")
	if err := os.MkdirAll(filepath.Dir(fixed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l.cli(t, exitOK, "ingest")
	l.cli(t, exitOK, "rebuild", "silver", "--from", "2026-11-24", "--to", "2026-11-25")
	l.quality(t, exitOK, quality.UnknownCreative)
	expectRow(t, l.result(t, quality.UnknownCreative, "silver.impressions", part), "pass", 0)
	l.expectAlerts(t, resolved(quality.UnknownCreative, "silver.impressions", part))
}

func TestQualityOrphanClicks(t *testing.T) {
	l := newDQLake(t)
	a := l.anomalyDay(t, gen.OrphanClicks)
	l.quality(t, exitChecks, quality.OrphanClicks)
	part := "event_date=2026-11-25"
	_, clicks := l.nulls(t, schema.SilverClicks, "user_key", dqDay)
	expectRow(t, l.result(t, quality.OrphanClicks, "silver.clicks", part), "fail", float64(a.Records)/float64(clicks))
	l.expectAlerts(t, firing(quality.Fail, quality.OrphanClicks, "silver.clicks", part))
}

// hourRows counts the rows of t in one event hour.
func (l *dqLake) hourRows(t *testing.T, tb schema.Table, d time.Time, hour int) int64 {
	t.Helper()
	var n int64
	from, to := d.Add(time.Duration(hour)*time.Hour).UnixMicro(), d.Add(time.Duration(hour+1)*time.Hour).UnixMicro()
	l.scan(t, tb, d, func(ts int64) {
		if ts >= from && ts < to {
			n++
		}
	})
	return n
}

// lagOfNewest is the minutes from the newest event_ts of the tables to dqAsOf.
func (l *dqLake) lagOfNewest(t *testing.T, tbs ...schema.Table) float64 {
	t.Helper()
	var newest int64
	for _, tb := range tbs {
		l.scan(t, tb, time.Time{}, func(ts int64) { newest = max(newest, ts) })
	}
	asOf, _ := time.Parse(time.RFC3339, dqAsOf)
	return math.Round(asOf.Sub(time.UnixMicro(newest)).Minutes())
}

// scan calls fn with event_ts (µs) of every row of tb on event date d (all dates: zero d).
func (l *dqLake) scan(t *testing.T, tb schema.Table, d time.Time, fn func(int64)) {
	t.Helper()
	recs := l.records(t, tb, d, "event_ts")
	for _, rec := range recs {
		ts := rec.Column(0).(*array.Timestamp)
		for i := 0; i < ts.Len(); i++ {
			fn(int64(ts.Value(i)))
		}
		rec.Release()
	}
}

// nulls counts the rows of tb on event date d (all: zero d) and the nulls of col.
func (l *dqLake) nulls(t *testing.T, tb schema.Table, col string, d time.Time) (nulls, rows int64) {
	t.Helper()
	for _, rec := range l.records(t, tb, d, col) {
		nulls += int64(rec.Column(0).NullN())
		rows += rec.NumRows()
		rec.Release()
	}
	return nulls, rows
}

func (l *dqLake) records(t *testing.T, tb schema.Table, d time.Time, col string) []arrow.RecordBatch {
	t.Helper()
	tbl, err := openCatalog(t, l.dir).Load(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	opts := []table.ScanOption{table.WithSelectedFields(col)}
	if !d.IsZero() {
		opts = append(opts, table.WithRowFilter(iceberg.EqualTo(iceberg.Reference(schema.ColEventDate), iceberg.Date(d.Unix()/86400))))
	}
	_, it, err := tbl.Scan(opts...).ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []arrow.RecordBatch
	for rec, err := range it {
		if err != nil {
			t.Fatal(err)
		}
		rec.Retain()
		out = append(out, rec)
	}
	return out
}

func medianMAD(xs []float64) (float64, float64) {
	med := func(v []float64) float64 {
		s := slices.Clone(v)
		slices.Sort(s)
		if n := len(s); n%2 == 1 {
			return s[n/2]
		} else {
			return (s[n/2-1] + s[n/2]) / 2
		}
	}
	m := med(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - m)
	}
	return m, med(dev)
}
