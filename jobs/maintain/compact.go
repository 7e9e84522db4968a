// Package maintain keeps tables healthy: compaction of the small files that
// micro-batches leave behind.
package maintain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

// Result is what one compaction did.
type Result struct {
	Table              string
	FilesBefore, After int
	Rows               int64
}

// Compact rewrites, date by date, the data files of t whose partition
// column dateCol lies in from..to into as few files as the target file size
// allows, replacing a date's files in one commit: readers see the old files
// or the new ones, and rows are neither added nor lost. Files added
// meanwhile (a micro-batch committing during compaction) are not touched.
// A date with a single file is left alone.
func Compact(ctx context.Context, cat catalog.Tables, t schema.Table, dateCol string, from, to time.Time, runID string, log *slog.Logger) (Result, error) {
	res := Result{Table: t.String()}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		r, err := compactDate(ctx, cat, t, dateCol, arrow.Date32FromTime(d), runID, log)
		res.FilesBefore += r.FilesBefore
		res.After += r.After
		res.Rows += r.Rows
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

func compactDate(ctx context.Context, cat catalog.Tables, t schema.Table, dateCol string, day arrow.Date32, runID string, log *slog.Logger) (Result, error) {
	var res Result
	tbl, err := cat.Load(ctx, t)
	if err != nil || tbl.CurrentSnapshot() == nil {
		return res, err
	}
	scan := tbl.Scan(table.WithRowFilter(datafile.OnDates(dateCol, day, day)))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return res, fmt.Errorf("plan %s: %w", t, err)
	}
	old := make([]iceberg.DataFile, len(tasks))
	for i, task := range tasks {
		old[i] = task.File
		res.Rows += task.File.Count()
	}
	res.FilesBefore = len(tasks)
	if len(tasks) <= 1 {
		res.After = len(tasks)
		return res, nil
	}
	sc, batches, err := scan.ToArrowRecords(ctx)
	if err != nil {
		return res, fmt.Errorf("scan %s: %w", t, err)
	}
	st := datafile.NewStage(ctx, log)
	defer st.Discard(ctx)
	k := st.Open(t, tbl, sc)
	var rerr error
	for rec, err := range batches {
		if err != nil {
			rerr = err
			break
		}
		if rerr = st.Send(k, rec); rerr != nil {
			break
		}
	}
	if err := errors.Join(rerr, st.Finish()); err != nil {
		return res, fmt.Errorf("compact %s: %w", t, err)
	}
	props := iceberg.Properties{ledger.PropJob: schema.JobCompact, ledger.PropRunID: runID}
	if _, err := st.Commit(ctx, cat, k, func(_ *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		return tx.ReplaceDataFilesWithDataFiles(ctx, old, files, props)
	}); err != nil {
		return res, fmt.Errorf("compact %s: %w", t, err)
	}
	res.After = len(k.Files())
	return res, nil
}
