// Package datafile reads, plans and writes the Parquet data files of
// adlake's tables. Writing goes through a [Stage]: new files are written
// first, become part of their tables only by a commit, and every file that
// does not end up committed is removed when the stage ends, so a failed job
// leaves nothing behind (a killed one leaves files no snapshot references,
// which `adlake sweep` removes).
package datafile

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// OnDates selects the rows whose date column col lies in [lo, hi].
func OnDates(col string, lo, hi arrow.Date32) iceberg.BooleanExpression {
	if lo == hi {
		return iceberg.EqualTo(iceberg.Reference(col), iceberg.Date(lo))
	}
	return iceberg.NewAnd(iceberg.GreaterThanEqual(iceberg.Reference(col), iceberg.Date(lo)),
		iceberg.LessThanEqual(iceberg.Reference(col), iceberg.Date(hi)))
}

// DataFiles returns the data files of tbl's current snapshot that may hold
// rows matching filter (nil: every file); none for a table without
// snapshots.
func DataFiles(ctx context.Context, tbl *table.Table, filter iceberg.BooleanExpression) ([]iceberg.DataFile, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	var opts []table.ScanOption
	if filter != nil {
		opts = append(opts, table.WithRowFilter(filter))
	}
	tasks, err := tbl.Scan(opts...).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", tbl.Identifier(), err)
	}
	out := make([]iceberg.DataFile, len(tasks))
	for i, t := range tasks {
		out[i] = t.File
	}
	return out, nil
}
