package silver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// sink is one output table of a pass: a record builder whose columns are
// bound by name, and the stage sink its full batches go to.
type sink struct {
	t    schema.Table
	name string // t.String(), the key of the report's counts
	on   bool   // this pass writes the table (it is at the pass's watermark)
	b    *array.RecordBuilder
	k    *datafile.Sink
	// cols are the builders of the columns the transformer fills, in the
	// order it declared them (see bind), then of the lineage columns;
	// rest are the table's other columns, appended null.
	cols []array.Builder
	rest []array.Builder
	rows int64
}

// passRun is the state of one pass over some bronze rows.
type passRun struct {
	j     *job
	feed  schema.Feed
	stage *datafile.Stage
	sinks map[string]*sink // by table name
	q     *datafile.Sink
	qOn   bool // the pass writes ops.quarantine
	qb    *rows.Builder[schema.QuarantineRow]
	fr    *FeedReport
	at    time.Time
	// only, if set, selects the bronze rows to process (replay); others
	// are skipped without a trace.
	only func(lineage) bool
	// keepDay, if set, selects rows by event date (rebuild); others are
	// skipped without a trace.
	keepDay func(arrow.Date32) bool
	// observe is told the outcome of every processed row: accepted,
	// rejected (with the reason) or duplicate.
	observe func(l lineage, outcome, reason string)
}

// pass processes the bronze snapshots of pass for the tables in tables
// (those whose watermark is wm), then commits them.
func (j *job) pass(ctx context.Context, feed schema.Feed, bronzeTbl *table.Table, wm int64, pass []table.Snapshot, tables []schema.Table, fr *FeedReport) error {
	p, err := j.newPassRun(ctx, feed, tables, fr)
	if err != nil {
		return err
	}
	defer p.close(ctx)
	tr, err := newTransformer(p)
	if err != nil {
		return err
	}
	if err := p.finish(p.readSnapshots(p.stage.Context(), bronzeTbl, pass, tr)); err != nil {
		return err
	}
	return p.commitWatermark(ctx, wm, pass[len(pass)-1].SnapshotID)
}

// newPassRun opens a sink, with its writer, for every table the feed
// writes; only the tables in on are committed.
func (j *job) newPassRun(ctx context.Context, feed schema.Feed, on []schema.Table, fr *FeedReport) (*passRun, error) {
	p := &passRun{j: j, feed: feed, sinks: map[string]*sink{}, fr: fr, at: j.o.Now().UTC(),
		stage: datafile.NewStage(ctx, j.o.Logger), observe: func(lineage, string, string) {}}
	enabled := map[string]bool{}
	for _, t := range on {
		enabled[t.String()] = true
	}
	for _, t := range feed.Silver {
		tbl, sc, err := j.load(ctx, t)
		if err != nil {
			p.close(ctx)
			return nil, err
		}
		p.sinks[t.Name] = &sink{t: t, name: t.String(), on: enabled[t.String()],
			b: array.NewRecordBuilder(j.o.Alloc, sc), k: p.stage.Open(t, tbl, sc)}
	}
	qTbl, qsc, err := j.load(ctx, schema.Quarantine)
	if err != nil {
		p.close(ctx)
		return nil, err
	}
	p.q, p.qOn = p.stage.Open(schema.Quarantine, qTbl, qsc), enabled[schema.Quarantine.String()]
	if p.qb, err = rows.NewBuilder[schema.QuarantineRow](j.o.Alloc, qsc); err != nil {
		p.close(ctx)
		return nil, err
	}
	return p, nil
}

// load returns a table and the Arrow form of its current schema.
func (j *job) load(ctx context.Context, t schema.Table) (*table.Table, *arrow.Schema, error) {
	tbl, err := j.cat.Load(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, nil, fmt.Errorf("%s schema: %w", t, err)
	}
	return tbl, sc, nil
}

// close releases the builders and removes every file not committed.
func (p *passRun) close(ctx context.Context) {
	p.stage.Discard(ctx)
	for _, s := range p.sinks {
		if s.b != nil {
			s.b.Release()
			s.b = nil
		}
	}
	if p.qb != nil {
		p.qb.Release()
		p.qb = nil
	}
}

