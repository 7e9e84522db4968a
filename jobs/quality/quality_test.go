package quality

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/advertisex/adlake/schema"
)

func limits() Limits { return DefaultLimits() }

func TestRunChecks(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clean := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 1000, Bronze: 990, BronzeRejected: 10,
		Silver: true, SilverIn: 990, SilverOut: 960, SilverRejected: 20, SilverDup: 10}
	lost := clean
	lost.SilverOut = 950 // 10 rows vanished between bronze and silver
	drifted := clean
	drifted.Drift = []DriftFiles{{Drift: schema.Drift{New: []string{"click_source"}}, Files: 3, Example: "k"}}
	burst := clean
	burst.SilverDup, burst.SilverOut = 300, 670
	tests := []struct {
		name string
		in   FeedRun
		want map[string]Status  // by check
		obs  map[string]float64 // by check
	}{
		{"clean", clean,
			map[string]Status{Reconciliation: Pass, RejectRate: Warn, DuplicateRate: Pass, SchemaDrift: Pass},
			map[string]float64{Reconciliation: 0, RejectRate: 0.03, DuplicateRate: 10.0 / 990, SchemaDrift: 0}},
		{"lost rows", lost, map[string]Status{Reconciliation: Fail}, map[string]float64{Reconciliation: 10}},
		{"drift", drifted, map[string]Status{SchemaDrift: Warn}, map[string]float64{SchemaDrift: 3}},
		{"duplicate burst", burst, map[string]Status{DuplicateRate: Fail}, map[string]float64{DuplicateRate: 300.0 / 990}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]Result{}
			for _, r := range RunChecks([]FeedRun{tc.in}, at, limits()) {
				got[r.Check] = r
			}
			for check, st := range tc.want {
				r := got[check]
				if r.Status != st || math.Abs(r.Observed-tc.obs[check]) > 1e-12 {
					t.Errorf("%s: %s observed %v, want %s observed %v (%+v)", check, r.Status, r.Observed, st, tc.obs[check], r)
				}
			}
		})
	}
}

func TestReconciliationDetail(t *testing.T) {
	f := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 100, Bronze: 98, BronzeRejected: 1, Silver: true, SilverIn: 98, SilverOut: 98}
	r := RunChecks([]FeedRun{f}, time.Now(), limits())[0]
	want := "landing 100 = bronze 98 + rejected 1; bronze read 98 = silver 98 + rejected 0 + duplicates 0 (off by 1 and 0)"
	if r.Check != Reconciliation || r.Detail != want || r.Observed != 1 || r.Status != Fail {
		t.Fatalf("got %+v", r)
	}
}

func TestJudgeCount(t *testing.T) {
	c := NewChecker(nil, limits())
	base := Result{Check: RowCount, Table: "silver.impressions", Partition: "p"}
	tests := []struct {
		name     string
		observed float64
		history  []float64
		status   Status
		expected string
	}{
		{"learning", 0, []float64{100, 100}, Pass, "learning: 2 of 3 weeks of history"},
		{"too small to judge", 0, []float64{5, 6, 7}, Pass, "not judged: median 6 is below min_median 20"},
		{"normal", 205, []float64{200, 210, 190, 205}, Pass, "146 to 259 (median 202.5, MAD 5 over 4 weeks)"},
		{"dropped hour", 0, []float64{200, 210, 190, 205}, Fail, "146 to 259 (median 202.5, MAD 5 over 4 weeks)"},
		{"a dip", 140, []float64{200, 210, 190, 205}, Warn, "146 to 259 (median 202.5, MAD 5 over 4 weeks)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.Observed = tc.observed
			got := c.judgeCount(r, tc.history)
			if got.Status != tc.status || got.Expected != tc.expected {
				t.Fatalf("got %s %q, want %s %q", got.Status, got.Expected, tc.status, tc.expected)
			}
		})
	}
}

func TestJudgeWords(t *testing.T) {
	st, high, words := judge(0.05, Threshold{Warn: 0.02, Fail: 0.1, Severity: "fail"})
	if st != Warn || high != 0.02 || !strings.Contains(words, "warn at 0.02, fail at 0.1") {
		t.Fatalf("judge = %s %v %q", st, high, words)
	}
	if st, _, _ := judge(5, Threshold{Warn: 1, Fail: 2, Severity: "warn"}); st != Warn {
		t.Fatalf("severity warn caps at warn, got %s", st)
	}
}

func TestAcceptedFields(t *testing.T) {
	seen := []DriftFiles{
		{Drift: schema.Drift{New: []string{"viewability"}}, Files: 40},
		{Drift: schema.Drift{New: []string{"viewability", "zone"}}, Files: 2},
	}
	got := accept("impressions", seen, "clicks_conversions:zone, impressions:viewability")
	if len(got) != 1 || got[0].String() != "new zone" || got[0].Files != 2 {
		t.Fatalf("accept = %+v", got)
	}
	if got := accept("bid_requests", seen, "impressions:viewability"); len(got) != 2 {
		t.Fatalf("other feeds keep everything: %+v", got)
	}
}

func TestRunChecksSkipIdleFeeds(t *testing.T) {
	if rs := RunChecks([]FeedRun{{Feed: "impressions", Table: "bronze.impressions", Silver: true}}, time.Now(), limits()); len(rs) != 0 {
		t.Fatalf("a feed with nothing new yields %+v; an open alert must not be resolved by an idle run", rs)
	}
}
