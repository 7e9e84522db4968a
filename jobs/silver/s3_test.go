package silver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/reference"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// TestIngestOnS3 runs landing -> bronze -> silver with the landing zone and
// the Iceberg warehouse both on the S3-compatible server that `make test`
// starts, and checks the exact counts.
func TestIngestOnS3(t *testing.T) {
	endpoint, bucket := os.Getenv("ADLAKE_TEST_S3_ENDPOINT"), os.Getenv("ADLAKE_TEST_S3_BUCKET")
	if endpoint == "" || bucket == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_S3_ENDPOINT/ADLAKE_TEST_S3_BUCKET not set")
		}
		t.Skip("no S3 server: run through `make test`, which starts one")
	}
	ctx := context.Background()
	run := fmt.Sprintf("s3test-%d", time.Now().UnixNano())
	s3opts := objstore.S3Options{Endpoint: endpoint, Region: "us-east-1"}
	store, err := objstore.Open(ctx, fmt.Sprintf("s3://%s/%s/landing", bucket, run), s3opts)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, catalog.Options{URI: filepath.Join(t.TempDir(), "catalog.db"),
		Warehouse: fmt.Sprintf("s3://%s/%s/warehouse", bucket, run), S3: s3opts})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.Ensure(ctx, schema.All()...); err != nil {
		t.Fatal(err)
	}
	m, err := gen.Run(ctx, store, gen.Options{Seed: 31, Days: 1, ImpressionsPerDay: 2000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bronze.Run(ctx, store, cat, bronze.Options{RunID: "s3"}); err != nil {
		t.Fatal(err)
	}
	if err := reference.Load(ctx, store, cat, nil, "s3", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.Run(ctx, cat, silver.Options{RunID: "s3", PseudonymKey: "k"}); err != nil {
		t.Fatal(err)
	}
	f := fixture{}
	f.Cat = cat
	for _, c := range []struct {
		tb   schema.Table
		want int64
	}{
		{schema.BronzeImpressions, m.Feeds["impressions"].BronzeRows},
		{schema.BronzeBidRequests, m.Feeds["bid_requests"].BronzeRows},
		{schema.SilverImpressions, m.Feeds["impressions"].Valid},
		{schema.SilverConversions, m.Feeds["clicks_conversions"].Kinds["conversion"]},
	} {
		if got := count(t, f, c.tb); got != c.want {
			t.Errorf("%s on S3: %d rows, want %d", c.tb, got, c.want)
		}
	}
	tbl, _ := cat.Load(ctx, schema.SilverImpressions)
	if loc := tbl.Location(); loc != fmt.Sprintf("s3://%s/%s/warehouse/silver/impressions", bucket, run) {
		t.Errorf("table location %s", loc)
	}
}
