package bronze_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

type lakeFixture struct{ laketest.Lake }

func newLake(t *testing.T) lakeFixture { return lakeFixture{laketest.New(t)} }

func (l lakeFixture) put(t *testing.T, key string, data []byte) {
	t.Helper()
	if err := l.Store.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func rowCount(t *testing.T, l lakeFixture, tbl schema.Table) int64 { return l.Rows(t, tbl) }

func TestIngestSmallLanding(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.put(t, "impressions/dt=2026-11-25/hr=13/a.json", []byte(`{"impression_id":"i1","ts":"2026-11-25T13:00:00Z","creative_id":"c","site":{"domain":"d"}}`+"\n{bad\n"))
	l.put(t, "impressions/dt=2026-11-26/hr=01/b.json.gz", gz(`{"impression_id":"i2","ts":1,"x":1}`+"\n"+`{"impression_id":"i3"}`+"\n"))
	l.put(t, "impressions/dt=2026-11-26/hr=02/empty.json", nil)
	l.put(t, "impressions/dt=2026-11-26/hr=02/corrupt.json.gz", []byte("not gzip at all"))
	l.put(t, "impressions/dt=2026-11-26/hr=02/_SUCCESS", nil)
	l.put(t, "clicks_conversions/dt=2026-11-25/hr=13/c.csv", []byte(strings.Join(schema.ClicksConversionsColumns, ",")+"\ne1,click,2026-11-25 13:00:00,u,cmp,cr,,,,,d,ua,ip\nshort,row\n"))

	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	opts := bronze.Options{RunID: "run-1", Alloc: alloc, MaxFilesPerCommit: 2}
	rep, err := bronze.Run(ctx, l.Store, l.Cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	alloc.AssertSize(t, 0)
	imp := rep.Feeds[0]
	if imp.Ended.Before(imp.Started) || imp.Ended.IsZero() || imp.Files != 4 || imp.Rows != 3 || imp.Rejects != 2 || imp.FilesUnreadable != 1 || imp.Ignored["marker"] != 1 {
		t.Fatalf("impressions report %+v", imp)
	}
	if imp.ByReason["malformed"] != 1 || imp.ByReason["unreadable_file"] != 1 {
		t.Fatalf("by reason %v", imp.ByReason)
	}
	// 4 files in chunks of 2: 2 bronze commits, 2 quarantine commits.
	if imp.Commits != 4 {
		t.Fatalf("commits = %d, want 4", imp.Commits)
	}
	if got := rowCount(t, l, schema.BronzeImpressions); got != 3 {
		t.Fatalf("bronze.impressions rows = %d, want 3", got)
	}
	if got := rowCount(t, l, schema.BronzeClicksConversions); got != 1 {
		t.Fatalf("bronze.clicks_conversions rows = %d, want 1", got)
	}
	if got := rowCount(t, l, schema.Quarantine); got != 3 {
		t.Fatalf("ops.quarantine rows = %d, want 3", got)
	}
	tbl, _ := l.Cat.Load(ctx, schema.BronzeImpressions)
	ledger, err := ledger.Ledger(tbl)
	if err != nil || len(ledger) != 4 || ledger["impressions/dt=2026-11-26/hr=02/empty.json"].RunID != "run-1" {
		t.Fatalf("ledger %v, %v", ledger, err)
	}

	// A second run finds everything committed and commits nothing.
	opts.RunID = "run-2"
	rep2, err := bronze.Run(ctx, l.Store, l.Cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep2.Feeds {
		if f.Files != 0 || f.Commits != 0 {
			t.Fatalf("second run on %s: %+v", f.Feed, f)
		}
	}
	if rep2.Feeds[0].AlreadyCommitted != 4 || rep2.Feeds[1].AlreadyCommitted != 1 {
		t.Fatalf("already committed: %+v", rep2.Feeds)
	}
	tbl2, _ := l.Cat.Load(ctx, schema.BronzeImpressions)
	if tbl2.CurrentSnapshot().SnapshotID != tbl.CurrentSnapshot().SnapshotID {
		t.Fatal("second run made a snapshot")
	}
}
