package gen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/advertisex/adlake/lake/objstore"
)

// read returns the content of every object under prefix (gunzipped),
// leaving out the corrupt files of the defects.
func read(t *testing.T, b objstore.Reader, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for o, err := range b.List(context.Background(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(o.Key, "-corrupt.") {
			continue
		}
		rc, err := b.Open(context.Background(), o.Key)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = rc
		if strings.HasSuffix(o.Key, ".gz") {
			if r, err = gzip.NewReader(rc); err != nil {
				t.Fatal(err)
			}
		}
		data, err := io.ReadAll(r)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = data
	}
	return out
}

func TestAnomalies(t *testing.T) {
	base := Options{Seed: 4, Days: 2, ImpressionsPerDay: 2000}
	bb, bm := generate(t, base)
	last := "dt=2026-11-26/"
	tests := []struct {
		kind  string
		check func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo)
		fixes bool // re-running without the anomaly restores the baseline
	}{
		{DroppedHour, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			if a.HeldFiles != 2 || len(read(t, b, "impressions/"+last+"hr=13/")) != 0 {
				t.Fatalf("held %d files; hour 13 still has files", a.HeldFiles)
			}
			if got := bm.Feeds["impressions"].Records - m.Feeds["impressions"].Records; got != a.HeldRecords || got == 0 {
				t.Fatalf("held %d records, manifest lost %d", a.HeldRecords, got)
			}
		}, true},
		{StalledFeed, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			if a.HeldFiles != 18 || len(read(t, b, "clicks_conversions/"+last+"hr=05/")) != 1 || len(read(t, b, "clicks_conversions/"+last+"hr=06/")) != 0 {
				t.Fatalf("held %d files, want hours 06-23", a.HeldFiles)
			}
			if got := bm.Feeds["clicks_conversions"].Records - m.Feeds["clicks_conversions"].Records; got != a.HeldRecords {
				t.Fatalf("held %d records, manifest lost %d", a.HeldRecords, got)
			}
			lastHour := -1
			for k := range read(t, b, "clicks_conversions/"+last) {
				var hr int
				if _, err := fmt.Sscanf(k[strings.Index(k, "hr=")+3:], "%d", &hr); err == nil && hr > lastHour {
					lastHour = hr
				}
			}
			if a.LastFileHour != lastHour || lastHour != 5 {
				t.Fatalf("last file hour %d, files say %d", a.LastFileHour, lastHour)
			}
		}, true},
		{NewCSVColumn, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			files := read(t, b, "clicks_conversions/"+last)
			for k, data := range files {
				if !strings.HasPrefix(string(data), "event_id,event_type,event_ts,click_source,user_id,") {
					t.Fatalf("%s header: %.80s", k, data)
				}
			}
			if a.Files != 24 || len(files) != 24 || m.Feeds["clicks_conversions"].Valid != bm.Feeds["clicks_conversions"].Valid {
				t.Fatalf("%d files changed (%d on the day); valid %d vs %d", a.Files, len(files), m.Feeds["clicks_conversions"].Valid, bm.Feeds["clicks_conversions"].Valid)
			}
		}, false},
		{AvroV2, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			for k, data := range read(t, b, "bid_requests/"+last) {
				if !bytes.Contains(data, []byte("schain_complete")) {
					t.Fatalf("%s is not written with contract v2", k)
				}
			}
			if a.Files != 24 || m.Feeds["bid_requests"].Kinds["v2_file"] != 24 {
				t.Fatalf("v2 files: %d, manifest %d", a.Files, m.Feeds["bid_requests"].Kinds["v2_file"])
			}
		}, false},
		{DuplicateBurst, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			imp := m.Feeds["impressions"]
			if a.Files != 24 || imp.Duplicates != a.Records || imp.Valid != bm.Feeds["impressions"].Valid || imp.Records != bm.Feeds["impressions"].Records+a.Records {
				t.Fatalf("burst %+v, manifest %+v", a, imp)
			}
		}, false},
		{MissingReference, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			for k, data := range read(t, b, "reference/creatives/") {
				if has := bytes.Contains(data, []byte("\ncr-0001,")); has != !strings.Contains(k, last) {
					t.Fatalf("%s: cr-0001 present = %v", k, has)
				}
			}
			var n int64
			for _, data := range read(t, b, "impressions/"+last) {
				n += int64(bytes.Count(data, []byte(`"creative_id":"cr-0001"`)))
			}
			if n == 0 || a.CreativeImpressions != n || m.Reference["creatives"] != bm.Reference["creatives"]-1 {
				t.Fatalf("%d impressions of cr-0001, info says %d", n, a.CreativeImpressions)
			}
		}, false},
		{RejectBurst, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			imp := m.Feeds["impressions"]
			if a.Records == 0 || imp.MalformedRows != a.Records || imp.Records != imp.BronzeRows+imp.MalformedRecords || imp.Valid != bm.Feeds["impressions"].Valid {
				t.Fatalf("burst %+v, manifest %+v", a, imp)
			}
		}, false},
		{OrphanClicks, func(t *testing.T, b *objstore.Local, m *Manifest, a *AnomalyInfo) {
			cc := m.Feeds["clicks_conversions"]
			if a.Records != 48 || cc.Kinds["click"] != bm.Feeds["clicks_conversions"].Kinds["click"]+48 || cc.Valid != cc.Records {
				t.Fatalf("orphans %+v, manifest %+v", a, cc)
			}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			o := base
			o.Anomaly = tc.kind
			b, m := generate(t, o)
			if m.Anomaly == nil || m.Anomaly.Kind != tc.kind || m.Anomaly.Date != "2026-11-26" {
				t.Fatalf("anomaly info %+v", m.Anomaly)
			}
			tc.check(t, b, m, m.Anomaly)
			if !tc.fixes {
				return
			}
			if _, err := Run(context.Background(), b, base); err != nil {
				t.Fatal(err)
			}
			if digest(t, b) != digest(t, bb) {
				t.Fatal("re-running without the anomaly did not restore the baseline")
			}
		})
	}
}

