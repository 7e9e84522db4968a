package maintain_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/maintain"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

func TestSweepRemovesOnlyOldUnreferencedFiles(t *testing.T) {
	ctx := context.Background()
	l := laketest.New(t)
	if _, err := gen.Run(ctx, l.Store, gen.Options{Seed: 1, Days: 1, ImpressionsPerDay: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := bronze.Run(ctx, l.Store, l.Cat, bronze.Options{RunID: "r", MaxFilesPerCommit: 5}); err != nil {
		t.Fatal(err)
	}
	rows := l.Rows(t, schema.BronzeImpressions)
	data := filepath.Join(l.Dir, "warehouse", "bronze", "impressions", "data")
	old, fresh := filepath.Join(data, "killed-run-old.parquet"), filepath.Join(data, "in-flight.parquet")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("uncommitted"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, past, past)
	tables := []schema.Table{schema.BronzeImpressions, schema.BronzeClicksConversions}

	dry, err := maintain.Sweep(ctx, l.Cat, tables, 24*time.Hour, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry[0].Orphans != 1 || dry[0].Deleted != 0 || dry[1].Orphans != 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatal("dry run deleted a file")
	}
	got, err := maintain.Sweep(ctx, l.Cat, tables, 24*time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Deleted != 1 {
		t.Fatalf("sweep: %+v", got)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatal("old orphan still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("a file younger than the threshold was deleted")
	}
	if after := l.Rows(t, schema.BronzeImpressions); after != rows {
		t.Fatalf("rows %d -> %d", rows, after)
	}
	if _, err := maintain.Sweep(ctx, l.Cat, tables, time.Minute, true); err == nil {
		t.Fatal("a threshold under MinSweepAge was accepted")
	}
}
