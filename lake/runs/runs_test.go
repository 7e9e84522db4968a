package runs_test

import (
	"context"
	"testing"
	"time"

	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

func TestRunsRoundTrip(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	in := []schema.RunRow{
		{RunID: "r1", Job: "ingest", Feed: "impressions", Status: schema.RunOK, Started: now, Finished: now.Add(time.Second),
			Files: 3, BytesIn: 100, RowsIn: 10, RowsOut: 9, RowsRejected: 1, Commits: 2, Version: "test"},
		{RunID: "r2", Job: "ingest", Feed: "impressions", Status: schema.RunFailed, Started: now.Add(time.Hour),
			Finished: now.Add(time.Hour + time.Second), Error: "boom"},
	}
	if err := runs.Append(ctx, l.Cat, in); err != nil {
		t.Fatal(err)
	}
	got, err := runs.Recent(ctx, l.Cat, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RunID != "r2" || got[0].Error != "boom" || got[1].RowsOut != 9 || got[1].Commits != 2 || !got[1].Finished.Equal(now.Add(time.Second)) {
		t.Fatalf("got %+v", got)
	}
}
