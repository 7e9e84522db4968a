package quality

import (
	"context"
	"fmt"
	"time"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// partitionChecks are the checks of an event date (Checker.Date).
var partitionChecks = map[string]bool{RowCount: true, NullRate: true, UnknownCreative: true, OrphanClicks: true}

// Failures returns the failed results of the latest run that checked the
// partitions of event date d (none when that run passed, or no run did):
// what holds gold back for d. The latest run is the one whose partition
// check result has the latest checked_at; the per-run and "now" checks
// recorded on d do not count.
func Failures(ctx context.Context, cat catalog.Loader, d time.Time) ([]Result, error) {
	d = day(d)
	tbl, err := cat.Load(ctx, schema.DQResults)
	if err != nil {
		return nil, err
	}
	var latestRun string
	var latestAt time.Time
	byRun := map[string][]Result{}
	for r, err := range rows.Scan[schema.DQResultRow](ctx, tbl, onDates("dq_date", d, d)) {
		if err != nil {
			return nil, fmt.Errorf("ops.dq_results: %w", err)
		}
		if !partitionChecks[r.Check] {
			continue
		}
		if r.At.After(latestAt) {
			latestAt, latestRun = r.At, r.RunID
		}
		if Status(r.Status) == Fail {
			byRun[r.RunID] = append(byRun[r.RunID], Result{Date: d, Check: r.Check, Table: r.Table,
				Partition: r.Partition, Observed: r.Observed, Expected: r.Expected, Status: Fail})
		}
	}
	return byRun[latestRun], nil
}
