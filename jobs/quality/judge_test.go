package quality

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advertisex/adlake/schema"
)

func TestJudge(t *testing.T) {
	both := Threshold{Warn: 0.02, Fail: 0.1, Severity: "fail"}
	tests := []struct {
		name   string
		x      float64
		th     Threshold
		status Status
		high   float64
		words  string
	}{
		{"below warn", 0.019, both, Pass, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"at warn", 0.02, both, Warn, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"between", 0.05, both, Warn, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"at fail", 0.1, both, Fail, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"severity warn caps a fail", 0.5, Threshold{Warn: 0.02, Fail: 0.1, Severity: "warn"}, Warn, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"severity warn leaves a pass", 0.01, Threshold{Warn: 0.02, Fail: 0.1, Severity: "warn"}, Pass, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"unknown severity does not cap", 0.5, Threshold{Warn: 0.02, Fail: 0.1, Severity: "loud"}, Fail, 0.02, "below 0.02 (warn at 0.02, fail at 0.1)"},
		{"warn only", 3, Threshold{Warn: 1, Severity: "warn"}, Warn, 1, "below 1 (warn)"},
		{"warn only, below", 0, Threshold{Warn: 1, Severity: "warn"}, Pass, 1, "below 1 (warn)"},
		{"fail only", 2, Threshold{Fail: 2, Severity: "fail"}, Fail, 2, "below 2 (fail)"},
		{"fail only, below", 1.5, Threshold{Fail: 2, Severity: "fail"}, Pass, 2, "below 2 (fail)"},
		{"both levels off", 1e9, Threshold{Severity: "fail"}, Pass, math.NaN(), "any"},
		{"equal levels fail", 1, Threshold{Warn: 1, Fail: 1, Severity: "fail"}, Fail, 1, "below 1 (warn at 1, fail at 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, high, words := judge(tc.x, tc.th)
			if st != tc.status || !near(high, tc.high) || words != tc.words {
				t.Fatalf("judge(%v, %+v) = %s %v %q, want %s %v %q", tc.x, tc.th, st, high, words, tc.status, tc.high, tc.words)
			}
		})
	}
}

func TestCapped(t *testing.T) {
	tests := []struct {
		st       Status
		severity string
		want     Status
	}{
		{Fail, "warn", Warn}, {Warn, "warn", Warn}, {Pass, "warn", Pass},
		{Fail, "fail", Fail}, {Warn, "fail", Warn}, {Fail, "", Fail},
	}
	for _, tc := range tests {
		if got := capped(tc.st, tc.severity); got != tc.want {
			t.Errorf("capped(%s, %q) = %s, want %s", tc.st, tc.severity, got, tc.want)
		}
	}
}

// results are one FeedRun's results by check.
func results(t *testing.T, f FeedRun, lim Limits) map[string]Result {
	t.Helper()
	got := map[string]Result{}
	for _, r := range RunChecks([]FeedRun{f}, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), lim) {
		if _, dup := got[r.Check]; dup {
			t.Fatalf("two %s results", r.Check)
		}
		got[r.Check] = r
	}
	return got
}

// TestRunChecksExact pins every field of a run's results.
func TestRunChecksExact(t *testing.T) {
	f := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 1000, Bronze: 990, BronzeRejected: 10,
		Silver: true, SilverIn: 990, SilverOut: 960, SilverRejected: 20, SilverDup: 10}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	want := map[string]Result{
		Reconciliation: {Date: day, Check: Reconciliation, Table: "bronze.impressions", Observed: 0, Low: 0, High: 0, Status: Pass,
			Expected: "0 records unaccounted for",
			Detail:   "landing 1000 = bronze 990 + rejected 10; bronze read 990 = silver 960 + rejected 20 + duplicates 10"},
		RejectRate: {Date: day, Check: RejectRate, Table: "bronze.impressions", Observed: 0.03, Low: 0, High: 0.02, Status: Warn,
			Expected: "below 0.02 (warn at 0.02, fail at 0.1)", Detail: "30 of 1000 records quarantined"},
		DuplicateRate: {Date: day, Check: DuplicateRate, Table: "bronze.impressions", Observed: 10.0 / 990, Low: 0, High: 0.05, Status: Pass,
			Expected: "below 0.05 (warn at 0.05, fail at 0.2)", Detail: "10 of 990 records dropped as duplicates"},
		SchemaDrift: {Date: day, Check: SchemaDrift, Table: "bronze.impressions", Observed: 0, Low: 0, High: 1, Status: Pass,
			Expected: "0 files differing from the contract"},
	}
	got := results(t, f, limits())
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %+v", len(got), len(want), got)
	}
	for check, w := range want {
		if g := got[check]; !sameResult(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", check, g, w)
		}
	}
}

