package quality

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// The row types the tests write to silver and bronze: the required
// columns, plus the ones the checks read.

type impressionRow struct {
	TS         time.Time `col:"event_ts"`
	Date       time.Time `col:"event_date"`
	ID         string    `col:"impression_id"`
	User       string    `col:"user_key"`
	Creative   string    `col:"creative_id"`
	Campaign   string    `col:"campaign_id"`
	Site       string    `col:"site_domain"`
	Currency   string    `col:"currency"`
	CostUSD    float64   `col:"cost_usd"`
	Device     string    `col:"device_type"`
	Country    string    `col:"country"`
	Bot        bool      `col:"is_bot"`
	SourceFile string    `col:"_source_file"`
	Offset     int64     `col:"_source_offset"`
	Landing    time.Time `col:"_landing_dt"`
	RunID      string    `col:"_run_id"`
	Ingested   time.Time `col:"_ingested_at"`
}

type clickRow struct {
	TS         time.Time `col:"event_ts"`
	Date       time.Time `col:"event_date"`
	ID         string    `col:"event_id"`
	User       string    `col:"user_key"`
	Campaign   string    `col:"campaign_id"`
	Bot        bool      `col:"is_bot"`
	SourceFile string    `col:"_source_file"`
	Offset     int64     `col:"_source_offset"`
	Landing    time.Time `col:"_landing_dt"`
	RunID      string    `col:"_run_id"`
	Ingested   time.Time `col:"_ingested_at"`
}

type bronzeRow struct {
	SourceFile string    `col:"_source_file"`
	Offset     int64     `col:"_source_offset"`
	Landing    time.Time `col:"_landing_dt"`
	Hour       int32     `col:"_landing_hr"`
	RunID      string    `col:"_run_id"`
	Ingested   time.Time `col:"_ingested_at"`
}

// lake is a test lakehouse with helpers to fill it.
type lake struct {
	laketest.Lake
	t *testing.T
}

func newLake(t *testing.T) lake { return lake{laketest.New(t), t} }

var testProps = iceberg.Properties{ledger.PropJob: "test", ledger.PropRunID: "test-1"}

// impression is an impression at ts of user on campaign ("" is null),
// with country and cost set.
func impression(ts time.Time, user, campaign string) impressionRow {
	return impressionRow{TS: ts, Date: day(ts), ID: ts.Format(time.RFC3339Nano) + user, User: user, Creative: "cr-1", Campaign: campaign,
		Site: "example.com", Currency: "USD", CostUSD: 0.001, Device: "mobile", Country: "US",
		SourceFile: "impressions/f.json", Landing: day(ts), RunID: "test-1", Ingested: ts}
}

func click(ts time.Time, user, campaign string) clickRow {
	return clickRow{TS: ts, Date: day(ts), ID: ts.Format(time.RFC3339Nano) + user, User: user, Campaign: campaign,
		SourceFile: "clicks_conversions/f.csv", Landing: day(ts), RunID: "test-1", Ingested: ts}
}

func appendRows[T any](l lake, t schema.Table, rs []T) {
	l.t.Helper()
	if err := rows.Append(context.Background(), l.Cat, t, rs, testProps); err != nil {
		l.t.Fatal(err)
	}
}

// near reports whether a and b are equal, both NaN, or within 1e-12.
func near(a, b float64) bool {
	return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-12
}

type conversionRow struct {
	TS         time.Time `col:"event_ts"`
	Date       time.Time `col:"event_date"`
	ID         string    `col:"event_id"`
	Campaign   string    `col:"campaign_id"`
	Bot        bool      `col:"is_bot"`
	Type       string    `col:"conversion_type"`
	Currency   string    `col:"currency"`
	SourceFile string    `col:"_source_file"`
	Offset     int64     `col:"_source_offset"`
	Landing    time.Time `col:"_landing_dt"`
	RunID      string    `col:"_run_id"`
	Ingested   time.Time `col:"_ingested_at"`
}

