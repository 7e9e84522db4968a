package quality

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/schema"
)

// partitionChecks are the checks of an event date (Checker.Date).
var partitionChecks = map[string]bool{RowCount: true, NullRate: true, UnknownCreative: true, OrphanClicks: true}

// Failures returns the failed results of the latest run that checked the
// partitions of event date d (none when that run passed, or no run did):
// what holds gold back for d.
func Failures(ctx context.Context, cat Catalog, d time.Time) ([]Result, error) {
	d = day(d)
	recs, err := batches(ctx, cat, schema.DQResults, onDates("dq_date", d, d),
		"check", "table", "partition", "observed", "expected", "status", "run_id", "checked_at")
	if err != nil {
		return nil, err
	}
	var latestRun string
	var latestAt int64
	byRun := map[string][]Result{}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("scan ops.dq_results: %w", err)
		}
		chk, status := column[*array.String](rec, "check"), column[*array.String](rec, "status")
		run, at := column[*array.String](rec, "run_id"), column[*array.Timestamp](rec, "checked_at")
		tbl, part := column[*array.String](rec, "table"), column[*array.String](rec, "partition")
		obs, exp := column[*array.Float64](rec, "observed"), column[*array.String](rec, "expected")
		for i := 0; i < int(rec.NumRows()); i++ {
			if !partitionChecks[chk.Value(i)] {
				continue
			}
			if t := int64(at.Value(i)); t > latestAt {
				latestAt, latestRun = t, run.Value(i)
			}
			if Status(status.Value(i)) == Fail {
				byRun[run.Value(i)] = append(byRun[run.Value(i)], Result{Date: d, Check: chk.Value(i), Table: tbl.Value(i),
					Partition: part.Value(i), Observed: obs.Value(i), Expected: exp.Value(i), Status: Fail})
			}
		}
		rec.Release()
	}
	return byRun[latestRun], nil
}