func TestUnknownAnomaly(t *testing.T) {
	b, _ := objstore.NewLocal(t.TempDir())
	if _, err := Run(context.Background(), b, Options{Anomaly: "meteor"}); err == nil || !strings.Contains(err.Error(), "meteor") {
		t.Fatalf("err = %v", err)
	}
}

// repeatedIDs counts the impressions lines (complete JSON) whose
// impression_id an earlier line had: duplicates, and copies of rejected
// lines in re-delivered files.
func repeatedIDs(t *testing.T, b objstore.Reader) int64 {
	t.Helper()
	seen := map[string]bool{}
	var n int64
	for _, data := range read(t, b, "impressions/") {
		for _, line := range bytes.Split(data, []byte("\n")) {
			var v struct {
				ID string `json:"impression_id"`
			}
			if json.Unmarshal(line, &v) != nil {
				continue
			}
			if seen[v.ID] {
				n++
			}
			seen[v.ID] = true
		}
	}
	return n
}

// TestAnomaliesWithDefects: with every defect too, the manifest still
// counts every line written, for every kind. Seed 6 re-sends a held-back
// impression of dropped_hour as a "duplicate", which then is the one copy.
func TestAnomaliesWithDefects(t *testing.T) {
	base := Options{Seed: 6, Days: 2, ImpressionsPerDay: 2000, Defects: true}
	bb, bm := generate(t, base)
	baseRepeats := repeatedIDs(t, bb) - bm.Feeds["impressions"].Duplicates
	for _, kind := range Anomalies {
		t.Run(kind, func(t *testing.T) {
			o := base
			o.Anomaly = kind
			b, m := generate(t, o)
			for name, f := range m.Feeds {
				if f.Records != f.BronzeRows+f.MalformedRecords {
					t.Fatalf("%s: %d records, %d bronze rows + %d malformed", name, f.Records, f.BronzeRows, f.MalformedRecords)
				}
			}
			var lines int64
			for _, data := range read(t, b, "impressions/") {
				lines += int64(bytes.Count(data, []byte("\n")))
			}
			if imp := m.Feeds["impressions"]; lines != imp.Records {
				t.Fatalf("%d impressions lines, manifest %d records", lines, imp.Records)
			}
			var rows int64
			for k, data := range read(t, b, "clicks_conversions/") {
				if !strings.HasSuffix(k, ".tmp") {
					rows += int64(bytes.Count(data, []byte("\n"))) - 1 // the header
				}
			}
			if cc := m.Feeds["clicks_conversions"]; rows != cc.Records {
				t.Fatalf("%d clicks_conversions rows, manifest %d records", rows, cc.Records)
			}
			switch kind {
			case DroppedHour:
				// Every duplicate counted has its original written.
				if got := repeatedIDs(t, b) - m.Feeds["impressions"].Duplicates; got != baseRepeats || m.Anomaly.HeldResent != 1 {
					t.Fatalf("repeated ids beyond duplicates: %d, without the anomaly %d; held re-sent %d", got, baseRepeats, m.Anomaly.HeldResent)
				}
				fallthrough
			case StalledFeed:
				if _, err := Run(context.Background(), b, base); err != nil {
					t.Fatal(err)
				}
				if digest(t, b) != digest(t, bb) {
					t.Fatal("re-running without the anomaly did not restore the baseline")
				}
			}
		})
	}
}
