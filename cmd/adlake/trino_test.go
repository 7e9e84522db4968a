package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
)

// TestTrinoReadsOurTables has a real Trino (localstack/trino.sh) read what
// adlake wrote with its catalog in PostgreSQL and its landing zone and
// warehouse on S3, through Trino's Iceberg connector over the same JDBC
// catalog, and checks exact counts against the generator's manifest, the
// SQL types analysts see, and a GROUP BY. Each run gets a fresh database
// and S3 prefix, and its own Trino catalog (CREATE CATALOG), so runs never
// see each other's tables.
func TestTrinoReadsOurTables(t *testing.T) {
	server := os.Getenv("ADLAKE_TEST_TRINO")
	endpoint, bucket := os.Getenv("ADLAKE_TEST_S3_ENDPOINT"), os.Getenv("ADLAKE_TEST_S3_BUCKET")
	if server == "" || endpoint == "" || bucket == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_TRINO, ADLAKE_TEST_S3_ENDPOINT or ADLAKE_TEST_S3_BUCKET not set; localstack/up.sh and localstack/trino.sh must start S3 and Trino")
		}
		t.Skip("no Trino or S3: start them with localstack/up.sh and localstack/trino.sh")
	}
	pg := laketest.PostgresURL(t)
	if pg == "" {
		t.Skip("no PostgreSQL: run through `make test`, which starts one")
	}
	run := fmt.Sprintf("trino%d", time.Now().UnixNano())
	warehouse := fmt.Sprintf("s3://%s/%s/warehouse", bucket, run)
	dir := t.TempDir()
	env := append(os.Environ(), "ADLAKE_LOG_LEVEL=warn", "ADLAKE_SILVER_PSEUDONYM_KEY=trino-test",
		"ADLAKE_CATALOG="+pg, "ADLAKE_WAREHOUSE="+warehouse,
		fmt.Sprintf("ADLAKE_LANDING=s3://%s/%s/landing", bucket, run),
		"ADLAKE_S3_ENDPOINT="+endpoint, "ADLAKE_S3_REGION="+region())
	adlake := func(args ...string) ([]byte, error) {
		cmd := exec.Command(binary, args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd.CombinedOutput()
	}
	manifest := filepath.Join(dir, "gen.json")
	if out, err := adlake("gen", "--seed", "23", "--days", "1", "--impressions-per-day", "3000", "--defects", "--manifest", manifest); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	var m gen.Manifest
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if out, err := adlake("ingest"); err != nil && exitStatus(err) != exitPartial {
		t.Fatalf("ingest: %v\n%s", err, out)
	}

	trino := trinoClient{server: server, user: "adlake-test"}
	cat := "adlake_" + run
	if _, err := trino.query(createCatalogSQL(t, cat, pg, warehouse, endpoint)); err != nil {
		t.Fatalf("create catalog: %v", err)
	}
	t.Cleanup(func() {
		if _, err := trino.query("DROP CATALOG " + cat); err != nil {
			t.Logf("drop catalog %s: %v", cat, err)
		}
	})
	count := func(table string) int64 {
		t.Helper()
		rows, err := trino.query(fmt.Sprintf("SELECT count(*) FROM %s.%s", cat, table))
		if err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return asInt(t, rows[0][0])
	}

	imp, cc, bids := m.Feeds["impressions"], m.Feeds["clicks_conversions"], m.Feeds["bid_requests"]
	var bronzeRejects, silverRejects int64
	for _, f := range m.Feeds {
		bronzeRejects += f.MalformedRows + int64(f.UnreadableFiles)
		silverRejects += f.MissingRequired + f.InvalidTimestamp + f.FutureTimestamp + f.TooLate + f.InvalidValue
	}
	for table, want := range map[string]int64{
		"bronze.impressions": imp.BronzeRows, "bronze.clicks_conversions": cc.BronzeRows, "bronze.bid_requests": bids.BronzeRows,
		"silver.impressions": imp.Valid, "silver.clicks": cc.Kinds["click"], "silver.conversions": cc.Kinds["conversion"],
		"silver.bid_requests": bids.Valid, "ref.campaigns": int64(m.Reference["campaigns"]),
		"ops.quarantine": bronzeRejects + silverRejects,
	} {
		if got := count(table); got != want {
			t.Errorf("Trino counts %d rows in %s, want %d", got, table, want)
		}
	}

	// The SQL types analysts see.
	rows, err := trino.query(fmt.Sprintf(`SELECT column_name, data_type FROM %s.information_schema.columns
		WHERE table_schema = 'silver' AND table_name = 'impressions'`, cat))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, r := range rows {
		types[r[0].(string)] = r[1].(string)
	}
	for col, want := range map[string]string{
		"event_ts": "timestamp(6) with time zone", "event_date": "date", "is_bot": "boolean", "cost_usd": "double",
	} {
		if types[col] != want {
			t.Errorf("Trino sees silver.impressions.%s as %q, want %q", col, types[col], want)
		}
	}

	// A GROUP BY: quarantine rows per stage.
	rows, err = trino.query(fmt.Sprintf("SELECT stage, count(*) FROM %s.ops.quarantine GROUP BY stage ORDER BY stage", cat))
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]int64{}
	for _, r := range rows {
		stages[r[0].(string)] = asInt(t, r[1])
	}
	if stages["bronze"] != bronzeRejects || stages["silver"] != silverRejects || len(stages) != 2 {
		t.Errorf("quarantine by stage %v, want bronze %d, silver %d", stages, bronzeRejects, silverRejects)
	}

	// Typed predicates work: every impression's event_date is its UTC
	// event_ts date, and the day partitions add up to the table.
	rows, err = trino.query(fmt.Sprintf(`SELECT count(*), count_if(event_date = CAST(event_ts AT TIME ZONE 'UTC' AS date))
		FROM %s.silver.impressions WHERE event_ts >= TIMESTAMP '1970-01-01 00:00:00 UTC'`, cat))
	if err != nil {
		t.Fatal(err)
	}
	if n, same := asInt(t, rows[0][0]), asInt(t, rows[0][1]); n != imp.Valid || same != n {
		t.Errorf("silver.impressions: %d rows with a timestamp, %d whose event_date is the UTC date of event_ts; want %d both", n, same, imp.Valid)
	}
}