// sameResult compares results, NaN equal to NaN and floats within 1e-12.
func sameResult(a, b Result) bool {
	return a.Date.Equal(b.Date) && a.Check == b.Check && a.Table == b.Table && a.Partition == b.Partition &&
		near(a.Observed, b.Observed) && near(a.Low, b.Low) && near(a.High, b.High) &&
		a.Expected == b.Expected && a.Status == b.Status && a.Detail == b.Detail
}

func TestReconciliation(t *testing.T) {
	tests := []struct {
		name     string
		f        FeedRun
		severity string
		status   Status
		observed float64
		detail   string
	}{
		{"both stages add up", FeedRun{Landing: 100, Bronze: 97, BronzeRejected: 3, Silver: true, SilverIn: 97, SilverOut: 90, SilverRejected: 4, SilverDup: 3},
			"fail", Pass, 0, "landing 100 = bronze 97 + rejected 3; bronze read 97 = silver 90 + rejected 4 + duplicates 3"},
		{"both stages lose rows", FeedRun{Landing: 100, Bronze: 95, BronzeRejected: 2, Silver: true, SilverIn: 95, SilverOut: 90, SilverRejected: 1, SilverDup: 1},
			"fail", Fail, 6, "landing 100 = bronze 95 + rejected 2; bronze read 95 = silver 90 + rejected 1 + duplicates 1 (off by 3 and 3)"},
		{"bronze gained a row", FeedRun{Landing: 100, Bronze: 101},
			"fail", Fail, 1, "landing 100 = bronze 101 + rejected 0 (off by -1 and 0)"},
		{"silver gained rows", FeedRun{Landing: 10, Bronze: 10, Silver: true, SilverIn: 10, SilverOut: 12},
			"fail", Fail, 2, "landing 10 = bronze 10 + rejected 0; bronze read 10 = silver 12 + rejected 0 + duplicates 0 (off by 0 and -2)"},
		{"gaps of opposite sign do not cancel", FeedRun{Landing: 10, Bronze: 9, Silver: true, SilverIn: 9, SilverOut: 10},
			"fail", Fail, 2, "landing 10 = bronze 9 + rejected 0; bronze read 9 = silver 10 + rejected 0 + duplicates 0 (off by 1 and -1)"},
		{"severity warn", FeedRun{Landing: 100, Bronze: 90},
			"warn", Warn, 10, "landing 100 = bronze 90 + rejected 0 (off by 10 and 0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits()
			lim.Reconciliation.Severity = tc.severity
			tc.f.Feed, tc.f.Table = "clicks_conversions", "bronze.clicks_conversions"
			r := results(t, tc.f, lim)[Reconciliation]
			if r.Status != tc.status || r.Observed != tc.observed || r.Detail != tc.detail || r.Expected != "0 records unaccounted for" || r.Low != 0 || r.High != 0 {
				t.Fatalf("got %s observed %v %q (%+v)\nwant %s observed %v %q", r.Status, r.Observed, r.Detail, r, tc.status, tc.observed, tc.detail)
			}
		})
	}
}

