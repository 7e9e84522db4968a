package datafile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// Committer commits to a table (a *catalog.Catalog): build is called on a
// fresh transaction of the current table state, again on every retry.
type Committer interface {
	Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error)
}

// Stage is one job's uncommitted output: a Sink per table, each writing
// Parquet data files in a goroutine of its own. Invariants:
//   - nothing a Stage writes is visible until Commit makes it part of its
//     table;
//   - Discard removes every file of every sink not committed, so
//     `defer st.Discard(ctx)` cleans up after any failure;
//   - the first writer failure cancels Context, so producers blocked on a
//     full sink return at once.
//
// A Stage is used by one goroutine (the producer) besides its writers.
type Stage struct {
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	sinks  []*Sink
}

// NewStage returns a stage whose writers run under ctx; log receives
// clean-up failures (nil discards them).
func NewStage(ctx context.Context, log *slog.Logger) *Stage {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wctx, cancel := context.WithCancel(ctx)
	return &Stage{ctx: wctx, cancel: cancel, log: log}
}

// Context is cancelled when a writer fails (or the parent is cancelled).
func (st *Stage) Context() context.Context { return st.ctx }

// Sink writes batches into new data files of one table.
type Sink struct {
	t         schema.Table
	tbl       *table.Table
	ch        chan arrow.RecordBatch
	done      chan struct{}
	closed    bool
	files     []iceberg.DataFile
	err       error
	committed bool
}

// sinkQueue is how many batches a producer may queue ahead of a sink's
// writer; with the writer's own buffer it bounds the batches in flight.
const sinkQueue = 2

// writerBuffer is how many record batches iceberg-go's Parquet writer may
// hold queued (its default is 64): it bounds memory whatever the input.
const writerBuffer = 4

// Open starts a sink writing batches of schema sc into new data files of
// table t, currently tbl. opts are iceberg-go's write options (clustered
// write, target file size, ...).
func (st *Stage) Open(t schema.Table, tbl *table.Table, sc *arrow.Schema, opts ...table.WriteRecordOption) *Sink {
	k := &Sink{t: t, tbl: tbl, ch: make(chan arrow.RecordBatch, sinkQueue), done: make(chan struct{})}
	st.sinks = append(st.sinks, k)
	opts = append([]table.WriteRecordOption{table.WithRecordBatchBufferSize(writerBuffer)}, opts...)
	go func() {
		defer close(k.done)
		k.files, k.err = writeFiles(st.ctx, tbl, sc, k.ch, opts...)
		if k.err != nil {
			st.cancel()
		}
	}()
	return k
}

// Table is the sink's table.
func (k *Sink) Table() schema.Table { return k.t }

// Send hands rec (ownership included) to the sink's writer; it fails when
// the stage's context is done (a writer failed, or the job was cancelled).
func (st *Stage) Send(k *Sink, rec arrow.RecordBatch) error {
	select {
	case k.ch <- rec:
		return nil
	case <-st.ctx.Done():
		rec.Release()
		return fmt.Errorf("write %s: %w", k.t, context.Cause(st.ctx))
	}
}

func (k *Sink) close() {
	if !k.closed {
		k.closed = true
		close(k.ch)
	}
	<-k.done
}

// Finish closes every sink and waits for its writer: the data files are
// then written (not committed). It returns the writers' errors.
func (st *Stage) Finish() error {
	var errs []error
	for _, k := range st.sinks {
		k.close()
		if k.err != nil {
			errs = append(errs, k.err)
		}
	}
	return errors.Join(errs...)
}

// Files returns the data files the sink wrote (after Finish).
func (k *Sink) Files() []iceberg.DataFile { return k.files }

// Rows counts the rows of the sink's files from their metadata.
func (k *Sink) Rows() int64 {
	var n int64
	for _, f := range k.files {
		n += f.Count()
	}
	return n
}

