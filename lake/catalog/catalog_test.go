package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// catalogs returns the catalogs to test: the embedded SQLite one always,
// and PostgreSQL (a fresh database) when `make test` started one.
func catalogs(t *testing.T) map[string]catalog.Options {
	t.Helper()
	dir := t.TempDir()
	out := map[string]catalog.Options{
		"sqlite": {URI: filepath.Join(dir, "catalog.db"), Warehouse: filepath.Join(dir, "warehouse-sqlite")},
	}
	if url := laketest.PostgresURL(t); url != "" {
		out["postgres"] = catalog.Options{URI: url, Warehouse: filepath.Join(dir, "warehouse-postgres")}
	}
	return out
}

// TestConcurrentCommits has 8 writers commit to one table at once: the
// retry loop of Commit must land every one of them, none twice.
func TestConcurrentCommits(t *testing.T) {
	for name, opts := range catalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cat, err := catalog.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer cat.Close()
			if err := cat.Ensure(ctx, schema.All()...); err != nil {
				t.Fatal(err)
			}
			const writers = 8
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			now := time.Now()
			for i := 0; i < writers; i++ {
				wg.Go(func() {
					errs <- runs.Append(ctx, cat, nil, []runs.Record{{RunID: fmt.Sprintf("w%d", i), Job: "test", Feed: "f",
						Status: runs.StatusOK, Started: now, Finished: now}})
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("writer: %v", err)
				}
			}
			got, err := runs.Recent(ctx, cat, 100)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, r := range got {
				seen[r.RunID]++
			}
			if len(got) != writers || len(seen) != writers {
				t.Fatalf("%d rows, %d distinct writers; want %d each: %v", len(got), len(seen), writers, seen)
			}
		})
	}
}

func TestLockExcludesASecondHolder(t *testing.T) {
	for name, opts := range catalogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, err := catalog.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := catalog.Open(ctx, opts) // another process, as far as locks go
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			unlock, err := a.Lock(ctx, "feed:impressions")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Lock(ctx, "feed:impressions"); !errors.Is(err, catalog.ErrLocked) {
				t.Fatalf("second holder: err = %v, want ErrLocked", err)
			}
			other, err := b.Lock(ctx, "feed:bid_requests")
			if err != nil {
				t.Fatalf("another feed's lock: %v", err)
			}
			other()
			unlock()
			again, err := b.Lock(ctx, "feed:impressions")
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			again()
		})
	}
}