type bidRequestRow struct {
	TS         time.Time `col:"event_ts"`
	Date       time.Time `col:"event_date"`
	ID         string    `col:"request_id"`
	Exchange   string    `col:"exchange"`
	Test       bool      `col:"is_test"`
	Device     string    `col:"device_type"`
	Bot        bool      `col:"is_bot"`
	Imps       int32     `col:"imp_count"`
	HasBid     bool      `col:"has_bid"`
	SourceFile string    `col:"_source_file"`
	Offset     int64     `col:"_source_offset"`
	Landing    time.Time `col:"_landing_dt"`
	RunID      string    `col:"_run_id"`
	Ingested   time.Time `col:"_ingested_at"`
}

func conversion(ts time.Time) conversionRow {
	return conversionRow{TS: ts, Date: day(ts), ID: ts.Format(time.RFC3339Nano), Campaign: "c1", Type: "purchase", Currency: "USD",
		SourceFile: "clicks_conversions/f.csv", Landing: day(ts), RunID: "test-1", Ingested: ts}
}

func bidRequest(ts time.Time) bidRequestRow {
	return bidRequestRow{TS: ts, Date: day(ts), ID: ts.Format(time.RFC3339Nano), Exchange: "x", Device: "mobile", Imps: 1,
		SourceFile: "bid_requests/f.avro", Landing: day(ts), RunID: "test-1", Ingested: ts}
}

