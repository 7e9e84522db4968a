package maintain_test

import (
	"context"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/maintain"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

func TestCompactKeepsRowsAndShrinksFiles(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	store, cat := l.Store, l.Cat
	if _, err := gen.Run(ctx, store, gen.Options{Seed: 3, Days: 1, ImpressionsPerDay: 4000}); err != nil {
		t.Fatal(err)
	}
	// Small bronze commits and silver passes: many small silver files.
	if _, err := bronze.Run(ctx, store, cat, bronze.Options{RunID: "r", MaxFilesPerCommit: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.Run(ctx, cat, silver.Options{RunID: "r", PseudonymKey: "k", MaxRowsPerPass: 500, Feeds: []schema.Feed{schema.Impressions}}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rowsBefore := l.Rows(t, schema.SilverImpressions)
	res, err := maintain.Compact(ctx, cat, schema.SilverImpressions, schema.ColEventDate, day.AddDate(0, 0, -1), day, "compact", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesBefore < 10 || res.After > 2 || res.Rows != rowsBefore {
		t.Fatalf("compaction %+v, %d rows before", res, rowsBefore)
	}
	if got := l.Rows(t, schema.SilverImpressions); got != rowsBefore {
		t.Fatalf("rows %d -> %d", rowsBefore, got)
	}
	// Compacting again finds one file per partition and does nothing.
	res2, err := maintain.Compact(ctx, cat, schema.SilverImpressions, schema.ColEventDate, day, day, "compact-2", nil)
	if err != nil || res2.FilesBefore != 1 || res2.After != 1 {
		t.Fatalf("second compaction %+v, %v", res2, err)
	}
}
