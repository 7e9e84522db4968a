// Command gold-bench measures gold attribution for one day against the
// same rules in DuckDB SQL over the same silver Parquet files, and prints
// one JSON line. It is a benchmark harness, not part of the product (it
// links DuckDB; cmd/adlake does not).
//
//	go run ./bench/gold -dir /tmp/goldbench -impressions 1000000
//
// With an empty -dir it first generates one day (jobs/gen) and ingests it
// to silver. Each engine runs in a child process of its own, so that each
// peak RSS (VmHWM) is its own.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

type result struct {
	Engine      string           `json:"engine"`
	Seconds     float64          `json:"seconds"`
	PeakRSSMiB  float64          `json:"peak_rss_mib"`
	Rows        int64            `json:"rows"`
	Attribution map[string]int64 `json:"attribution"`
	SpillFiles  int              `json:"spill_files,omitempty"`
	SpillMiB    float64          `json:"spill_mib,omitempty"`
	Sorted      int64            `json:"impressions_sorted,omitempty"`
	Read        int64            `json:"impressions_read,omitempty"`
}

func main() {
	dir := flag.String("dir", "", "lake folder (landing/, warehouse/, catalog.db); generated when it has no silver data")
	imps := flag.Int("impressions", 10_000_000, "impressions per day to generate")
	day := flag.String("date", "2026-11-25", "event date to attribute")
	budget := flag.Int64("budget-mib", 512, "gold memory budget")
	mode := flag.String("mode", "", "internal: gold, duckdb or duckdb-asof (child processes)")
	engines := flag.String("engines", "gold,duckdb-asof,duckdb", "engines to run, in order; duckdb is the exact window-function SQL, slow at scale")
	flag.Parse()
	if err := run(*dir, *imps, *day, *budget, *mode, strings.Split(*engines, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "gold-bench:", err)
		os.Exit(1)
	}
}

