package lock_test

import (
	"context"
	"errors"
	"testing"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/lock"
)

func TestLockExcludesASecondHolder(t *testing.T) {
	for name, opts := range laketest.Catalogs(t) {
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
			unlock, err := lock.For(a).Lock(ctx, "feed:impressions")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lock.For(b).Lock(ctx, "feed:impressions"); !errors.Is(err, lock.ErrLocked) {
				t.Fatalf("second holder: err = %v, want ErrLocked", err)
			}
			other, err := lock.For(b).Lock(ctx, "feed:bid_requests")
			if err != nil {
				t.Fatalf("another feed's lock: %v", err)
			}
			other()
			unlock()
			again, err := lock.For(b).Lock(ctx, "feed:impressions")
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			again()
		})
	}
}
