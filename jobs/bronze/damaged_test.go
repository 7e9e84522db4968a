package bronze_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/advertisex/adlake/config"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/schema"
)

// damagedGzip gzips the lines; the stream is damaged after the first
// intact lines: "truncated" ends it right after a full flush that follows
// line intact (so exactly intact lines are readable, then the stream ends
// unexpectedly); "bad_crc" keeps every line and breaks only the CRC-32 of
// the trailer (intact == len(lines)).
func damagedGzip(t *testing.T, lines []string, intact int, damage string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	cut := 0
	for i, l := range lines {
		if _, err := w.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
		if i+1 == intact && damage == "truncated" {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			cut = b.Len()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	switch damage {
	case "truncated":
		return out[:cut]
	case "bad_crc":
		out[len(out)-8] ^= 0xff // the trailer is CRC-32, then ISIZE
		return out
	}
	t.Fatalf("unknown damage %q", damage)
	return nil
}

// TestDamagedGzipKeepsTheRowsBeforeTheBreak: a gzip stream that breaks
// part-way keeps every record before the break in bronze, including those
// still in the decoder's unflushed batch (more than one batch of 8192 is
// read, so the break falls inside the second batch), quarantines the
// remainder as one unreadable_file row, and reconciles to zero: the rows
// counted are the rows committed.
func TestDamagedGzipKeepsTheRowsBeforeTheBreak(t *testing.T) {
	const records = 10_000
	impressions := make([]string, records)
	for i := range impressions {
		impressions[i] = fmt.Sprintf(`{"impression_id":"i%d","ts":"2026-11-25T13:00:00Z","creative_id":"c","site":{"domain":"d"}}`, i)
	}
	clicks := []string{strings.Join(schema.ClicksConversionsColumns, ",")}
	for i := 0; i < records; i++ {
		clicks = append(clicks, fmt.Sprintf("e%d,click,2026-11-25 13:00:00,u,cmp,cr,,,,,d,ua,ip", i))
	}
	cases := []struct {
		feed, key string
		lines     []string
		intact    int   // lines readable before the damage
		want      int64 // bronze rows: records among the intact lines
		damage    string
	}{
		{"impressions", "impressions/dt=2026-11-25/hr=13/a.json.gz", impressions, 9_000, 9_000, "truncated"},
		{"impressions", "impressions/dt=2026-11-25/hr=13/a.json.gz", impressions, records, records, "bad_crc"},
		{"clicks_conversions", "clicks_conversions/dt=2026-11-25/hr=13/c.csv.gz", clicks, 1 + 9_000, 9_000, "truncated"},
		{"clicks_conversions", "clicks_conversions/dt=2026-11-25/hr=13/c.csv.gz", clicks, 1 + records, records, "bad_crc"},
	}
	for _, c := range cases {
		t.Run(c.feed+"/"+c.damage, func(t *testing.T) {
			ctx := context.Background()
			l := newLake(t)
			l.put(t, c.key, damagedGzip(t, c.lines, c.intact, c.damage))
			feed, _ := schema.FeedNamed(c.feed)
			rep, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: "r", Feeds: []schema.Feed{feed}})
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Feeds[0]
			if f.Rows != c.want || f.Decoded != c.want || f.FilesUnreadable != 1 || f.ByReason["unreadable_file"] != 1 || f.Rejects != 1 {
				t.Fatalf("report: rows %d, decoded %d, unreadable %d, by reason %v; want %d rows, 1 unreadable_file",
					f.Rows, f.Decoded, f.FilesUnreadable, f.ByReason, c.want)
			}
			if got := rowCount(t, l, feed.Bronze); got != c.want {
				t.Fatalf("%s holds %d rows, want the %d before the damage", feed.Bronze, got, c.want)
			}
			if got := rowCount(t, l, schema.Quarantine); got != 1 {
				t.Fatalf("ops.quarantine holds %d rows, want 1 (the unreadable remainder)", got)
			}
			rs := quality.RunChecks([]quality.FeedRun{{Feed: c.feed, Table: feed.Bronze.String(),
				Landing: f.Decoded + f.RejectedRecords, Bronze: f.Rows, BronzeRejected: f.RejectedRecords}},
				f.Ended, config.Default(t.TempDir()).Quality)
			if rs[0].Check != quality.Reconciliation || rs[0].Status != quality.Pass || rs[0].Observed != 0 {
				t.Fatalf("reconciliation %+v", rs[0])
			}
		})
	}
}
