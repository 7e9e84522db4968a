package bronze_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/schema"
)

type reasonKey struct{ feed, reason string }

// quarantined counts ops.quarantine rows and the landing records they
// stand for, by feed and reason.
func quarantined(t *testing.T, l lakeFixture) (rows, records map[reasonKey]int64) {
	t.Helper()
	tbl, err := l.Cat.Load(context.Background(), schema.Quarantine)
	if err != nil {
		t.Fatal(err)
	}
	_, batches, err := tbl.Scan().ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, records = map[reasonKey]int64{}, map[reasonKey]int64{}
	for rec, err := range batches {
		if err != nil {
			t.Fatal(err)
		}
		feed := rec.Column(0).(*array.String)
		n := rec.Column(3).(*array.Int64)
		reason := rec.Column(5).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			k := reasonKey{feed.Value(i), reason.Value(i)}
			rows[k]++
			if !n.IsNull(i) {
				records[k] += n.Value(i)
			}
		}
		rec.Release()
	}
	return rows, records
}

func TestEndToEndDefectsReconcile(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	m, err := gen.Run(ctx, l.Store, gen.Options{Seed: 42, Days: 2, ImpressionsPerDay: 4000, Defects: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: "e2e-1", MaxFilesPerCommit: 20})
	if err != nil {
		t.Fatal(err)
	}
	qrows, qrecords := quarantined(t, l)
	ignored := map[string]int{}
	for i, f := range schema.Feeds {
		feed := f.Name
		want, got := m.Feeds[feed], rep.Feeds[i]
		t.Run(feed, func(t *testing.T) {
			if want.Records != want.BronzeRows+want.MalformedRecords {
				t.Fatalf("manifest inconsistent: %+v", want)
			}
			if got.Files != want.Files {
				t.Errorf("files = %d, want %d", got.Files, want.Files)
			}
			if rows := rowCount(t, l, f.Bronze); rows != want.BronzeRows || got.Rows != want.BronzeRows {
				t.Errorf("bronze rows = %d (report %d), want %d", rows, got.Rows, want.BronzeRows)
			}
			if n := qrows[reasonKey{feed, "malformed"}]; n != want.MalformedRows {
				t.Errorf("malformed quarantine rows = %d, want %d", n, want.MalformedRows)
			}
			if n := qrecords[reasonKey{feed, "malformed"}]; n != want.MalformedRecords {
				t.Errorf("records in malformed quarantine rows = %d, want %d", n, want.MalformedRecords)
			}
			if n := qrows[reasonKey{feed, "unreadable_file"}]; n != int64(want.UnreadableFiles) || got.FilesUnreadable != want.UnreadableFiles {
				t.Errorf("unreadable files = %d (report %d), want %d", n, got.FilesUnreadable, want.UnreadableFiles)
			}
			// Nothing lost: every landing record is in bronze or quarantine.
			if in := got.Rows + qrecords[reasonKey{feed, "malformed"}]; in != want.Records {
				t.Errorf("bronze + quarantined records = %d, landing records = %d", in, want.Records)
			}
		})
		for k, v := range got.Ignored {
			ignored[k] += v
		}
	}
	for k, v := range m.Ignored {
		if ignored[k] != v {
			t.Errorf("ignored[%s] = %d, want %d", k, ignored[k], v)
		}
	}
	if m.Feeds["impressions"].MalformedRows == 0 || m.Feeds["bid_requests"].MalformedRecords != 2*50 || m.Feeds["impressions"].UnreadableFiles != 1 || m.Feeds["bid_requests"].UnreadableFiles != 2 {
		t.Fatalf("the generator did not inject the defects this test relies on: %+v %+v", *m.Feeds["impressions"], *m.Feeds["bid_requests"])
	}

	// A second run commits nothing.
	snaps := map[string]int64{}
	for _, tb := range schema.All() {
		tbl, _ := l.Cat.Load(ctx, tb)
		if s := tbl.CurrentSnapshot(); s != nil {
			snaps[tb.String()] = s.SnapshotID
		}
	}
	rep2, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: "e2e-2", Now: func() time.Time { return time.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep2.Feeds {
		if f.Files != 0 || f.Commits != 0 || f.AlreadyCommitted != m.Feeds[f.Feed].Files {
			t.Errorf("second run, %s: %+v", f.Feed, f)
		}
	}
	for _, tb := range schema.All() {
		tbl, _ := l.Cat.Load(ctx, tb)
		if s := tbl.CurrentSnapshot(); s != nil && s.SnapshotID != snaps[tb.String()] {
			t.Errorf("second run committed to %s", tb)
		}
	}
}
