// Package maintain keeps tables healthy: compaction of the small files that
// micro-batches leave behind.
package maintain

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Catalog is what compaction needs of the catalog.
type Catalog interface {
	Load(ctx context.Context, t schema.Table) (*table.Table, error)
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

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
func Compact(ctx context.Context, cat Catalog, t schema.Table, dateCol string, from, to time.Time, runID string, log *slog.Logger) (Result, error) {
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

func compactDate(ctx context.Context, cat Catalog, t schema.Table, dateCol string, day arrow.Date32, runID string, log *slog.Logger) (Result, error) {
	var res Result
	tbl, err := cat.Load(ctx, t)
	if err != nil || tbl.CurrentSnapshot() == nil {
		return res, err
	}
	scan := tbl.Scan(table.WithRowFilter(iceberg.EqualTo(iceberg.Reference(dateCol), iceberg.Date(day))))
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
	ch := make(chan arrow.RecordBatch, 2)
	var files []iceberg.DataFile
	var werr error
	var wg sync.WaitGroup
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() {
		files, werr = catalog.WriteFiles(wctx, tbl, sc, ch, table.WithRecordBatchBufferSize(4))
		if werr != nil {
			cancel()
		}
	})
	var rerr error
	for rec, err := range batches {
		if err != nil {
			rerr = err
			break
		}
		select {
		case ch <- rec:
		case <-wctx.Done():
			rec.Release()
			rerr = wctx.Err()
		}
		if rerr != nil {
			break
		}
	}
	close(ch)
	wg.Wait()
	if rerr != nil || werr != nil {
		catalog.RemoveFiles(ctx, tbl, files, log)
		return res, fmt.Errorf("compact %s: %w", t, firstErr(rerr, werr))
	}
	props := iceberg.Properties{catalog.PropJob: "compact", catalog.PropRunID: runID}
	if _, err := cat.Commit(ctx, t, func(_ *table.Table, tx *table.Transaction) error {
		return tx.ReplaceDataFilesWithDataFiles(ctx, old, files, props)
	}); err != nil {
		catalog.RemoveFiles(ctx, tbl, files, log)
		return res, fmt.Errorf("compact %s: %w", t, err)
	}
	res.After = len(files)
	return res, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
