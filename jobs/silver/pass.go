package silver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/quarantine"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// sink is one output table of a pass: a builder whose full batches go to
// a writer goroutine.
type sink struct {
	t     schema.Table
	name  string // t.String(), the key of the report's counts
	on    bool   // this pass writes the table (it is at the pass's watermark)
	b     *array.RecordBuilder
	ch    chan arrow.RecordBatch
	files []iceberg.DataFile
	err   error
	rows  int64
}

// passRun is the state of one pass over some bronze rows.
type passRun struct {
	j      *job
	feed   string
	sinks  map[string]*sink // by table name
	qb     *quarantine.Builder
	q      *sink
	fr     *FeedReport
	at     time.Time
	ctx    context.Context // cancelled when a writer fails
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// only, if set, selects the bronze rows to process (replay); others
	// are skipped without a trace.
	only func(lineage) bool
	// keepDay, if set, selects rows by event date (rebuild); others are
	// skipped without a trace.
	keepDay func(arrow.Date32) bool
	// observe is told the outcome of every processed row: "accepted",
	// "rejected" (with the reason) or "duplicate".
	observe func(l lineage, outcome, reason string)
}

// pass processes the bronze snapshots of pass for the tables in tables
// (those whose watermark is wm), then commits them.
func (j *job) pass(ctx context.Context, feed string, bronzeTbl *table.Table, wm int64, pass []table.Snapshot, tables []schema.Table, fr *FeedReport) error {
	p, err := j.newPassRun(ctx, feed, tables, fr)
	if err != nil {
		return err
	}
	defer p.release()
	tr, err := newTransformer(p)
	if err != nil {
		return err
	}
	if err := p.finish(ctx, bronzeTbl, p.readSnapshots(p.ctx, bronzeTbl, pass, tr)); err != nil {
		return err
	}
	return p.commit(ctx, bronzeTbl, wm, pass[len(pass)-1].SnapshotID)
}

// newPassRun opens a sink, with its writer goroutine, for every table the
// feed writes; only the tables in on are committed.
func (j *job) newPassRun(ctx context.Context, feed string, on []schema.Table, fr *FeedReport) (*passRun, error) {
	wctx, cancel := context.WithCancel(ctx)
	p := &passRun{j: j, feed: feed, sinks: map[string]*sink{}, fr: fr, at: j.o.Now().UTC(), ctx: wctx, cancel: cancel,
		observe: func(lineage, string, string) {}}
	enabled := map[string]bool{}
	for _, t := range on {
		enabled[t.String()] = true
	}
	open := func(t schema.Table) (*sink, *table.Table, error) {
		tbl, err := j.cat.Load(ctx, t)
		if err != nil {
			return nil, nil, err
		}
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return nil, nil, err
		}
		s := &sink{t: t, name: t.String(), on: enabled[t.String()], b: array.NewRecordBuilder(j.o.Alloc, sc), ch: make(chan arrow.RecordBatch, 2)}
		p.wg.Go(func() {
			s.files, s.err = catalog.WriteFiles(wctx, tbl, sc, s.ch, table.WithRecordBatchBufferSize(4))
			if s.err != nil {
				cancel()
			}
		})
		return s, tbl, nil
	}
	for _, t := range targets[feed] {
		s, _, err := open(t)
		if err != nil {
			p.abort()
			return nil, err
		}
		p.sinks[t.Name] = s
	}
	q, qTbl, err := open(schema.Quarantine)
	if err != nil {
		p.abort()
		return nil, err
	}
	p.q = q
	if p.qb, err = quarantine.NewBuilder(j.o.Alloc, qTbl.Schema()); err != nil {
		p.abort()
		return nil, err
	}
	return p, nil
}

// abort stops the writers of a pass that will not finish.
func (p *passRun) abort() {
	p.cancel()
	for _, s := range p.allSinks() {
		if s != nil {
			close(s.ch)
		}
	}
	p.wg.Wait()
	p.release()
}

func (p *passRun) release() {
	for _, s := range p.allSinks() {
		if s != nil && s.b != nil {
			s.b.Release()
			s.b = nil
		}
	}
	if p.qb != nil {
		p.qb.Release()
		p.qb = nil
	}
	p.cancel()
}

// finish flushes the builders, closes the writers and waits for their data
// files; on any error (rerr included) it removes what was written.
func (p *passRun) finish(ctx context.Context, tbl *table.Table, rerr error) error {
	if rerr == nil {
		rerr = p.flushAll()
	}
	for _, s := range p.allSinks() {
		close(s.ch)
	}
	p.wg.Wait()
	errs := []error{rerr}
	for _, s := range p.allSinks() {
		errs = append(errs, s.err)
	}
	if err := errors.Join(errs...); err != nil {
		p.removeAll(ctx, tbl)
		return err
	}
	return nil
}

func (p *passRun) allSinks() []*sink {
	out := []*sink{}
	if p.q != nil {
		out = append(out, p.q)
	}
	for _, t := range targets[p.feed] {
		if s := p.sinks[t.Name]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (p *passRun) removeAll(ctx context.Context, tbl *table.Table) {
	for _, s := range p.allSinks() {
		catalog.RemoveFiles(ctx, tbl, s.files, p.j.o.Logger)
	}
}

// commit commits quarantine first, then each silver table, every commit
// recording the new watermark and re-checking the old one.
func (p *passRun) commit(ctx context.Context, tbl *table.Table, from, to int64) error {
	sinks := p.allSinks()
	for i, s := range sinks {
		if !s.on {
			catalog.RemoveFiles(ctx, tbl, s.files, p.j.o.Logger)
			continue
		}
		props := iceberg.Properties{catalog.PropJob: Job, catalog.PropRunID: p.j.o.RunID, catalog.WatermarkKey(p.feed): fmt.Sprint(to)}
		already := false
		_, err := p.j.cat.Commit(ctx, s.t, func(cur *table.Table, tx *table.Transaction) error {
			wm, err := catalog.Watermark(cur, p.feed)
			switch {
			case err != nil:
				return err
			case wm == to:
				already = true
				return catalog.ErrAlreadyCommitted
			case wm != from:
				return fmt.Errorf("%w: %s moved from bronze snapshot %d to %d meanwhile", ErrConcurrentRun, s.t, from, wm)
			}
			return catalog.AddFiles(ctx, tx, s.files, props)
		})
		if err != nil {
			// Only the files of this and later sinks are uncommitted; the
			// earlier sinks' files are part of their tables now.
			for _, rest := range sinks[i:] {
				catalog.RemoveFiles(ctx, tbl, rest.files, p.j.o.Logger)
			}
			return err
		}
		if already {
			// Another attempt or run committed this pass: our copy is spare.
			catalog.RemoveFiles(ctx, tbl, s.files, p.j.o.Logger)
			continue
		}
		p.fr.Commits++
		p.j.o.AfterCommit(s.t)
	}
	return nil
}

// ErrConcurrentRun means another run advanced a silver table meanwhile;
// this pass was abandoned and nothing of it is visible.
var ErrConcurrentRun = errors.New("another run derived silver from the same bronze snapshots")

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
	o := catalog.ParquetRead{BatchRows: p.j.o.BatchRows, Alloc: p.j.o.Alloc}
	return catalog.ReadParquet(ctx, fs, path, o, func(rec arrow.RecordBatch) error {
		p.fr.RowsIn += rec.NumRows()
		return tr.batch(ctx, rec)
	})
}