func run(dir string, imps int, dayS string, budget int64, mode string, engines []string) error {
	ctx := context.Background()
	if dir == "" {
		return errors.New("-dir is required")
	}
	day, err := time.Parse(time.DateOnly, dayS)
	if err != nil {
		return err
	}
	cat, err := catalog.Open(ctx, catalog.Options{URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse")})
	if err != nil {
		return err
	}
	defer cat.Close()
	switch mode {
	case "gold":
		start := time.Now()
		rep, err := gold.Attribute(ctx, cat, day, gold.Options{MemoryBudget: budget << 20, SpillDir: dir})
		if err != nil {
			return err
		}
		return emit(result{Engine: "gold", Seconds: time.Since(start).Seconds(), PeakRSSMiB: hwm(), Rows: rep.Rows[schema.GoldAttributedConversions.String()],
			Attribution: rep.Attribution, SpillFiles: rep.Sort.SpillFiles, SpillMiB: float64(rep.Sort.SpillBytes) / (1 << 20),
			Sorted: rep.ImpressionsSorted, Read: rep.ImpressionsRead})
	case "duckdb":
		return duck(ctx, cat, day, attributionSQL, "duckdb")
	case "duckdb-asof":
		return duck(ctx, cat, day, asofSQL, "duckdb-asof")
	}
	if err := prepare(ctx, dir, cat, imps, day); err != nil {
		return err
	}
	summary := map[string]any{"date": dayS}
	var gold, best float64
	same := true
	var first string
	for _, m := range engines {
		cmd := exec.Command(os.Args[0], "-dir", dir, "-date", dayS, "-budget-mib", strconv.FormatInt(budget, 10), "-mode", m)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		var r result
		if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
			return fmt.Errorf("%s output %q: %w", m, out, err)
		}
		summary[m] = r
		if m == "gold" {
			gold = r.Seconds
		} else if best == 0 || r.Seconds < best {
			best = r.Seconds
		}
		if first == "" {
			first = fmt.Sprint(r.Attribution)
		}
		same = same && fmt.Sprint(r.Attribution) == first
	}
	if gold > 0 && best > 0 {
		summary["ratio_to_fastest_duckdb"] = gold / best
	}
	summary["same_counts"] = same
	return json.NewEncoder(os.Stdout).Encode(summary)
}

// prepare generates and ingests one day unless silver has data already.
func prepare(ctx context.Context, dir string, cat *catalog.Catalog, imps int, day time.Time) error {
	if err := cat.Ensure(ctx, schema.All()...); err != nil {
		return err
	}
	tbl, err := cat.Load(ctx, schema.SilverImpressions)
	if err != nil {
		return err
	}
	if tbl.CurrentSnapshot() != nil {
		return nil
	}
	store, err := objstore.NewLocal(filepath.Join(dir, "landing"))
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := gen.Run(ctx, store, gen.Options{Start: day, Days: 1, ImpressionsPerDay: imps}); err != nil {
		return err
	}
	if _, err := bronze.Run(ctx, store, cat, bronze.Options{RunID: "bench"}); err != nil {
		return err
	}
	if err := reference.Load(ctx, store, cat, nil, "bench", nil); err != nil {
		return err
	}
	if _, err := silver.Run(ctx, cat, silver.Options{RunID: "bench", PseudonymKey: "bench-key"}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prepared %d impressions in %s\n", imps, time.Since(start).Round(time.Second))
	return nil
}

// files lists the data files of t (the SQL filters event dates itself).
func files(ctx context.Context, cat *catalog.Catalog, t schema.Table) (string, error) {
	tbl, err := cat.Load(ctx, t)
	if err != nil || tbl.CurrentSnapshot() == nil {
		return "[]", err
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return "", err
	}
	var ps []string
	for _, task := range tasks {
		p := strings.TrimPrefix(task.File.FilePath(), "file://")
		ps = append(ps, "'"+p+"'")
	}
	if len(ps) == 0 {
		return "[]", nil
	}
	return "[" + strings.Join(ps, ",") + "]", nil
}

// The rules of SPEC §3 in SQL (as jobs/gold's end-to-end test checks them).
const attributionSQL = `
SET TimeZone = 'UTC';
CREATE TEMP TABLE ai AS SELECT user_key, campaign_id, event_ts, impression_id, creative_id, site_domain
  FROM read_parquet(%[1]s) WHERE NOT is_bot AND user_key IS NOT NULL AND campaign_id IS NOT NULL
  AND event_date BETWEEN DATE '%[4]s' - 8 AND DATE '%[4]s';
CREATE TEMP TABLE ck AS SELECT user_key, campaign_id, event_ts, event_id, creative_id, site_domain
  FROM read_parquet(%[2]s) WHERE NOT is_bot AND user_key IS NOT NULL AND event_date BETWEEN DATE '%[4]s' - 7 AND DATE '%[4]s';
CREATE TEMP TABLE cv AS SELECT * FROM read_parquet(%[3]s) WHERE NOT is_bot AND event_date = DATE '%[4]s';
CREATE TEMP TABLE km AS
SELECT k.event_id, k.user_key, k.campaign_id, k.event_ts, i.impression_id
FROM ck k LEFT JOIN ai i ON i.user_key = k.user_key AND i.campaign_id = k.campaign_id
  AND i.event_ts <= k.event_ts AND i.event_ts >= k.event_ts - INTERVAL 24 HOUR
QUALIFY row_number() OVER (PARTITION BY k.event_id ORDER BY i.event_ts DESC NULLS LAST, i.impression_id DESC NULLS LAST) = 1;
CREATE TEMP TABLE lc AS
SELECT c.event_id, k.event_id AS click_id FROM cv c
LEFT JOIN km k ON k.user_key = c.user_key AND k.campaign_id = c.campaign_id
  AND k.event_ts <= c.event_ts AND k.event_ts >= c.event_ts - INTERVAL 7 DAY
QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY k.event_ts DESC NULLS LAST, k.event_id DESC NULLS LAST) = 1;
CREATE TEMP TABLE lv AS
SELECT c.event_id, i.impression_id FROM cv c
LEFT JOIN ai i ON i.user_key = c.user_key AND i.campaign_id = c.campaign_id
  AND i.event_ts <= c.event_ts AND i.event_ts >= c.event_ts - INTERVAL 24 HOUR
QUALIFY row_number() OVER (PARTITION BY c.event_id ORDER BY i.event_ts DESC NULLS LAST, i.impression_id DESC NULLS LAST) = 1;
`

// asofSQL is a faster formulation of the same rules for DuckDB: ASOF
// joins pick the latest touch at or before, then the window is checked.
// Among touches tied on time it picks any one, which changes ids but never
// the attribution kind, so the counts compare exactly.
const asofSQL = `
SET TimeZone = 'UTC';
CREATE TEMP TABLE ai AS SELECT user_key, campaign_id, event_ts, impression_id
  FROM read_parquet(%[1]s) WHERE NOT is_bot AND user_key IS NOT NULL AND campaign_id IS NOT NULL
  AND event_date BETWEEN DATE '%[4]s' - 8 AND DATE '%[4]s';
CREATE TEMP TABLE ck AS SELECT user_key, campaign_id, event_ts, event_id
  FROM read_parquet(%[2]s) WHERE NOT is_bot AND user_key IS NOT NULL AND event_date BETWEEN DATE '%[4]s' - 7 AND DATE '%[4]s';
CREATE TEMP TABLE cv AS SELECT * FROM read_parquet(%[3]s) WHERE NOT is_bot AND event_date = DATE '%[4]s';
CREATE TEMP TABLE km AS
SELECT k.*, CASE WHEN i.event_ts >= k.event_ts - INTERVAL 24 HOUR THEN i.impression_id END AS impression_id
FROM ck k ASOF LEFT JOIN ai i ON i.user_key = k.user_key AND i.campaign_id = k.campaign_id AND i.event_ts <= k.event_ts;
CREATE TEMP TABLE lc AS
SELECT c.event_id, CASE WHEN k.event_ts >= c.event_ts - INTERVAL 7 DAY THEN k.event_id END AS click_id
FROM cv c ASOF LEFT JOIN km k ON k.user_key = c.user_key AND k.campaign_id = c.campaign_id AND k.event_ts <= c.event_ts;
CREATE TEMP TABLE lv AS
SELECT c.event_id, CASE WHEN i.event_ts >= c.event_ts - INTERVAL 24 HOUR THEN i.impression_id END AS impression_id
FROM cv c ASOF LEFT JOIN ai i ON i.user_key = c.user_key AND i.campaign_id = c.campaign_id AND i.event_ts <= c.event_ts;
`

const countSQL = `SELECT CASE WHEN lc.click_id IS NOT NULL THEN 'click' WHEN lv.impression_id IS NOT NULL THEN 'view' ELSE 'none' END a, count(*)
FROM cv LEFT JOIN lc USING (event_id) LEFT JOIN lv USING (event_id) GROUP BY 1`

func duck(ctx context.Context, cat *catalog.Catalog, day time.Time, script, engine string) error {
	var in [3]string
	for i, t := range []schema.Table{schema.SilverImpressions, schema.SilverClicks, schema.SilverConversions} {
		var err error
		if in[i], err = files(ctx, cat, t); err != nil {
			return err
		}
	}
	start := time.Now()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf(script, in[0], in[1], in[2], day.Format(time.DateOnly))); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, countSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	r := result{Engine: engine, Attribution: map[string]int64{gold.AttrClick: 0, gold.AttrView: 0, gold.AttrNone: 0}}
	for rows.Next() {
		var a string
		var n int64
		if err := rows.Scan(&a, &n); err != nil {
			return err
		}
		r.Attribution[a] = n
		r.Rows += n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.PeakRSSMiB = hwm()
	return emit(r)
}

func emit(r result) error { return json.NewEncoder(os.Stdout).Encode(r) }

// hwm returns the process's peak resident set (VmHWM) in MiB.
func hwm() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
