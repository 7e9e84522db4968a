package catalog_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// TestConcurrentCommits has 8 writers commit to one table at once: the
// retry loop of Commit must land every one of them, none twice.
func TestConcurrentCommits(t *testing.T) {
	for name, opts := range laketest.Catalogs(t) {
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
					errs <- runs.Append(ctx, cat, []schema.RunRow{{RunID: fmt.Sprintf("w%d", i), Job: "test", Feed: "f",
						Status: schema.RunOK, Started: now, Finished: now}})
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