func TestRates(t *testing.T) {
	tests := []struct {
		name string
		f    FeedRun
		want map[string]Result // Check, Observed, Status and Detail compared
	}{
		{"bronze only: rejects of landing records, no duplicate rate",
			FeedRun{Landing: 200, Bronze: 190, BronzeRejected: 10},
			map[string]Result{
				RejectRate: {Observed: 0.05, Status: Warn, Detail: "10 of 200 records quarantined"},
			}},
		{"silver: rejects of both stages over the records processed",
			FeedRun{Landing: 200, Bronze: 190, BronzeRejected: 10, Silver: true, SilverIn: 190, SilverOut: 150, SilverRejected: 30, SilverDup: 10},
			map[string]Result{
				RejectRate:    {Observed: 40.0 / 200, Status: Fail, Detail: "40 of 200 records quarantined"},
				DuplicateRate: {Observed: 10.0 / 190, Status: Warn, Detail: "10 of 190 records dropped as duplicates"},
			}},
		{"silver only: bronze read earlier, no landing records",
			FeedRun{Silver: true, SilverIn: 100, SilverOut: 79, SilverDup: 21},
			map[string]Result{
				RejectRate:    {Observed: 0, Status: Pass, Detail: "0 of 100 records quarantined"},
				DuplicateRate: {Observed: 0.21, Status: Fail, Detail: "21 of 100 records dropped as duplicates"},
			}},
		{"below warn", FeedRun{Landing: 1000, Bronze: 999, BronzeRejected: 1},
			map[string]Result{RejectRate: {Observed: 0.001, Status: Pass, Detail: "1 of 1000 records quarantined"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Feed, tc.f.Table = "impressions", "bronze.impressions"
			got := results(t, tc.f, limits())
			if _, ok := got[DuplicateRate]; ok != tc.f.Silver {
				t.Errorf("duplicate rate present %v, want %v (silver ran)", ok, tc.f.Silver)
			}
			if _, ok := got[SchemaDrift]; ok != (tc.f.Landing > 0) {
				t.Errorf("schema drift present %v, want %v (landing records read)", ok, tc.f.Landing > 0)
			}
			for check, w := range tc.want {
				g := got[check]
				if !near(g.Observed, w.Observed) || g.Status != w.Status || g.Detail != w.Detail || g.Low != 0 {
					t.Errorf("%s: got %s %v %q, want %s %v %q", check, g.Status, g.Observed, g.Detail, w.Status, w.Observed, w.Detail)
				}
			}
		})
	}
}

func TestDrift(t *testing.T) {
	seen := []DriftFiles{
		{Drift: schema.Drift{New: []string{"zone"}}, Files: 2, Example: "impressions/dt=2026-11-25/hr=10/b.json"},
		{Drift: schema.Drift{New: []string{"viewability"}}, Files: 40, Example: "impressions/dt=2026-11-25/hr=10/c.json"},
		{Drift: schema.Drift{Missing: []string{"site_page"}}, Files: 1, Example: "impressions/dt=2026-11-25/hr=10/a.json"},
	}
	tests := []struct {
		name     string
		accepted string
		seen     []DriftFiles
		observed float64
		status   Status
		detail   string
	}{
		{"no drift", "", nil, 0, Pass, ""},
		{"accepted field left out, the rest sorted", "impressions:viewability, clicks_conversions:zone", seen, 3, Warn,
			`[{"missing":["site_page"],"files":1,"example":"impressions/dt=2026-11-25/hr=10/a.json"},{"new":["zone"],"files":2,"example":"impressions/dt=2026-11-25/hr=10/b.json"}]`},
		{"everything accepted", "impressions:viewability,impressions:zone,impressions:site_page", seen, 0, Pass, ""},
		{"retyped fields are never accepted", "impressions:bid", []DriftFiles{{Drift: schema.Drift{Retyped: []string{"bid: long -> string"}}, Files: 1}}, 1, Warn,
			`[{"retyped":["bid: long -\u003e string"],"files":1,"example":""}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits()
			lim.AcceptedFields = tc.accepted
			f := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 10, Bronze: 10, Drift: tc.seen}
			r := results(t, f, lim)[SchemaDrift]
			if r.Observed != tc.observed || r.Status != tc.status || r.Detail != tc.detail || r.Expected != "0 files differing from the contract" {
				t.Fatalf("got %s %v %q, want %s %v %q", r.Status, r.Observed, r.Detail, tc.status, tc.observed, tc.detail)
			}
		})
	}
	if seen[0].String() != "new zone" || seen[1].Files != 40 {
		t.Fatalf("RunChecks changed its input: %+v", seen)
	}
}

func TestJudgeCountExact(t *testing.T) {
	normal := []float64{200, 210, 190, 205} // median 202.5, MAD 5: scale √202.5
	tests := []struct {
		name      string
		lim       func(*RowCountLimits)
		observed  float64
		history   []float64
		status    Status
		low, high float64
		expected  string
		detail    string
	}{
		{"learning", nil, 0, []float64{100, 100}, Pass, math.NaN(), math.NaN(), "learning: 2 of 3 weeks of history", ""},
		{"no history", nil, 5, nil, Pass, math.NaN(), math.NaN(), "learning: 0 of 3 weeks of history", ""},
		{"min history reached", nil, 100, []float64{100, 100, 100}, Pass, 60, 140, "60 to 140 (median 100, MAD 0 over 3 weeks)", "0.0 robust deviations from the median"},
		{"below min median", nil, 0, []float64{5, 6, 7}, Pass, math.NaN(), math.NaN(), "not judged: median 6 is below min_median 20", ""},
		{"at min median", nil, 20, []float64{20, 20, 20}, Pass, 20 - 4*math.Sqrt(20), 20 + 4*math.Sqrt(20), "2 to 38 (median 20, MAD 0 over 3 weeks)", "0.0 robust deviations from the median"},
		{"normal", nil, 205, normal, Pass, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "0.2 robust deviations from the median"},
		{"a dip", nil, 140, normal, Warn, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "4.4 robust deviations from the median"},
		{"dropped hour", nil, 0, normal, Fail, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "14.2 robust deviations from the median"},
		{"a spike fails too", nil, 300, normal, Fail, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "6.9 robust deviations from the median"},
		{"severity warn caps", func(l *RowCountLimits) { l.Severity = "warn" }, 0, normal, Warn, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "14.2 robust deviations from the median"},
		{"fail level off", func(l *RowCountLimits) { l.Fail = 0 }, 0, normal, Warn, 202.5 - 4*math.Sqrt(202.5), 202.5 + 4*math.Sqrt(202.5), "146 to 259 (median 202.5, MAD 5 over 4 weeks)", "14.2 robust deviations from the median"},
		// A spread-out history: 1.4826·MAD (296.52) is the scale, not √median.
		{"MAD scale", nil, 1700, []float64{100, 300, 500, 700, 900}, Warn, 0, 500 + 4*1.4826*200, "0 to 1686 (median 500, MAD 200 over 5 weeks)", "4.0 robust deviations from the median"},
		{"MAD scale, inside", nil, 1100, []float64{100, 300, 500, 700, 900}, Pass, 0, 500 + 4*1.4826*200, "0 to 1686 (median 500, MAD 200 over 5 weeks)", "2.0 robust deviations from the median"},
		// A silent hour: the scale is at least 1.
		{"scale floor", func(l *RowCountLimits) { l.MinMedian = 0 }, 7, []float64{0, 0, 0}, Fail, 0, 4, "0 to 4 (median 0, MAD 0 over 3 weeks)", "7.0 robust deviations from the median"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits()
			if tc.lim != nil {
				tc.lim(&lim.RowCount)
			}
			c := NewChecker(nil, lim)
			in := Result{Check: RowCount, Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=13", Observed: tc.observed}
			got := c.judgeCount(in, tc.history)
			if got.Status != tc.status || got.Expected != tc.expected || got.Detail != tc.detail || !near(got.Low, tc.low) || !near(got.High, tc.high) ||
				got.Observed != tc.observed || got.Check != RowCount || got.Partition != in.Partition {
				t.Fatalf("got %s [%v, %v] %q %q\nwant %s [%v, %v] %q %q", got.Status, got.Low, got.High, got.Expected, got.Detail,
					tc.status, tc.low, tc.high, tc.expected, tc.detail)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{5, 5, 1, 100}, 5}} {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("median sorted its input: %v", in)
			}
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	l := DefaultLimits()
	l.OrphanClicks.Severity = "page"
	l.RowCount.Severity = ""
	want := `quality.row_count.severity "": want warn or fail` + "\n" + `quality.orphan_clicks.severity "page": want warn or fail`
	if err := l.Validate(); err == nil || err.Error() != want {
		t.Fatalf("validate: %v\nwant:\n%s", err, want)
	}
}

func TestDefaultLimits(t *testing.T) {
	l := DefaultLimits()
	if !l.Enabled || !l.HoldGold || l.RowCount != (RowCountLimits{Weeks: 4, MinHistory: 3, MinMedian: 20, Warn: 4, Fail: 6, SettleMin: 60, Severity: "fail"}) ||
		l.SchemaDrift != (Threshold{Warn: 1, Severity: "warn"}) || l.Reconciliation != (Threshold{Warn: 1, Fail: 1, Severity: "fail"}) ||
		l.FreshEvents != (Threshold{Warn: 90, Fail: 240, Severity: "fail"}) || l.RejectRate != (Threshold{Warn: 0.02, Fail: 0.1, Severity: "fail"}) {
		t.Fatalf("defaults changed: %+v", l)
	}
}

// TestRunbooks: every check has its own runbook, and the runbook exists.
func TestRunbooks(t *testing.T) {
	for _, c := range Checks {
		rb := Runbook(c)
		if rb == "README" {
			t.Errorf("check %s has no runbook", c)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", "docs", "runbooks", rb+".md")); err != nil {
			t.Errorf("check %s: %v", c, err)
		}
	}
	if Runbook("no_such_check") != "README" {
		t.Error("an unknown check's runbook is not the README")
	}
}

func TestFinding(t *testing.T) {
	r := Result{Date: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Check: NullRate, Table: "silver.clicks", Partition: "event_date=2026-11-25/column=user_key",
		Observed: 0.4, Low: 0, High: 0.3, Expected: "below 0.3 (warn at 0.3, fail at 0.6)", Status: Warn, Detail: "4 of 10 rows null"}
	f := r.Finding()
	if f.Key() != r.Key() || f.Check != r.Check || f.Table != r.Table || f.Partition != r.Partition || f.Status != Warn ||
		f.Observed != 0.4 || f.Expected != r.Expected || f.Detail != r.Detail || f.Runbook != "null-rate" {
		t.Fatalf("finding %+v of %+v", f, r)
	}
}

func TestPrint(t *testing.T) {
	d := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rs := []Result{
		{Date: d, Check: RowCount, Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=13", Observed: 0, Expected: "146 to 259", Status: Fail},
		{Date: d, Check: RowCount, Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=14", Observed: 200, Expected: "146 to 259", Status: Pass},
		{Date: d, Check: FreshnessEvent, Table: "silver.bid_requests", Observed: math.NaN(), Expected: "below 90 minutes", Status: Fail, Detail: "no event yet"},
		{Date: d, Check: NullRate, Table: "silver.clicks", Partition: "event_date=2026-11-25/column=user_key", Observed: 1.0 / 3, Expected: "below 0.3", Status: Pass},
	}
	var b bytes.Buffer
	if err := WriteText(&b, rs, false); err != nil {
		t.Fatal(err)
	}
	want := `STATUS  CHECK            TABLE                PARTITION                      OBSERVED  EXPECTED
FAIL    row_count        silver.impressions   event_date=2026-11-25/hour=13  0         146 to 259
FAIL    freshness_event  silver.bid_requests                                 -         below 90 minutes
passed: null_rate 1, row_count 1
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteText(&b, rs[3:], true); err != nil {
		t.Fatal(err)
	}
	if want := "STATUS  CHECK      TABLE          PARTITION                              OBSERVED  EXPECTED\nPASS    null_rate  silver.clicks  event_date=2026-11-25/column=user_key  0.333333  below 0.3\n"; b.String() != want {
		t.Errorf("text, all:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()
	if err := WriteJSON(&b, rs[2:4]); err != nil {
		t.Fatal(err)
	}
	want = `{"dq_date":"2026-11-25","check":"freshness_event","table":"silver.bid_requests","partition":"","observed":"-","expected":"below 90 minutes","status":"fail","detail":"no event yet"}
{"dq_date":"2026-11-25","check":"null_rate","table":"silver.clicks","partition":"event_date=2026-11-25/column=user_key","observed":"0.333333","expected":"below 0.3","status":"pass"}
`
	if b.String() != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := Failed(rs); err != ErrFailed {
		t.Errorf("Failed = %v, want ErrFailed", err)
	}
	if err := Failed(rs[1:2]); err != nil {
		t.Errorf("Failed of a pass = %v", err)
	}
	if err := Failed([]Result{{Status: Warn}}); err != nil {
		t.Errorf("Failed of a warning = %v", err)
	}
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "0"}, {12345678, "1.23457e+07"}, {0.05, "0.05"}, {math.NaN(), "-"}, {1.0 / 3, "0.333333"}} {
		if got := FormatObserved(tc.x); got != tc.want {
			t.Errorf("FormatObserved(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
	if !strings.Contains(ErrFailed.Error(), "ops.dq_results") {
		t.Errorf("ErrFailed %q does not point at ops.dq_results", ErrFailed)
	}
}
