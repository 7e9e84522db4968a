package objstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/objstore/objstoretest"
)

func TestLocalAcceptance(t *testing.T) {
	b, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

// TestS3Acceptance runs the suite against the S3-compatible server that
// `make test` starts (localstack/up.sh exports ADLAKE_TEST_S3_ENDPOINT and a
// bucket). Under CI the server is mandatory.
func TestS3Acceptance(t *testing.T) {
	endpoint, bucket := os.Getenv("ADLAKE_TEST_S3_ENDPOINT"), os.Getenv("ADLAKE_TEST_S3_BUCKET")
	if endpoint == "" || bucket == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_S3_ENDPOINT/ADLAKE_TEST_S3_BUCKET not set; localstack/up.sh must start the S3 server")
		}
		t.Skip("no S3 server: run through `make test`, which starts one")
	}
	loc := fmt.Sprintf("s3://%s/objstoretest-%d", bucket, time.Now().UnixNano())
	b, err := objstore.Open(context.Background(), loc, objstore.S3Options{Endpoint: endpoint, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestParseS3URL(t *testing.T) {
	cases := []struct{ in, bucket, prefix string }{
		{"s3://landing", "landing", ""},
		{"s3://landing/", "landing", ""},
		{"s3://landing/a/b", "landing", "a/b/"},
		{"s3://landing/a/b/", "landing", "a/b/"},
	}
	for _, c := range cases {
		b, p, err := objstore.ParseS3URL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseS3URL(%q) = %q, %q, %v", c.in, b, p, err)
		}
	}
	for _, bad := range []string{"s3:/x", "http://x/y", "s3://"} {
		if _, _, err := objstore.ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%q): no error", bad)
		}
	}
}