// finish flushes the builders and waits for the writers; rerr (the
// reading's error) or a writer's error is returned, and the pass's files
// are then removed by close.
func (p *passRun) finish(rerr error) error {
	if rerr == nil {
		rerr = p.flushAll()
	}
	return errors.Join(rerr, p.stage.Finish())
}

// allSinks returns the silver sinks in the feed's commit order.
func (p *passRun) allSinks() []*sink {
	out := make([]*sink, 0, len(p.feed.Silver))
	for _, t := range p.feed.Silver {
		out = append(out, p.sinks[t.Name])
	}
	return out
}

// commitWatermark commits quarantine first, then each silver table, of
// those the pass writes, every commit recording the new watermark to and
// re-checking the old one (from): another run that moved a table
// meanwhile is catalog.ErrConflict.
func (p *passRun) commitWatermark(ctx context.Context, from, to int64) error {
	props := iceberg.Properties{ledger.PropJob: schema.JobSilver, ledger.PropRunID: p.j.o.RunID, ledger.WatermarkKey(p.feed.Name): fmt.Sprint(to)}
	build := func(cur *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		wm, err := ledger.Watermark(cur, p.feed.Name)
		switch {
		case err != nil:
			return err
		case wm == to:
			return catalog.ErrAlreadyCommitted
		case wm != from:
			return fmt.Errorf("%w: %s moved from bronze snapshot %d to %d meanwhile", catalog.ErrConflict, cur.Identifier(), from, wm)
		}
		return datafile.Append(ctx, tx, files, props)
	}
	targets := []*datafile.Sink{}
	if p.qOn {
		targets = append(targets, p.q)
	}
	for _, s := range p.allSinks() {
		if s.on {
			targets = append(targets, s.k)
		}
	}
	for _, k := range targets {
		if _, err := p.stage.Commit(ctx, p.j.cat, k, build); err != nil {
			return err
		}
		if k.Committed() {
			p.fr.Commits++
		}
	}
	return nil
}

// commitEach commits the pass's silver tables (not quarantine), each with
// props, through stage: build decides how (append, partition replace).
func (p *passRun) commitEach(ctx context.Context, build func(cur *table.Table, tx *table.Transaction, files []iceberg.DataFile) error) error {
	for _, s := range p.allSinks() {
		if _, err := p.stage.Commit(ctx, p.j.cat, s.k, build); err != nil {
			return err
		}
		p.fr.Commits++
	}
	return nil
}

// readSnapshots reads, in commit order, the data files each snapshot added
// to bronze, in arrival-day order within a snapshot.
func (p *passRun) readSnapshots(ctx context.Context, tbl *table.Table, pass []table.Snapshot, tr transformer) error {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	for _, s := range pass {
		scan := tbl.NewIncrementalAppendScan().ToSnapshot(s.SnapshotID)
		if s.ParentSnapshotID != nil {
			scan = scan.FromSnapshotExclusive(*s.ParentSnapshotID)
		} else {
			scan = scan.FromSnapshotInclusive(s.SnapshotID)
		}
		tasks, err := scan.PlanFiles(ctx)
		if err != nil {
			return fmt.Errorf("plan bronze snapshot %d: %w", s.SnapshotID, err)
		}
		sort.Slice(tasks, func(a, b int) bool { return tasks[a].File.FilePath() < tasks[b].File.FilePath() })
		sort.SliceStable(tasks, func(a, b int) bool { return partitionOf(tasks[a]) < partitionOf(tasks[b]) })
		for _, task := range tasks {
			if err := p.readFile(ctx, fs, task.File.FilePath(), tr); err != nil {
				return err
			}
		}
	}
	return nil
}

func partitionOf(t table.FileScanTask) string { return fmt.Sprint(t.File.Partition()) }

// readFile streams one bronze Parquet file through the transformer.
func (p *passRun) readFile(ctx context.Context, fs icebergio.IO, path string, tr transformer) error {
	o := datafile.ParquetRead{BatchRows: p.j.o.BatchRows, Alloc: p.j.o.Alloc}
	return datafile.ReadParquet(ctx, fs, path, o, func(rec arrow.RecordBatch) error {
		p.fr.RowsIn += rec.NumRows()
		return tr.batch(ctx, rec)
	})
}
