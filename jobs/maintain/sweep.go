package maintain

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// MinSweepAge is the youngest file Sweep may delete: a file younger than
// this may belong to a commit in flight.
const MinSweepAge = time.Hour

// SweepResult is what Sweep found in one table.
type SweepResult struct {
	Table   string
	Orphans int   // unreferenced files older than the threshold
	Bytes   int64 // their size
	Deleted int   // removed (0 on a dry run)
}

// Sweep finds, under each table's location, the files that no snapshot or
// metadata references (the data files a killed run wrote and never
// committed) and that are older than olderThan, and deletes them unless
// dryRun. No reader ever sees such files; sweeping only returns the space.
func Sweep(ctx context.Context, cat catalog.Tables, tables []schema.Table, olderThan time.Duration, dryRun bool) ([]SweepResult, error) {
	if olderThan < MinSweepAge {
		return nil, fmt.Errorf("sweep: files younger than %s may belong to a commit in flight", MinSweepAge)
	}
	var out []SweepResult
	for _, t := range tables {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return out, err
		}
		res, err := tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(olderThan), table.WithDryRun(dryRun))
		if err != nil {
			return out, fmt.Errorf("sweep %s: %w", t, err)
		}
		out = append(out, SweepResult{Table: t.String(), Orphans: len(res.OrphanFileLocations), Bytes: res.TotalSizeBytes, Deleted: len(res.DeletedFiles)})
	}
	return out, nil
}