// landed commits one row to t whose snapshot's ledger records the landing
// files keys.
func (l lake) landed(t schema.Table, keys ...string) {
	l.t.Helper()
	var files []ledger.FileEntry
	for _, k := range keys {
		files = append(files, ledger.FileEntry{Key: k, Size: 1, Rows: 1})
	}
	props, err := ledger.SummaryProps(schema.JobIngest, "ingest-1", files)
	if err != nil {
		l.t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if err := rows.Append(context.Background(), l.Cat, t, []bronzeRow{{SourceFile: keys[0], Landing: at, RunID: "ingest-1", Ingested: at}}, props); err != nil {
		l.t.Fatal(err)
	}
}

// dqRows reads ops.dq_results back, in the order of checked_at.
func (l lake) dqRows() []schema.DQResultRow {
	l.t.Helper()
	tbl, err := l.Cat.Load(context.Background(), schema.DQResults)
	if err != nil {
		l.t.Fatal(err)
	}
	out, err := rows.Collect(rows.Scan[schema.DQResultRow](context.Background(), tbl, nil))
	if err != nil {
		l.t.Fatal(err)
	}
	slices.SortStableFunc(out, func(a, b schema.DQResultRow) int { return a.At.Compare(b.At) })
	return out
}

// commits counts the snapshots of t.
func (l lake) commits(t schema.Table) int {
	l.t.Helper()
	tbl, err := l.Cat.Load(context.Background(), t)
	if err != nil {
		l.t.Fatal(err)
	}
	return len(tbl.Metadata().Snapshots())
}

// expectResults compares results field by field, in order.
func expectResults(t *testing.T, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		for _, r := range got {
			t.Logf("got %+v", r)
		}
		t.Fatalf("got %d results, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameResult(got[i], want[i]) {
			t.Errorf("result %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

var (
	dqDay = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	nan   = math.NaN()
)

// TestRowCounts judges the settled hours of a date against the history
// ops.dq_results holds: the latest observation of each earlier week,
// backfills, other checks and unobserved results left out.
func TestRowCounts(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	w1, w2, w3, w4 := dqDay.AddDate(0, 0, -7), dqDay.AddDate(0, 0, -14), dqDay.AddDate(0, 0, -21), dqDay.AddDate(0, 0, -28)
	past := func(d time.Time, h int, obs float64) Result {
		return Result{Date: d, Check: RowCount, Table: "silver.impressions", Partition: hourPartition(d, h), Observed: obs, Low: nan, High: nan, Status: Pass, Expected: "x"}
	}
	t1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	record := func(job, id string, at time.Time, rs ...Result) {
		t.Helper()
		if err := Record(ctx, l.Cat, JobRun{ID: id, Job: job, At: at}, rs); err != nil {
			t.Fatal(err)
		}
	}
	record(schema.JobQuality, "q1", t1, past(w1, 0, 200), past(w2, 0, 100), past(w3, 0, 190), past(w1, 1, 3), past(w2, 1, 3), past(w4, 0, nan))
	record(schema.JobDaily, "d1", t1.Add(time.Hour), past(w2, 0, 210))      // the latest observation of w2 wins
	record(schema.JobBackfill, "b1", t1.Add(2*time.Hour), past(w1, 0, 1e6)) // backfills are no history
	other := past(w4, 0, 999)
	other.Check = NullRate
	record(schema.JobQuality, "q2", t1.Add(3*time.Hour), other) // another check on the same partition

	var imps []impressionRow
	for i := 0; i < 10; i++ {
		imps = append(imps, impression(dqDay.Add(time.Duration(i)*time.Minute), "u", "c1"))
	}
	for i := 0; i < 3; i++ {
		imps = append(imps, impression(dqDay.Add(time.Hour+time.Duration(i)*time.Minute), "u", "c1"))
	}
	for i := 0; i < 50; i++ { // not settled yet
		imps = append(imps, impression(dqDay.Add(5*time.Hour+time.Duration(i)*time.Second), "u", "c1"))
	}
	imps = append(imps, impression(dqDay.Add(-30*time.Minute), "u", "c1")) // the day before
	appendRows(l, schema.SilverImpressions, imps)

	// As of 03:00 with 60 settle minutes, hours 00 and 01 are judged.
	rs, err := NewChecker(l.Cat, limits(), AsOf(dqDay.Add(3*time.Hour)), Only(RowCount)).Date(ctx, dqDay.Add(13*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	scale := 1.4826 * 10 // MAD 10 of 200, 210, 190; more than √200
	want := []Result{
		{Date: dqDay, Check: RowCount, Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=00", Observed: 10,
			Low: 200 - 4*scale, High: 200 + 4*scale, Status: Fail,
			Expected: "141 to 259 (median 200, MAD 10 over 3 weeks)", Detail: "12.8 robust deviations from the median"},
		{Date: dqDay, Check: RowCount, Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=01", Observed: 3,
			Low: nan, High: nan, Status: Pass, Expected: "learning: 2 of 3 weeks of history"},
	}
	for _, tb := range []string{"silver.clicks", "silver.conversions", "silver.bid_requests"} {
		for _, h := range []string{"00", "01"} {
			want = append(want, Result{Date: dqDay, Check: RowCount, Table: tb, Partition: "event_date=2026-11-25/hour=" + h,
				Observed: 0, Low: nan, High: nan, Status: Pass, Expected: "learning: 0 of 3 weeks of history"})
		}
	}
	expectResults(t, rs, want)

	// Nothing settled yet: no result.
	rs, err = NewChecker(l.Cat, limits(), AsOf(dqDay.Add(time.Hour+59*time.Minute)), Only(RowCount)).Date(ctx, dqDay)
	if err != nil || len(rs) != 0 {
		t.Fatalf("before the first hour settled: %+v, %v", rs, err)
	}
}

// TestNullRatesAndUnknownCreatives reads null counts from the data files'
// statistics, summed over files of the date only.
func TestNullRatesAndUnknownCreatives(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	at := dqDay.Add(10 * time.Hour)
	r1, r2, r3, r4 := impression(at, "u1", "c1"), impression(at, "", "c1"), impression(at, "u3", ""), impression(at, "u4", "c2")
	r2.Country, r3.Country, r3.CostUSD = "", "", nan
	appendRows(l, schema.SilverImpressions, []impressionRow{r1, r2})
	appendRows(l, schema.SilverImpressions, []impressionRow{r3, r4})
	next := impression(at.Add(24*time.Hour), "", "")
	next.Country, next.CostUSD = "", nan
	appendRows(l, schema.SilverImpressions, []impressionRow{next}) // another date
	appendRows(l, schema.SilverClicks, []clickRow{click(at, "u1", "c1"), click(at, "", "c1")})

	rs, err := NewChecker(l.Cat, limits(), AsOf(dqDay.AddDate(0, 0, 2)), Only(NullRate, UnknownCreative)).Date(ctx, dqDay)
	if err != nil {
		t.Fatal(err)
	}
	null := func(table, col string, obs float64, st Status, detail string) Result {
		return Result{Date: dqDay, Check: NullRate, Table: table, Partition: "event_date=2026-11-25/column=" + col, Observed: obs,
			Low: 0, High: 0.3, Status: st, Expected: "below 0.3 (warn at 0.3, fail at 0.6)", Detail: detail}
	}
	want := []Result{
		null("silver.impressions", "user_key", 0.25, Pass, "1 of 4 rows null"),
		null("silver.impressions", "country", 0.5, Warn, "2 of 4 rows null"),
		null("silver.impressions", "cost_usd", 0.25, Pass, "1 of 4 rows null"),
		null("silver.clicks", "user_key", 0.5, Warn, "1 of 2 rows null"),
		null("silver.conversions", "user_key", 0, Pass, "0 of 0 rows null"),
		null("silver.bid_requests", "user_key", 0, Pass, "0 of 0 rows null"),
		null("silver.bid_requests", "country", 0, Pass, "0 of 0 rows null"),
		{Date: dqDay, Check: UnknownCreative, Table: "silver.impressions", Partition: "event_date=2026-11-25", Observed: 0.25,
			Low: 0, High: 0.005, Status: Fail, Expected: "below 0.005 (warn at 0.005, fail at 0.05)",
			Detail: "1 of 4 impressions with a creative unknown to ref.creatives"},
	}
	expectResults(t, rs, want)

	// Every monitored column of every silver table is checked, in feed order.
	var cols []string
	for _, r := range rs[:7] {
		cols = append(cols, r.Table+"/"+r.Partition[len("event_date=2026-11-25/column="):])
	}
	var monitored []string
	for _, f := range schema.Feeds {
		for _, tb := range f.Silver {
			for _, c := range tb.Monitored {
				monitored = append(monitored, tb.String()+"/"+c)
			}
		}
	}
	if !slices.Equal(cols, monitored) {
		t.Errorf("null rates of %v, want the monitored columns %v", cols, monitored)
	}

	lim := limits()
	lim.UnknownCreative.Severity = "warn"
	rs, err = NewChecker(l.Cat, lim, Only(UnknownCreative)).Date(ctx, dqDay)
	if err != nil || len(rs) != 1 || rs[0].Status != Warn {
		t.Fatalf("severity warn: %+v, %v", rs, err)
	}
}

// TestOrphanClicks: a click is matched by an impression of its user and
// campaign at most 24 h before it (the day before included).
func TestOrphanClicks(t *testing.T) {
	l := newLake(t)
	at := func(dayOffset, h int) time.Time {
		return dqDay.AddDate(0, 0, dayOffset).Add(time.Duration(h) * time.Hour)
	}
	appendRows(l, schema.SilverImpressions, []impressionRow{
		impression(at(0, 8), "u1", "c1"),  // matches u1's clicks at 09 and 10
		impression(at(-1, 8), "u2", "c1"), // 25 h before u2's click
		impression(at(0, 12), "u3", "c1"), // after u3's click
		impression(at(-1, 23), "u5", "c1"),
		impression(at(0, 5), "u6", "c2"),  // another campaign
		impression(at(-1, 7), "u7", "c1"), // exactly 24 h before
		impression(at(0, 3), "u8", "c1"),  // at the same time
	})
	appendRows(l, schema.SilverClicks, []clickRow{
		click(at(0, 9), "u1", "c1"), click(at(0, 10), "u1", "c1"),
		click(at(0, 9), "u2", "c1"),  // orphan
		click(at(0, 11), "u3", "c1"), // orphan
		click(at(0, 9), "", "c1"),    // no user: not counted
		click(at(0, 1), "u5", "c1"),
		click(at(0, 6), "u6", "c1"), // orphan
		click(at(0, 7), "u7", "c1"),
		click(at(0, 3), "u8", "c1"),
		click(at(1, 9), "u9", "c1"), // another date
	})
	rs, err := NewChecker(l.Cat, limits(), Only(OrphanClicks)).Date(context.Background(), dqDay)
	if err != nil {
		t.Fatal(err)
	}
	expectResults(t, rs, []Result{{Date: dqDay, Check: OrphanClicks, Table: "silver.clicks", Partition: "event_date=2026-11-25",
		Observed: 3.0 / 8, Low: 0, High: 0.01, Status: Fail, Expected: "below 0.01 (warn at 0.01, fail at 0.05)",
		Detail: "3 of 8 clicks with no impression of the user and campaign in the 24 h before"}})
}

var asOf = time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC)

func lagResult(check, table, part string, obs float64, high float64, st Status, expected, detail string) Result {
	return Result{Date: dqDay.AddDate(0, 0, 1), Check: check, Table: table, Partition: part, Observed: obs, Low: 0, High: high,
		Status: st, Expected: expected, Detail: detail}
}

const (
	eventLimits   = "below 90 (warn at 90, fail at 240) minutes"
	landingLimits = "below 60 (warn at 60, fail at 180) minutes"
	jobLimits     = "below 30 (warn at 30, fail at 120) minutes"
)

// TestNowNoData: nothing ever arrived, nothing ever ran: every lag fails
// with nothing observed.
func TestNowNoData(t *testing.T) {
	l := newLake(t)
	rs, err := NewChecker(l.Cat, limits(), AsOf(asOf)).Now(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	expectResults(t, rs, []Result{
		lagResult(FreshnessEvent, "silver.impressions", "", nan, 90, Fail, eventLimits, "no event yet"),
		lagResult(FreshnessEvent, "silver.clicks,silver.conversions", "", nan, 90, Fail, eventLimits, "no event yet"),
		lagResult(FreshnessEvent, "silver.bid_requests", "", nan, 90, Fail, eventLimits, "no event yet"),
		lagResult(FreshnessLanding, "bronze.impressions", "", nan, 60, Fail, landingLimits, "no landing hour ended yet"),
		lagResult(FreshnessLanding, "bronze.clicks_conversions", "", nan, 60, Fail, landingLimits, "no landing hour ended yet"),
		lagResult(FreshnessLanding, "bronze.bid_requests", "", nan, 60, Fail, landingLimits, "no landing hour ended yet"),
		lagResult(JobNotRun, "ops.runs", "job=ingest", nan, 30, Fail, jobLimits, "no successful ingest run finished yet"),
	})
	lim := limits()
	lim.FreshEvents.Severity = "warn"
	rs, err = NewChecker(l.Cat, lim, AsOf(asOf), Only(FreshnessEvent)).Now(context.Background())
	if err != nil || len(rs) != 3 || rs[0].Status != Warn || rs[2].Status != Warn {
		t.Fatalf("severity warn caps no data: %+v, %v", rs, err)
	}
}

// TestNowWithData measures each lag up to the as-of time: the newest
// event of a feed's silver tables, the end of the newest landing hour in
// its bronze ledger, the last ingest run that succeeded.
func TestNowWithData(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	appendRows(l, schema.SilverImpressions, []impressionRow{
		impression(time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), "u", "c"),
		impression(time.Date(2026, 11, 25, 22, 50, 0, 0, time.UTC), "u", "c"), // 100 minutes before
	})
	appendRows(l, schema.SilverClicks, []clickRow{click(time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), "u", "c")})
	appendRows(l, schema.SilverConversions, []conversionRow{conversion(time.Date(2026, 11, 26, 0, 10, 0, 0, time.UTC))}) // 20 minutes
	appendRows(l, schema.SilverBidRequests, []bidRequestRow{bidRequest(asOf.Add(5 * time.Minute))})                      // after as-of: 0

	l.landed(schema.BronzeImpressions, "impressions/dt=2026-11-25/hr=20/a.json")
	l.landed(schema.BronzeClicksConversions, "clicks_conversions/dt=2026-11-25/hr=22/a.csv")
	l.landed(schema.BronzeClicksConversions, "clicks_conversions/dt=2026-11-25/hr=23/b.csv.gz", "clicks_conversions/dt=2026-11-26/hr=00/_SUCCESS")

	fin := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }
	run := func(id, job, status string, finished time.Time) schema.RunRow {
		return schema.RunRow{RunID: id, Job: job, Feed: "impressions", Status: status, Started: finished.Add(-time.Minute), Finished: finished}
	}
	if err := runs.Append(ctx, l.Cat, []schema.RunRow{
		run("i1", schema.JobIngest, schema.RunOK, fin(23, 0)),
		run("i2", schema.JobIngest, schema.RunPartial, fin(23, 45)), // the last success: 45 minutes
		run("i3", schema.JobIngest, schema.RunFailed, asOf.Add(-10*time.Minute)),
		run("g1", schema.JobGold, schema.RunOK, asOf.Add(-5*time.Minute)),
	}); err != nil {
		t.Fatal(err)
	}

	rs, err := NewChecker(l.Cat, limits(), AsOf(asOf)).Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as := ", as of 2026-11-26T00:30:00Z"
	expectResults(t, rs, []Result{
		lagResult(FreshnessEvent, "silver.impressions", "", 100, 90, Warn, eventLimits, "newest event 2026-11-25T22:50:00Z"+as),
		lagResult(FreshnessEvent, "silver.clicks,silver.conversions", "", 20, 90, Pass, eventLimits, "newest event 2026-11-26T00:10:00Z"+as),
		lagResult(FreshnessEvent, "silver.bid_requests", "", 0, 90, Pass, eventLimits, "newest event 2026-11-26T00:35:00Z"+as),
		lagResult(FreshnessLanding, "bronze.impressions", "", 210, 60, Fail, landingLimits, "newest landing hour ended 2026-11-25T21:00:00Z"+as),
		lagResult(FreshnessLanding, "bronze.clicks_conversions", "", 30, 60, Pass, landingLimits, "newest landing hour ended 2026-11-26T00:00:00Z"+as),
		lagResult(FreshnessLanding, "bronze.bid_requests", "", nan, 60, Fail, landingLimits, "no landing hour ended yet"),
		lagResult(JobNotRun, "ops.runs", "job=ingest", 45, 30, Warn, jobLimits, "newest successful ingest run finished 2026-11-25T23:45:00Z"+as),
	})
}

// TestRecord writes results and reads them back by name: unbounded and
// unobserved values are null, the run's identity is on every row and on
// the commit.
func TestRecord(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	run := JobRun{ID: "quality-1", Job: schema.JobQuality, At: at}
	rs := []Result{
		{Date: dqDay, Check: FreshnessEvent, Table: "silver.impressions", Observed: nan, Low: 0, High: 90, Expected: eventLimits, Status: Fail, Detail: "no event yet"},
		{Date: dqDay, Check: RowCount, Table: "silver.clicks", Partition: "event_date=2026-11-25/hour=13", Observed: 12, Low: nan, High: nan, Expected: "learning", Status: Pass},
	}
	if err := Record(ctx, l.Cat, run, rs); err != nil {
		t.Fatal(err)
	}
	if err := Record(ctx, l.Cat, run, nil); err != nil {
		t.Fatal(err)
	}
	if n := l.commits(schema.DQResults); n != 1 {
		t.Fatalf("%d commits, want 1 (none for no results)", n)
	}
	got := l.dqRows()
	want := []schema.DQResultRow{
		{Date: dqDay, Check: FreshnessEvent, Table: "silver.impressions", Observed: nan, Low: 0, High: 90, Expected: eventLimits, Status: "fail", Detail: "no event yet", Job: "quality", RunID: "quality-1", At: at},
		{Date: dqDay, Check: RowCount, Table: "silver.clicks", Partition: "event_date=2026-11-25/hour=13", Observed: 12, Low: nan, High: nan, Expected: "learning", Status: "pass", Job: "quality", RunID: "quality-1", At: at},
	}
	if len(got) != 2 {
		t.Fatalf("%d rows", len(got))
	}
	for i, w := range want {
		g := got[i]
		if !g.Date.Equal(w.Date) || g.Check != w.Check || g.Table != w.Table || g.Partition != w.Partition || !near(g.Observed, w.Observed) ||
			!near(g.Low, w.Low) || !near(g.High, w.High) || g.Expected != w.Expected || g.Status != w.Status || g.Detail != w.Detail ||
			g.Job != w.Job || g.RunID != w.RunID || !g.At.Equal(w.At) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	tbl, err := l.Cat.Load(ctx, schema.DQResults)
	if err != nil {
		t.Fatal(err)
	}
	if p := tbl.CurrentSnapshot().Summary.Properties; p[ledger.PropJob] != "quality" || p[ledger.PropRunID] != "quality-1" {
		t.Fatalf("commit properties %v", p)
	}
}

// TestFailures: what holds gold back for a date is the failed partition
// checks of the latest run that checked the date's partitions.
func TestFailures(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	res := func(d time.Time, check string, st Status, obs float64) Result {
		return Result{Date: d, Check: check, Table: "silver.impressions", Partition: "event_date=" + d.Format(time.DateOnly),
			Observed: obs, Low: 0, High: 0.3, Expected: "below 0.3", Status: st}
	}
	record := func(id, job string, at time.Time, rs ...Result) {
		t.Helper()
		if err := Record(ctx, l.Cat, JobRun{ID: id, Job: job, At: at}, rs); err != nil {
			t.Fatal(err)
		}
	}
	failures := func(d time.Time) []Result {
		t.Helper()
		rs, err := Failures(ctx, l.Cat, d)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	if rs := failures(dqDay); len(rs) != 0 {
		t.Fatalf("no run yet: %+v", rs)
	}
	record("q1", schema.JobDaily, t0, res(dqDay, RowCount, Fail, 0), res(dqDay, NullRate, Pass, 0.1), res(dqDay, UnknownCreative, Fail, 0.4))
	clear := func(r Result) Result { r.Low, r.High = 0, 0; return r }
	expectResults(t, failures(dqDay.Add(13*time.Hour)), []Result{clear(res(dqDay, RowCount, Fail, 0)), clear(res(dqDay, UnknownCreative, Fail, 0.4))})

	record("q2", schema.JobQuality, t0.Add(time.Hour), res(dqDay, RowCount, Pass, 200), res(dqDay, UnknownCreative, Pass, 0))
	if rs := failures(dqDay); len(rs) != 0 {
		t.Fatalf("the latest run passed: %+v", rs)
	}
	// Per-run and "now" checks about the date do not count.
	record("i1", schema.JobIngest, t0.Add(2*time.Hour), res(dqDay, Reconciliation, Fail, 3), res(dqDay, FreshnessEvent, Fail, 500))
	if rs := failures(dqDay); len(rs) != 0 {
		t.Fatalf("a per-run check holds gold back: %+v", rs)
	}
	// Another date's run does not either.
	yesterday := dqDay.AddDate(0, 0, -1)
	record("q3", schema.JobQuality, t0.Add(3*time.Hour), res(yesterday, OrphanClicks, Fail, 0.5))
	if rs := failures(dqDay); len(rs) != 0 {
		t.Fatalf("another date's failure: %+v", rs)
	}
	expectResults(t, failures(yesterday), []Result{clear(res(yesterday, OrphanClicks, Fail, 0.5))})
	// A later run fails again.
	record("q4", schema.JobQuality, t0.Add(4*time.Hour), res(dqDay, NullRate, Fail, 0.7), res(dqDay, RowCount, Pass, 200))
	expectResults(t, failures(dqDay), []Result{clear(res(dqDay, NullRate, Fail, 0.7))})
}