func region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// createCatalogSQL is the CREATE CATALOG of a Trino Iceberg catalog over
// adlake's JDBC catalog in the PostgreSQL database pg (postgres://...),
// with the warehouse on the S3 server at endpoint: the properties of
// docs/query.md.
func createCatalogSQL(t *testing.T, name, pg, warehouse, endpoint string) string {
	t.Helper()
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	props := [][2]string{
		{"iceberg.catalog.type", "jdbc"},
		{"iceberg.jdbc-catalog.driver-class", "org.postgresql.Driver"},
		{"iceberg.jdbc-catalog.connection-url", (&url.URL{Scheme: "jdbc:postgresql", Host: u.Host, Path: u.Path, RawQuery: u.RawQuery}).String()},
		{"iceberg.jdbc-catalog.connection-user", u.User.Username()},
		{"iceberg.jdbc-catalog.catalog-name", catalog.DefaultName},
		{"iceberg.jdbc-catalog.default-warehouse-dir", warehouse},
		{"fs.native-s3.enabled", "true"},
		{"s3.endpoint", endpoint},
		{"s3.region", region()},
		{"s3.path-style-access", "true"},
		{"s3.aws-access-key", os.Getenv("AWS_ACCESS_KEY_ID")},
		{"s3.aws-secret-key", os.Getenv("AWS_SECRET_ACCESS_KEY")},
	}
	if p, ok := u.User.Password(); ok {
		props = append(props, [2]string{"iceberg.jdbc-catalog.connection-password", p})
	}
	var with []string
	for _, p := range props {
		with = append(with, fmt.Sprintf("%q = '%s'", p[0], strings.ReplaceAll(p[1], "'", "''")))
	}
	return fmt.Sprintf("CREATE CATALOG %s USING iceberg WITH (%s)", name, strings.Join(with, ", "))
}

// trinoClient speaks Trino's client protocol: POST the statement to
// /v1/statement, then GET each nextUri until there is none, collecting the
// data pages.
type trinoClient struct {
	server, user string
}

func (c trinoClient) query(sql string) ([][]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.server, "/")+"/v1/statement", strings.NewReader(sql))
	if err != nil {
		return nil, err
	}
	var rows [][]any
	for {
		req.Header.Set("X-Trino-User", c.user)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests {
			time.Sleep(100 * time.Millisecond) // the protocol says: retry the same request
			req, _ = http.NewRequestWithContext(ctx, req.Method, req.URL.String(), bytes.NewReader([]byte(sql)))
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("trino: HTTP %s: %s", resp.Status, body)
		}
		var page struct {
			NextURI string  `json:"nextUri"`
			Data    [][]any `json:"data"`
			Error   *struct {
				Message   string `json:"message"`
				ErrorName string `json:"errorName"`
			} `json:"error"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&page); err != nil {
			return nil, fmt.Errorf("trino: %w: %s", err, body)
		}
		if page.Error != nil {
			return nil, fmt.Errorf("trino: %s: %s", page.Error.ErrorName, page.Error.Message)
		}
		rows = append(rows, page.Data...)
		if page.NextURI == "" {
			return rows, nil
		}
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, page.NextURI, nil); err != nil {
			return nil, err
		}
	}
}

func asInt(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("not a number: %v (%T)", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
