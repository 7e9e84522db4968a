package quality

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// JobRun identifies the job run that evaluated checks: every result it
// records carries its ID, Job and At (ops.dq_results run_id, job,
// checked_at). Results of backfill runs are not history.
type JobRun struct {
	ID  string
	Job string // schema.JobIngest, JobQuality, JobDaily or JobBackfill
	At  time.Time
}

// props are the snapshot properties of run's commits.
func (r JobRun) props() iceberg.Properties {
	return iceberg.Properties{ledger.PropJob: r.Job, ledger.PropRunID: r.ID}
}

// Record appends results to ops.dq_results in one commit (none for no
// results).
func Record(ctx context.Context, cat catalog.Tables, run JobRun, rs []Result) error {
	if len(rs) == 0 {
		return nil
	}
	out := make([]schema.DQResultRow, len(rs))
	for i, r := range rs {
		out[i] = schema.DQResultRow{Date: r.Date, Check: r.Check, Table: r.Table, Partition: r.Partition,
			Observed: r.Observed, Low: r.Low, High: r.High, Expected: r.Expected, Status: string(r.Status),
			Detail: r.Detail, Job: run.Job, RunID: run.ID, At: run.At}
	}
	if err := rows.Append(ctx, cat, schema.DQResults, out, run.props()); err != nil {
		return fmt.Errorf("record data-quality results: %w", err)
	}
	return nil
}

// history returns the latest observation of check per "table|partition"
// on the dates given, from runs other than backfills; results that
// observed nothing are left out.
func history(ctx context.Context, cat catalog.Loader, check string, dates []time.Time) (map[string]float64, error) {
	out := map[string]float64{}
	if len(dates) == 0 {
		return out, nil
	}
	var filter iceberg.BooleanExpression = iceberg.AlwaysFalse{}
	for _, d := range dates {
		filter = iceberg.NewOr(filter, onDates("dq_date", d, d))
	}
	filter = iceberg.NewAnd(filter, iceberg.EqualTo(iceberg.Reference("check"), check))
	tbl, err := cat.Load(ctx, schema.DQResults)
	if err != nil {
		return nil, err
	}
	at := map[string]time.Time{}
	for r, err := range rows.Scan[schema.DQResultRow](ctx, tbl, filter) {
		if err != nil {
			return nil, fmt.Errorf("ops.dq_results: %w", err)
		}
		if r.Job == schema.JobBackfill || r.Check != check || math.IsNaN(r.Observed) {
			continue
		}
		k := r.Table + "|" + r.Partition
		if t, seen := at[k]; !seen || !r.At.Before(t) {
			at[k], out[k] = r.At, r.Observed
		}
	}
	return out, nil
}
