//go:build faultinject

package main

import (
	"context"
	"strconv"
	"syscall"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// committer, in the kill tests' build (tag faultinject), wraps the catalog
// so that ADLAKE_TEST_KILL_AFTER_COMMIT=N makes the process SIGKILL itself
// right after its Nth commit to a data table (bronze, silver, gold,
// ops.quarantine, ops.replays): the tests die at exact points of the
// exactly-once protocol. The production binary has no such hook.
func committer(cat *catalog.Catalog, getenv func(string) string) jobCatalog {
	n, err := strconv.Atoi(getenv("ADLAKE_TEST_KILL_AFTER_COMMIT"))
	if err != nil || n <= 0 {
		return cat
	}
	return &killer{Catalog: cat, after: n}
}

type killer struct {
	*catalog.Catalog
	after, count int
}

func (k *killer) Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error) {
	tbl, err := k.Catalog.Commit(ctx, t, build)
	if err == nil && counted(t) {
		if k.count++; k.count == k.after {
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	return tbl, err
}

// counted tells whether commits to t count: data tables, not the run,
// quality or reference bookkeeping.
func counted(t schema.Table) bool {
	switch t.Namespace {
	case "bronze", "silver", "gold":
		return true
	}
	return t.String() == schema.Quarantine.String() || t.String() == schema.Replays.String()
}
