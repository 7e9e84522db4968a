package landing

import (
	"testing"
	"time"

	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

func TestClassify(t *testing.T) {
	h13 := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	cases := []struct {
		key    string
		feed   string
		format schema.Format
		gz     bool
		hour   time.Time
		ignore string
	}{
		{key: "impressions/dt=2026-11-25/hr=13/a.json", feed: "impressions", format: schema.JSONLines, hour: h13},
		{key: "impressions/dt=2026-11-25/hr=13/a.json.gz", feed: "impressions", format: schema.JSONLines, gz: true, hour: h13},
		{key: "clicks_conversions/dt=2026-11-25/hr=13/c.csv.gz", feed: "clicks_conversions", format: schema.CSV, gz: true, hour: h13},
		{key: "bid_requests/dt=2026-11-25/hr=13/b.avro", feed: "bid_requests", format: schema.Avro, hour: h13},
		{key: "reference/campaigns/dt=2026-11-25/hr=13/campaigns.csv", feed: "reference/campaigns", format: schema.CSV, hour: h13},
		{key: "impressions/dt=2026-11-25/hr=13/_SUCCESS", ignore: IgnoreMarker},
		{key: "impressions/dt=2026-11-25/hr=13/.hidden.json", ignore: IgnoreMarker},
		{key: "impressions/dt=2026-11-25/hr=13/a.json.tmp", ignore: IgnoreTemporary},
		{key: "impressions/dt=2026-11-25/hr=13/a.csv", ignore: IgnoreExtension},
		{key: "impressions/dt=2026-11-25/hr=13/.json", ignore: IgnoreMarker},
		{key: "impressions/dt=2026-11-25/hr=13/json", ignore: IgnoreExtension},
		{key: "impressions/dt=2026-11-25/a.json", ignore: IgnoreLayout},
		{key: "impressions/dt=2026-13-25/hr=13/a.json", ignore: IgnoreLayout},
		{key: "impressions/dt=2026-11-25/hr=24/a.json", ignore: IgnoreLayout},
		{key: "impressions/dt=2026-11-25/hr=1/a.json", ignore: IgnoreLayout},
		{key: "impressions/2026-11-25/hr=13/a.json", ignore: IgnoreLayout},
		{key: "videos/dt=2026-11-25/hr=13/a.json", ignore: IgnoreFeed},
		{key: "README.txt", ignore: IgnoreFeed},
		{key: "reference", ignore: IgnoreFeed},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			f, why := Classify(objstore.Object{Key: c.key})
			if why != c.ignore {
				t.Fatalf("ignore reason = %q, want %q", why, c.ignore)
			}
			if why != "" {
				return
			}
			if f.Feed != c.feed || f.Format != c.format || f.Gzip != c.gz || !f.Hour.Equal(c.hour) {
				t.Fatalf("got %+v", f)
			}
		})
	}
}

func TestKeyRoundTrip(t *testing.T) {
	h := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	k := Key("impressions", h, "x.json.gz")
	if k != "impressions/dt=2026-11-25/hr=07/x.json.gz" {
		t.Fatalf("key = %s", k)
	}
	f, why := Classify(objstore.Object{Key: k})
	if why != "" || !f.Hour.Equal(h) {
		t.Fatalf("round trip: %+v %q", f, why)
	}
}
