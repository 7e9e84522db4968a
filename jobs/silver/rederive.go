package silver

import (
	"context"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

// Record identifies one bronze record by its lineage.
type Record struct {
	File   string
	Offset int64
}

// Outcome is what became of a re-derived record: schema.OutcomeAccepted
// (now in silver), OutcomeRejected with the new Reason, or
// OutcomeDuplicate (its key is in silver already).
type Outcome struct {
	Outcome, Reason string
}

// Rederive runs the bronze records of feed in sel through the current
// silver rules, exactly as ingestion does (deduplicated against silver, so
// a record is never in silver twice), and commits the accepted ones to the
// feed's silver tables, one commit per table recording job and the run id.
// Quarantine and the watermarks are not touched. It returns the outcome of
// every selected record; a selected record missing from bronze is an
// error.
func Rederive(ctx context.Context, cat catalog.Tables, o Options, feed schema.Feed, sel map[Record]bool, job string) (map[Record]Outcome, error) {
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return nil, err
	}
	fr := newFeedReport(feed, j.o.Now())
	p, err := j.newPassRun(ctx, feed, feed.Silver, &fr)
	if err != nil {
		return nil, err
	}
	defer p.close(ctx)
	out := map[Record]Outcome{}
	p.only = func(l lineage) bool { return sel[Record{l.file, l.offset}] }
	p.observe = func(l lineage, outcome, reason string) {
		o := Outcome{Outcome: outcome}
		if outcome == schema.OutcomeRejected {
			o.Reason = reason
		}
		out[Record{l.file, l.offset}] = o
	}
	tr, err := newTransformer(p)
	if err != nil {
		return nil, err
	}
	bronzeTbl, err := j.cat.Load(ctx, feed.Bronze)
	if err != nil {
		return nil, err
	}
	if err := p.finish(readRecords(p.stage.Context(), bronzeTbl, sel, tr)); err != nil {
		return nil, err
	}
	props := iceberg.Properties{ledger.PropJob: job, ledger.PropRunID: j.o.RunID}
	if err := p.commitEach(ctx, func(_ *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		return datafile.Append(ctx, tx, files, props)
	}); err != nil {
		return nil, err
	}
	for r := range sel {
		if _, ok := out[r]; !ok {
			return nil, fmt.Errorf("%s record %s@%d is not in %s", feed.Name, r.File, r.Offset, feed.Bronze)
		}
	}
	return out, nil
}

// readRecords streams the bronze batches holding the selected records
// (pruned by source file) through the transformer, which skips the others.
func readRecords(ctx context.Context, tbl *table.Table, sel map[Record]bool, tr transformer) error {
	files := map[string]bool{}
	for r := range sel {
		files[r.File] = true
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	filter := iceberg.IsIn(iceberg.Reference(schema.ColSourceFile), names...)
	_, batches, err := tbl.Scan(table.WithRowFilter(filter)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scan %s: %w", tbl.Identifier(), err)
	}
	for rec, err := range batches {
		if err != nil {
			return fmt.Errorf("scan %s: %w", tbl.Identifier(), err)
		}
		err := tr.batch(ctx, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
