package decode

import (
	"testing"

	"github.com/hamba/avro/v2/ocf"
)

func TestDrift(t *testing.T) {
	header := "event_id,event_type,event_ts,user_id,campaign_id,creative_id,conversion_type,conversion_value,currency,order_id,site_domain,user_agent,ip"
	tests := []struct {
		name   string
		decode func(t *testing.T) (Stats, error)
		want   string
	}{
		{"csv contract header", func(t *testing.T) (Stats, error) {
			_, st, err := decodeCSV(t, header+"\n")
			return st, err
		}, ""},
		{"csv new and missing columns", func(t *testing.T) (Stats, error) {
			_, st, err := decodeCSV(t, "click_source,event_id,event_type,event_ts,user_id,campaign_id,creative_id,conversion_type,conversion_value,currency,order_id,site_domain,user_agent,zone\n")
			return st, err
		}, "new click_source,zone; missing ip"},
		{"json known keys", func(t *testing.T) (Stats, error) {
			_, st, err := decodeImpressions(t, `{"impression_id":"i","ts":1,"creative_id":"c","site":{"domain":"d"}}`+"\n", nil)
			return st, err
		}, ""},
		{"json unknown keys", func(t *testing.T) (Stats, error) {
			_, st, err := decodeImpressions(t, `{"impression_id":"i","ts":1,"creative_id":"c","site":{"domain":"d","zone":1},"viewability":0.7}`+"\n"+
				`{"impression_id":"j","ts":1,"creative_id":"c","site":{"domain":"d"},"viewability":0.5}`+"\n", nil)
			return st, err
		}, "new site.zone,viewability"},
		{"avro v1", func(t *testing.T) (Stats, error) {
			_, st, err := decodeAvro(t, writeOCF(t, 1, ocf.Null, 3, bidRecords(3)))
			return st, err
		}, ""},
		{"avro v2", func(t *testing.T) (Stats, error) {
			_, st, err := decodeAvro(t, writeOCF(t, 2, ocf.Null, 3, bidRecords(3)))
			return st, err
		}, "new bid.bid_shading_factor,schain_complete"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := tc.decode(t)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Drift.String(); got != tc.want {
				t.Fatalf("drift = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAvroDriftRetyped(t *testing.T) {
	d := avroDrift(map[string]string{"a": "string", "b": "long", "c": "int"}, map[string]string{"a": "string", "b": "string", "d": "int"})
	if got, want := d.String(), "new d; missing c; retyped b: long -> string"; got != want {
		t.Fatalf("drift = %q, want %q", got, want)
	}
}
