package gold_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the independent engine (tests only)

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

func ingest(t *testing.T, l laketest.Lake, runID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: runID}); err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, l.Store, l.Cat, nil, runID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.Run(ctx, l.Cat, silver.Options{RunID: runID, PseudonymKey: "test-key"}); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, l laketest.Lake, key, body string) {
	t.Helper()
	p := filepath.Join(l.Dir, "landing", filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"

func impLine(id, ts, user, creative string) string {
	return fmt.Sprintf(`{"impression_id":%q,"ts":%q,"user_id":%q,"creative_id":%q,"site":{"domain":"site001.example.com"},"request_id":null,"win_price_cpm_micros":1500000,"currency":"USD","device":{"type":"desktop","ua":%q}}`+"\n", id, ts, user, creative, ua)
}

const csvHeader = "event_id,event_type,event_ts,user_id,campaign_id,creative_id,conversion_type,conversion_value,currency,order_id,site_domain,user_agent,ip\n"

func clickLine(id, ts, user, campaign string) string {
	return fmt.Sprintf("%s,click,%s,%s,%s,,,,,,,%s,\n", id, ts, user, campaign, ua)
}
func convLine(id, ts, user, campaign string) string {
	return fmt.Sprintf("%s,conversion,%s,%s,%s,,purchase,10.00,USD,,,%s,\n", id, ts, user, campaign, ua)
}

// edges writes ties and window-edge cases the generator rarely makes
// (cr-0001 belongs to cmp-001). Conversions on 2026-11-27.
func edges(t *testing.T, l laketest.Lake) {
	put(t, l, "impressions/dt=2026-11-27/hr=23/edges.json",
		// click exactly 24 h after a tie of impressions (on D-8), itself exactly 7 d before the conversion
		impLine("imp-edge-1a", "2026-11-19T10:00:00.000Z", "u-edge-1", "cr-0001")+
			impLine("imp-edge-1b", "2026-11-19T10:00:00.000Z", "u-edge-1", "cr-0001")+
			// view exactly 1 day
			impLine("imp-edge-2", "2026-11-26T08:00:00.000Z", "u-edge-2", "cr-0001")+
			// view 1 day and 1 ms: none
			impLine("imp-edge-3", "2026-11-26T07:59:59.999Z", "u-edge-3", "cr-0001")+
			// a tie of impressions for a view
			impLine("imp-edge-4a", "2026-11-27T01:00:00.000Z", "u-edge-4", "cr-0001")+
			impLine("imp-edge-4b", "2026-11-27T01:00:00.000Z", "u-edge-4", "cr-0001"))
	put(t, l, "clicks_conversions/dt=2026-11-27/hr=23/edges.csv", csvHeader+
		clickLine("clk-edge-1a", "2026-11-20T10:00:00.000Z", "u-edge-1", "cmp-001")+
		clickLine("clk-edge-1b", "2026-11-20T10:00:00.000Z", "u-edge-1", "cmp-001")+
		convLine("cnv-edge-1", "2026-11-27T10:00:00.000Z", "u-edge-1", "cmp-001")+
		convLine("cnv-edge-2", "2026-11-27T08:00:00.000Z", "u-edge-2", "cmp-001")+
		convLine("cnv-edge-3", "2026-11-27T08:00:00.000Z", "u-edge-3", "cmp-001")+
		// 7 days and 1 ms after its click: none
		clickLine("clk-edge-5", "2026-11-20T09:59:59.999Z", "u-edge-5", "cmp-001")+
		convLine("cnv-edge-5", "2026-11-27T10:00:00.000Z", "u-edge-5", "cmp-001")+
		convLine("cnv-edge-4", "2026-11-27T02:00:00.000Z", "u-edge-4", "cmp-001"))
}

// paths lists the data files of a table's current snapshot.
func paths(t *testing.T, l laketest.Lake, tb schema.Table) string {
	t.Helper()
	tbl, err := l.Cat.Load(context.Background(), tb)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.CurrentSnapshot() == nil {
		return "[]"
	}
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, task := range tasks {
		ps = append(ps, "'"+strings.TrimPrefix(task.File.FilePath(), "file://")+"'")
	}
	if len(ps) == 0 {
		return "[]"
	}
	return "[" + strings.Join(ps, ",") + "]"
}

// The same rules, in DuckDB SQL over the silver Parquet files.
const duckAttribution = `
CREATE TABLE imp AS SELECT * FROM read_parquet(%s);
CREATE TABLE clk AS SELECT * FROM read_parquet(%s);
CREATE TABLE cnv AS SELECT * FROM read_parquet(%s);
CREATE TABLE bid AS SELECT * FROM read_parquet(%s);
CREATE TABLE ai AS SELECT * FROM imp WHERE NOT is_bot AND user_key IS NOT NULL AND campaign_id IS NOT NULL;
CREATE TABLE km AS
SELECT k.event_id, k.user_key, k.campaign_id, k.event_ts, k.creative_id, k.site_domain,
       i.impression_id, i.event_ts AS its, i.creative_id AS icr, i.site_domain AS isite
FROM (SELECT * FROM clk WHERE NOT is_bot AND user_key IS NOT NULL) k
LEFT JOIN ai i ON i.user_key = k.user_key AND i.campaign_id = k.campaign_id
  AND i.event_ts <= k.event_ts AND i.event_ts >= k.event_ts - INTERVAL '%d microseconds'
QUALIFY row_number() OVER (PARTITION BY k.event_id ORDER BY i.event_ts DESC NULLS LAST, i.impression_id DESC NULLS LAST) = 1;
CREATE TABLE lc AS
SELECT c.event_id, k.event_id AS click_id, k.event_ts AS click_ts, k.impression_id, k.its, k.creative_id, k.site_domain, k.icr, k.isite
FROM (SELECT * FROM cnv WHERE NOT is_bot) c
LEFT JOIN km k ON k.user_key = c.user_key AND k.campaign_id = c.campaign_id
  AND k.event_ts <= c.event_ts AND k.event_ts >= c.event_ts - INTERVAL '%d microseconds'
QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY k.event_ts DESC NULLS LAST, k.event_id DESC NULLS LAST) = 1;
CREATE TABLE lv AS
SELECT c.event_id, i.impression_id, i.event_ts AS its, i.creative_id, i.site_domain
FROM (SELECT * FROM cnv WHERE NOT is_bot) c
LEFT JOIN ai i ON i.user_key = c.user_key AND i.campaign_id = c.campaign_id
  AND i.event_ts <= c.event_ts AND i.event_ts >= c.event_ts - INTERVAL '%d microseconds'
QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY i.event_ts DESC NULLS LAST, i.impression_id DESC NULLS LAST) = 1;
CREATE TABLE attr AS
SELECT c.event_date, c.event_id AS conversion_id, c.event_ts, c.campaign_id, c.advertiser_id, c.user_key, c.conversion_type, c.conversion_value_usd,
  CASE WHEN lc.click_id IS NOT NULL THEN 'click' WHEN lv.impression_id IS NOT NULL THEN 'view' ELSE 'none' END AS attribution,
  lc.click_id, lc.click_ts,
  CASE WHEN lc.click_id IS NOT NULL THEN lc.impression_id ELSE lv.impression_id END AS impression_id,
  CASE WHEN lc.click_id IS NOT NULL THEN lc.its ELSE lv.its END AS impression_ts,
  CASE WHEN lc.click_id IS NOT NULL THEN coalesce(lc.creative_id, lc.icr) ELSE lv.creative_id END AS creative_id,
  CASE WHEN lc.click_id IS NOT NULL THEN coalesce(lc.site_domain, lc.isite) ELSE lv.site_domain END AS site_domain,
  CASE WHEN lc.click_id IS NOT NULL THEN (epoch_us(c.event_ts) - epoch_us(lc.click_ts)) // 1000000
       WHEN lv.impression_id IS NOT NULL THEN (epoch_us(c.event_ts) - epoch_us(lv.its)) // 1000000 END AS seconds
FROM (SELECT * FROM cnv WHERE NOT is_bot) c LEFT JOIN lc USING (event_id) LEFT JOIN lv USING (event_id);
`

const duckAttributed = `SELECT concat_ws('|', conversion_id, epoch_us(event_ts), campaign_id, coalesce(advertiser_id,'-'), coalesce(user_key,'-'), conversion_type,
  coalesce(printf('%%.6f', conversion_value_usd),'-'), attribution, coalesce(click_id,'-'), coalesce(epoch_us(click_ts)::VARCHAR,'-'),
  coalesce(impression_id,'-'), coalesce(epoch_us(impression_ts)::VARCHAR,'-'), coalesce(creative_id,'-'), coalesce(site_domain,'-'), coalesce(seconds::VARCHAR,'-'))
FROM %s WHERE event_date = DATE '%s' ORDER BY 1`

const goldAttributed = `SELECT concat_ws('|', conversion_id, epoch_us(conversion_ts), campaign_id, coalesce(advertiser_id,'-'), coalesce(user_key,'-'), conversion_type,
  coalesce(printf('%%.6f', conversion_value_usd),'-'), attribution, coalesce(click_id,'-'), coalesce(epoch_us(click_ts)::VARCHAR,'-'),
  coalesce(impression_id,'-'), coalesce(epoch_us(impression_ts)::VARCHAR,'-'), coalesce(creative_id,'-'), coalesce(site_domain,'-'), coalesce(seconds_to_convert::VARCHAR,'-'))
FROM read_parquet(%s) WHERE event_date = DATE '%s' ORDER BY 1`

const duckCampaign = `
WITH i AS (SELECT campaign_id, count(*) FILTER (NOT is_bot) imps, count(*) FILTER (is_bot) bots, coalesce(sum(cost_usd), 0) spend, max(advertiser_id) adv
           FROM imp WHERE event_date = DATE '%[1]s' AND campaign_id IS NOT NULL GROUP BY 1),
     k AS (SELECT campaign_id, count(*) FILTER (NOT is_bot) clicks, count(*) FILTER (is_bot) bot_clicks, max(advertiser_id) adv
           FROM clk WHERE event_date = DATE '%[1]s' GROUP BY 1),
     c AS (SELECT campaign_id, count(*) convs, coalesce(sum(conversion_value_usd), 0) val, max(advertiser_id) adv
           FROM cnv WHERE event_date = DATE '%[1]s' AND NOT is_bot GROUP BY 1),
     a AS (SELECT campaign_id, count(*) FILTER (attribution = 'click') cc, count(*) FILTER (attribution = 'view') vc,
                  coalesce(sum(conversion_value_usd) FILTER (attribution <> 'none'), 0) av
           FROM attr WHERE event_date = DATE '%[1]s' GROUP BY 1),
     ids AS (SELECT campaign_id FROM i UNION SELECT campaign_id FROM k UNION SELECT campaign_id FROM c)
SELECT concat_ws('|', ids.campaign_id, coalesce(greatest(i.adv, k.adv, c.adv), '-'), coalesce(imps, 0), coalesce(clicks, 0), coalesce(convs, 0),
  coalesce(cc, 0), coalesce(vc, 0), printf('%%.6f', coalesce(val, 0)), printf('%%.6f', coalesce(av, 0)), printf('%%.6f', coalesce(spend, 0)),
  coalesce(printf('%%.6f', coalesce(clicks, 0) / nullif(imps, 0)), '-'), coalesce(printf('%%.6f', coalesce(convs, 0) / nullif(clicks, 0)), '-'),
  coalesce(printf('%%.6f', coalesce(spend, 0) / nullif(convs, 0)), '-'), coalesce(bots, 0), coalesce(bot_clicks, 0))
FROM ids LEFT JOIN i USING (campaign_id) LEFT JOIN k USING (campaign_id) LEFT JOIN c USING (campaign_id) LEFT JOIN a USING (campaign_id) ORDER BY 1`

const goldCampaign = `SELECT concat_ws('|', campaign_id, coalesce(advertiser_id, '-'), impressions, clicks, conversions, click_conversions, view_conversions,
  printf('%%.6f', conversion_value_usd), printf('%%.6f', attributed_value_usd), printf('%%.6f', spend_usd),
  coalesce(printf('%%.6f', ctr), '-'), coalesce(printf('%%.6f', cvr), '-'), coalesce(printf('%%.6f', cpa_usd), '-'), bot_impressions, bot_clicks)
FROM read_parquet(%s) WHERE event_date = DATE '%s' ORDER BY 1`

// Bid currencies are all USD in generated data; the SQL takes USD only.
const duckFunnel = `
WITH b AS (SELECT * FROM bid WHERE event_date = DATE '%[1]s' AND NOT is_test),
     w AS (SELECT b.exchange, count(*) wins, coalesce(sum(i.cost_usd), 0) spend FROM b
           JOIN imp i ON i.request_id = b.request_id AND i.event_date BETWEEN DATE '%[1]s' AND DATE '%[1]s' + 1
           WHERE b.has_bid GROUP BY 1),
     f AS (SELECT exchange, count(*) n, count(*) FILTER (has_bid) bids,
                  avg(bid_price_micros / 1e6) FILTER (has_bid AND bid_price_micros IS NOT NULL AND upper(coalesce(nullif(bid_currency, ''), 'USD')) = 'USD') cpm,
                  count(*) FILTER (has_bid AND bid_price_micros IS NOT NULL AND upper(coalesce(nullif(bid_currency, ''), 'USD')) = 'USD') priced
           FROM b GROUP BY 1)
SELECT concat_ws('|', exchange, n, bids, coalesce(wins, 0), coalesce(printf('%%.6f', coalesce(wins, 0) / nullif(bids, 0)), '-'),
  coalesce(printf('%%.6f', cpm), '-'), priced, printf('%%.6f', coalesce(spend, 0)))
FROM f LEFT JOIN w USING (exchange) ORDER BY 1`

const goldFunnel = `SELECT concat_ws('|', exchange, bid_requests, bids, wins, coalesce(printf('%%.6f', win_rate), '-'),
  coalesce(printf('%%.6f', avg_bid_cpm_usd), '-'), priced_bids, printf('%%.6f', spend_usd))
FROM read_parquet(%s) WHERE event_date = DATE '%s' ORDER BY 1`

func query(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// duck loads the silver tables into a fresh DuckDB and runs the attribution.
func duck(t *testing.T, l laketest.Lake) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	w := gold.DefaultWindows
	q := fmt.Sprintf(duckAttribution, paths(t, l, schema.SilverImpressions), paths(t, l, schema.SilverClicks),
		paths(t, l, schema.SilverConversions), paths(t, l, schema.SilverBidRequests),
		w.ClickToImpression.Microseconds(), w.ConversionToClick.Microseconds(), w.ConversionToView.Microseconds())
	if _, err := db.Exec("SET TimeZone = 'UTC';" + q); err != nil {
		t.Fatal(err)
	}
	return db
}

// golds returns the rows of the three gold tables for day, as text.
func golds(t *testing.T, l laketest.Lake, db *sql.DB, day string) [3][]string {
	return [3][]string{
		query(t, db, fmt.Sprintf(goldAttributed, paths(t, l, schema.GoldAttributedConversions), day)),
		query(t, db, fmt.Sprintf(goldCampaign, paths(t, l, schema.GoldCampaignDaily), day)),
		query(t, db, fmt.Sprintf(goldFunnel, paths(t, l, schema.GoldBidFunnelDaily), day)),
	}
}

func expected(t *testing.T, db *sql.DB, day string) [3][]string {
	return [3][]string{
		query(t, db, fmt.Sprintf(duckAttributed, "attr", day)),
		query(t, db, fmt.Sprintf(duckCampaign, day)),
		query(t, db, fmt.Sprintf(duckFunnel, day)),
	}
}

func compare(t *testing.T, day string, got, want [3][]string) {
	t.Helper()
	for i, name := range []string{"attributed_conversions", "campaign_daily", "bid_funnel_daily"} {
		if !slices.Equal(got[i], want[i]) {
			n := 0
			for _, g := range got[i] {
				if !slices.Contains(want[i], g) && n < 5 {
					t.Errorf("%s %s: gold has   %s", day, name, g)
					n++
				}
			}
			for _, w := range want[i] {
				if !slices.Contains(got[i], w) && n < 10 {
					t.Errorf("%s %s: duckdb has %s", day, name, w)
					n++
				}
			}
			t.Errorf("%s %s: %d rows, duckdb %d", day, name, len(got[i]), len(want[i]))
		}
	}
}

func TestGoldEndToEnd(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	if err := l.Cat.Ensure(ctx, schema.Gold()...); err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Run(ctx, l.Store, gen.Options{Seed: 21, Days: 3, ImpressionsPerDay: 3000, Defects: true}); err != nil {
		t.Fatal(err)
	}
	edges(t, l)
	ingest(t, l, "ingest-1")

	first, last := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	stale, err := gold.Stale(ctx, l.Cat, first, last, gold.Windows{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 10 || !strings.HasPrefix(stale[0].Reason, "never built") {
		t.Fatalf("before any build: %d stale dates %v, want 10 never built", len(stale), stale)
	}
	spillDir := t.TempDir()
	var spills int
	attr := map[string]int64{}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		o := gold.Options{RunID: "gold-1", SpillDir: spillDir}
		if d.Day()%2 == 1 {
			o.MemoryBudget = 16 << 10 // tiny: the sorts spill
		}
		rep, err := gold.Build(ctx, l.Cat, d, o)
		if err != nil {
			t.Fatal(err)
		}
		spills += rep.Sort.SpillFiles
		for k, v := range rep.Attribution {
			attr[k] += v
		}
		if rep.Commits != 3 || len(rep.Inputs) == 0 {
			t.Fatalf("%s: report %+v", d, rep)
		}
	}
	if spills == 0 {
		t.Fatal("no build spilled")
	}
	if left, _ := os.ReadDir(spillDir); len(left) != 0 {
		t.Fatalf("%d entries left in the spill folder", len(left))
	}
	if attr[gold.AttrClick] == 0 || attr[gold.AttrView] == 0 || attr[gold.AttrNone] == 0 {
		t.Fatalf("attribution counts %v: every kind should occur", attr)
	}
	t.Logf("attribution %v, spill files %d", attr, spills)

	db := duck(t, l)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		compare(t, day, golds(t, l, db, day), expected(t, db, day))
	}
	// The edge cases, exactly.
	edgeWant := map[string]string{
		"cnv-edge-1": "click|clk-edge-1b|imp-edge-1b|604800",
		"cnv-edge-2": "view|-|imp-edge-2|86400",
		"cnv-edge-3": "none|-|-|-",
		"cnv-edge-4": "view|-|imp-edge-4b|3600",
		"cnv-edge-5": "none|-|-|-",
	}
	for _, row := range golds(t, l, db, "2026-11-27")[0] {
		f := strings.Split(row, "|")
		if w, ok := edgeWant[f[0]]; ok {
			if got := strings.Join([]string{f[7], f[8], f[10], f[14]}, "|"); got != w {
				t.Errorf("%s: %s, want %s", f[0], got, w)
			}
			delete(edgeWant, f[0])
		}
	}
	if len(edgeWant) != 0 {
		t.Errorf("edge conversions missing: %v", edgeWant)
	}
	if t.Failed() {
		return
	}

	// (c) Nothing is stale; a rebuild of a day gives the same rows.
	if stale, err := gold.Stale(ctx, l.Cat, first, last, gold.Windows{}); err != nil || len(stale) != 0 {
		t.Fatalf("after building: stale %v, %v", stale, err)
	}
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	before := golds(t, l, db, "2026-11-26")
	if _, err := gold.Build(ctx, l.Cat, day, gold.Options{RunID: "gold-2"}); err != nil {
		t.Fatal(err)
	}
	compare(t, "2026-11-26 rebuilt", golds(t, l, db, "2026-11-26"), before)

	// (d) A late conversion for 2026-11-26 makes that date, and only it, stale.
	put(t, l, "clicks_conversions/dt=2026-11-28/hr=02/late.csv", csvHeader+
		convLine("cnv-late-1", "2026-11-26T12:00:00.000Z", "u-edge-2", "cmp-001"))
	ingest(t, l, "ingest-2")
	stale, err = gold.Stale(ctx, l.Cat, first, last, gold.Windows{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || !stale[0].Date.Equal(day) || !strings.Contains(stale[0].Reason, "silver.conversions") {
		t.Fatalf("after a late conversion: stale %v, want only 2026-11-26", stale)
	}
	if _, err := gold.Build(ctx, l.Cat, day, gold.Options{RunID: "gold-3"}); err != nil {
		t.Fatal(err)
	}
	db2 := duck(t, l)
	got := golds(t, l, db2, "2026-11-26")
	compare(t, "2026-11-26 restated", got, expected(t, db2, "2026-11-26"))
	if len(got[0]) != len(before[0])+1 {
		t.Fatalf("restated day has %d conversions, want %d", len(got[0]), len(before[0])+1)
	}
	if stale, err := gold.Stale(ctx, l.Cat, first, last, gold.Windows{}); err != nil || len(stale) != 0 {
		t.Fatalf("after the restatement: stale %v, %v", stale, err)
	}
}
