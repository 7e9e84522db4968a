package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/objstore"
)

// TestPyicebergReadsOurTables has pyiceberg (another Iceberg engine, through
// the same SQL catalog) read every table adlake wrote from defect data, and
// checks its counts against the generator's manifest.
func TestPyicebergReadsOurTables(t *testing.T) {
	python := os.Getenv("ADLAKE_TEST_PYTHON")
	if python == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_PYTHON not set; localstack/up.sh must install pyiceberg")
		}
		t.Skip("no pyiceberg: run through `make test`, which installs it")
	}
	dir := t.TempDir()
	store, err := objstore.NewLocal(filepath.Join(dir, "lakehouse", "landing"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := gen.Run(context.Background(), store, gen.Options{Seed: 21, Days: 1, ImpressionsPerDay: 3000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ingestCmd(dir).CombinedOutput(); err != nil && exitStatus(err) != exitPartial {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	out, err := exec.Command(python, "testdata/pyiceberg_read.py", filepath.Join(dir, "lakehouse")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pyiceberg: %v\n%s", err, stderr)
	}
	var got struct {
		Rows  map[string]int64  `json:"rows"`
		Types map[string]string `json:"types"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("pyiceberg output: %v\n%s", err, out)
	}
	imp, cc, bids := m.Feeds["impressions"], m.Feeds["clicks_conversions"], m.Feeds["bid_requests"]
	want := map[string]int64{
		"bronze.impressions": imp.BronzeRows, "bronze.clicks_conversions": cc.BronzeRows, "bronze.bid_requests": bids.BronzeRows,
		"silver.impressions": imp.Valid, "silver.clicks": cc.Kinds["click"], "silver.conversions": cc.Kinds["conversion"],
		"silver.bid_requests": bids.Valid, "ref.campaigns": int64(m.Reference["campaigns"]), "ref.fx_rates": int64(m.Reference["fx_rates"]),
	}
	for table, n := range want {
		if got.Rows[table] != n {
			t.Errorf("pyiceberg counts %d rows in %s, want %d", got.Rows[table], table, n)
		}
	}
	types := map[string]string{
		"silver.impressions.event_ts": "timestamp[us, tz=UTC]", "silver.impressions.event_date": "date32[day]",
		"silver.impressions.is_bot": "bool", "silver.impressions.cost_usd": "double",
	}
	for col, typ := range types {
		if got.Types[col] != typ {
			t.Errorf("pyiceberg sees %s as %q, want %q", col, got.Types[col], typ)
		}
	}
}