// Commit commits the sink's files (after Finish) through cat and returns
// the table as committed: build stages them on the transaction of the
// current table state (it is called again on each retry, so it must
// re-check its preconditions). When build returns
// catalog.ErrAlreadyCommitted nothing is committed; the sink then counts
// as committed only when its files are in the table (an earlier attempt of
// this commit went through), otherwise its files are spare and Discard
// removes them. Committed reports which.
func (st *Stage) Commit(ctx context.Context, cat Committer, k *Sink, build func(cur *table.Table, tx *table.Transaction, files []iceberg.DataFile) error) (*table.Table, error) {
	k.close()
	if k.err != nil {
		return nil, k.err
	}
	skipped := false
	tbl, err := cat.Commit(ctx, k.t, func(cur *table.Table, tx *table.Transaction) error {
		err := build(cur, tx, k.files)
		skipped = errors.Is(err, catalog.ErrAlreadyCommitted)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !skipped {
		k.committed = true
		return tbl, nil
	}
	if k.committed, err = contains(ctx, tbl, k.files); err != nil {
		return nil, err
	}
	return tbl, nil
}

// Committed reports whether the sink's files are part of its table.
func (k *Sink) Committed() bool { return k.committed }

// contains reports whether the first of files is a data file of tbl's
// current snapshot (files of one sink are committed together or not).
func contains(ctx context.Context, tbl *table.Table, files []iceberg.DataFile) (bool, error) {
	if len(files) == 0 || tbl.CurrentSnapshot() == nil {
		return len(files) == 0, nil
	}
	cur, err := DataFiles(ctx, tbl, nil)
	if err != nil {
		return false, err
	}
	for _, f := range cur {
		if f.FilePath() == files[0].FilePath() {
			return true, nil
		}
	}
	return false, nil
}

// Discard closes every sink and removes the files of those not committed
// (best effort: failures are logged; such files are unreferenced, so no
// reader sees them). It is safe to call more than once, and after success.
func (st *Stage) Discard(ctx context.Context) {
	for _, k := range st.sinks {
		k.close()
		if !k.committed {
			Remove(ctx, k.tbl, k.files, st.log)
			k.files = nil
		}
	}
	st.cancel()
}

// writeFiles writes the batches of ch as data files of tbl. It always
// drains ch, so a producer never blocks on a failed writer.
func writeFiles(ctx context.Context, tbl *table.Table, sc *arrow.Schema, ch <-chan arrow.RecordBatch, opts ...table.WriteRecordOption) ([]iceberg.DataFile, error) {
	defer func() {
		for rec := range ch {
			rec.Release()
		}
	}()
	seq := func(yield func(arrow.RecordBatch, error) bool) {
		for rec := range ch {
			if !yield(rec, nil) {
				return
			}
		}
	}
	var out []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, seq, opts...) {
		if err != nil {
			return out, fmt.Errorf("write %s: %w", tbl.Identifier(), err)
		}
		out = append(out, df)
	}
	return out, nil
}

// Remove deletes data files that will not be committed (best effort).
func Remove(ctx context.Context, tbl *table.Table, files []iceberg.DataFile, log *slog.Logger) {
	if len(files) == 0 {
		return
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		log.Warn("cannot remove uncommitted data files", "error", err)
		return
	}
	for _, f := range files {
		if err := fs.Remove(f.FilePath()); err != nil {
			log.Warn("cannot remove uncommitted data file", "path", f.FilePath(), "error", err)
		}
	}
}

// Append stages files on tx with props as the snapshot summary. With no
// files it still stages a snapshot (an empty append): the summary, which
// carries adlake's ledger or watermark, must be committed either way.
// Files are fresh (written by a Stage), so the duplicate check, which
// reads every manifest of the table, is skipped.
func Append(ctx context.Context, tx *table.Transaction, files []iceberg.DataFile, props iceberg.Properties) error {
	if len(files) == 0 {
		return tx.AddFiles(ctx, nil, props, false)
	}
	return tx.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck())
}

// Replace stages, on tx, old's replacement by files (a partition
// rewrite): an append when old is empty.
func Replace(ctx context.Context, tx *table.Transaction, old, files []iceberg.DataFile, props iceberg.Properties) error {
	if len(old) == 0 {
		return Append(ctx, tx, files, props)
	}
	return tx.ReplaceDataFilesWithDataFiles(ctx, old, files, props)
}
