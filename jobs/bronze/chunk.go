package bronze

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze/decode"
	"github.com/advertisex/adlake/jobs/quarantine"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

type fileDecoder interface {
	Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src decode.Source, emit decode.Emitter) (decode.Stats, error)
}

// chunkRun is the state of one commit-sized group of files.
type chunkRun struct {
	feed      string
	o         Options
	store     objstore.Reader
	dec       fileDecoder
	sc        *arrow.Schema
	qb        *quarantine.Builder
	qLedger   map[string]catalog.Committed
	rows      chan arrow.RecordBatch
	rejs      chan arrow.RecordBatch
	fr        *FeedReport
	ingestAt  time.Time
	bronze    []catalog.FileEntry // every file of the chunk
	quarantin []catalog.FileEntry // files whose rejects this chunk writes
	tap       Tap                 // nil when none
}

// ingestChunk writes the data files of chunk, then commits quarantine rows
// and bronze rows, in that order. On any error nothing of the chunk is
// committed to bronze, and the files it wrote are removed (best effort;
// a killed process leaves unreferenced files, see docs/exactly-once.md).
func ingestChunk(ctx context.Context, store objstore.Reader, cat Catalog, feed string, chunk []landing.File,
	o Options, fr *FeedReport, log *slog.Logger, prog *Progress) error {
	bronzeT := schema.Bronze[feed]
	bronzeTbl, err := cat.Load(ctx, bronzeT)
	if err != nil {
		return err
	}
	qTbl, err := cat.Load(ctx, schema.Quarantine)
	if err != nil {
		return err
	}
	c := &chunkRun{feed: feed, o: o, store: store, fr: fr, ingestAt: o.Now().UTC(),
		rows: make(chan arrow.RecordBatch, 2), rejs: make(chan arrow.RecordBatch, 2)}
	if c.qLedger, err = catalog.Ledger(qTbl); err != nil {
		return err
	}
	if c.sc, err = table.SchemaToArrowSchema(bronzeTbl.Schema(), nil, true, false); err != nil {
		return fmt.Errorf("bronze schema: %w", err)
	}
	if c.qb, err = quarantine.NewBuilder(o.Alloc, qTbl.Schema()); err != nil {
		return err
	}
	defer c.qb.Release()
	if c.dec, err = newDecoder(feed, decodeOptions(o)); err != nil {
		return err
	}
	if o.Tap != nil {
		if c.tap, err = o.Tap(ctx, feed, bronzeTbl); err != nil {
			log.Warn("no silver tap for this chunk", "error", err.Error())
			c.tap = nil
		}
	}
	committed := false
	defer func() {
		if c.tap != nil && !committed {
			c.tap.Abort()
		}
	}()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dataFiles, qFiles []iceberg.DataFile
	var werr, qerr error
	var wg sync.WaitGroup
	wg.Go(func() {
		// Files arrive in key order, so rows arrive clustered by arrival day
		// (the partition): one open Parquet writer at a time.
		dataFiles, werr = catalog.WriteFiles(wctx, bronzeTbl, c.sc, c.rows, table.WithClusteredWrite(), table.WithRecordBatchBufferSize(writerBuffer))
		if werr != nil {
			cancel()
		}
	})
	wg.Go(func() {
		qFiles, qerr = catalog.WriteFiles(wctx, qTbl, c.qb.Schema(), c.rejs, table.WithRecordBatchBufferSize(writerBuffer))
		if qerr != nil {
			cancel()
		}
	})
	rerr := c.readFiles(wctx, chunk, prog)
	close(c.rows)
	close(c.rejs)
	wg.Wait()
	if err := errors.Join(rerr, werr, qerr); err != nil {
		catalog.RemoveFiles(ctx, bronzeTbl, append(dataFiles, qFiles...), log)
		return err
	}
	if len(qFiles) > 0 {
		if _, err := commitFiles(ctx, cat, schema.Quarantine, qFiles, c.quarantin, o.RunID); err != nil {
			catalog.RemoveFiles(ctx, bronzeTbl, append(dataFiles, qFiles...), log)
			return err
		}
		fr.Commits++
		o.AfterCommit(schema.Quarantine)
	}
	after, err := commitFiles(ctx, cat, bronzeT, dataFiles, c.bronze, o.RunID)
	if err != nil {
		catalog.RemoveFiles(ctx, bronzeTbl, dataFiles, log)
		return err
	}
	fr.Commits++
	fr.Rows += committedRows(dataFiles)
	o.AfterCommit(bronzeT)
	if c.tap != nil {
		committed = true
		if s, ok := ourSnapshot(after, c.bronze, o.RunID); ok {
			var parent int64
			if s.ParentSnapshotID != nil {
				parent = *s.ParentSnapshotID
			}
			if err := c.tap.Committed(ctx, s.SnapshotID, parent); err != nil {
				log.Warn("silver tap did not commit; the silver pass will catch up", "error", err.Error())
			}
		} else {
			c.tap.Abort()
		}
	}
	fr.Files += len(chunk)
	log.Info("committed chunk", "files", len(chunk), "data_files", len(dataFiles), "quarantine_files", len(qFiles))
	return nil
}

// committedRows counts the rows of data files from their metadata: what a
// commit actually added, which reconciliation holds against the records
// the decoders counted.
func committedRows(files []iceberg.DataFile) int64 {
	var n int64
	for _, f := range files {
		n += f.Count()
	}
	return n
}

// writerBuffer is how many record batches a Parquet writer may hold queued
// (iceberg-go's default is 64); with the decoder's channel of two, it bounds
// the batches in flight, hence memory, whatever the input size.
const writerBuffer = 4

func decodeOptions(o Options) decode.Options {
	return decode.Options{BatchRows: o.BatchRows, Alloc: o.Alloc}
}

func (c *chunkRun) readFiles(ctx context.Context, chunk []landing.File, prog *Progress) error {
	for _, f := range chunk {
		entry, err := c.readFile(ctx, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
		c.bronze = append(c.bronze, entry)
		if c.fr.WindowStart.IsZero() || f.Hour.Before(c.fr.WindowStart) {
			c.fr.WindowStart = f.Hour
		}
		if end := f.Hour.Add(time.Hour); end.After(c.fr.WindowEnd) {
			c.fr.WindowEnd = end
		}
		prog.FilesDone++
		prog.BytesDone += f.Size
		c.o.Progress(*prog)
	}
	return nil
}

// storeError marks an error of the object store itself (not of the
// content): the run stops and the file stays pending, it is never
// quarantined for it.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

type storeReader struct{ r io.Reader }

func (s storeReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &storeError{err}
	}
	return n, err
}

// readFile decodes one landing file into the chunk's channels and returns
// its ledger entry. An error means the chunk must stop (store or context
// failure); unreadable content is quarantined instead.
func (c *chunkRun) readFile(ctx context.Context, f landing.File) (catalog.FileEntry, error) {
	entry := catalog.FileEntry{Key: f.Key, Size: f.Size}
	c.fr.Bytes += f.Size
	if f.Size == 0 {
		return entry, nil // an empty file holds no records
	}
	rc, err := c.store.Open(ctx, f.Key)
	if err != nil {
		return entry, err
	}
	defer rc.Close()
	em := &emitter{ctx: ctx, c: c, file: f, skip: c.qLedger[f.Key].Key != ""}
	var r io.Reader = storeReader{rc}
	var st decode.Stats
	if f.Gzip {
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(r); err == nil {
			defer gz.Close()
			r = gz
		} else {
			err = fmt.Errorf("%w: gzip: %w", decode.ErrUnreadable, err)
		}
	}
	if err == nil {
		st, err = c.dec.Decode(ctx, r, c.sc, decode.Source{Key: f.Key, Hour: f.Hour, RunID: c.o.RunID, IngestedAt: c.ingestAt}, em)
	}
	var se *storeError
	if err != nil && (errors.As(err, &se) || !errors.Is(err, decode.ErrUnreadable)) {
		return entry, err
	}
	if err != nil {
		c.fr.FilesUnreadable++
		if rerr := em.Reject(decode.Reject{Offset: -1, Reason: decode.ReasonUnreadable, Detail: err.Error()}); rerr != nil {
			return entry, rerr
		}
	}
	if err := em.flush(); err != nil {
		return entry, err
	}
	entry.Rows, entry.Rejects = em.rows, em.n
	c.fr.Decoded += st.Rows
	c.fr.Blank += st.Blank
	c.fr.RejectedRecords += st.Rejected
	c.fr.noteDrift(f.Key, st.Drift)
	if em.n > 0 && !em.skip {
		c.quarantin = append(c.quarantin, entry)
	}
	return entry, nil
}

// emitter routes one file's decoder output to the chunk's writers.
type emitter struct {
	ctx  context.Context
	c    *chunkRun
	file landing.File
	skip bool  // this file's rejects are already committed to quarantine
	n    int64 // rejects seen
	rows int64 // rows handed to the bronze writer
}

func (e *emitter) Batch(rec arrow.RecordBatch) error {
	e.rows += rec.NumRows()
	if e.c.tap != nil {
		if err := e.c.tap.Batch(e.ctx, rec); err != nil {
			e.c.tap.Abort()
			e.c.tap = nil
		}
	}
	return send(e.ctx, e.c.rows, rec)
}

func (e *emitter) Reject(r decode.Reject) error {
	e.n++
	if e.skip {
		return nil
	}
	e.c.fr.Rejects++
	e.c.fr.ByReason[r.Reason]++
	e.c.qb.Add(quarantine.Row{
		Feed: e.c.feed, SourceFile: e.file.Key, Offset: r.Offset, Records: r.Records, Stage: "bronze",
		Reason: r.Reason, Detail: r.Detail, Raw: r.Raw, Binary: r.Binary, LandingHour: e.file.Hour,
		RunID: e.c.o.RunID, At: e.c.ingestAt,
	})
	if e.c.qb.Len() >= 4096 {
		return e.flush()
	}
	return nil
}

func (e *emitter) flush() error {
	if rec := e.c.qb.Batch(); rec != nil {
		return send(e.ctx, e.c.rejs, rec)
	}
	return nil
}

func send(ctx context.Context, ch chan<- arrow.RecordBatch, rec arrow.RecordBatch) error {
	select {
	case ch <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}

// ourSnapshot returns tbl's current snapshot if it is the commit of this
// chunk (same run, same file ledger): only then may a tap label its work
// with it.
func ourSnapshot(tbl *table.Table, entries []catalog.FileEntry, runID string) (*table.Snapshot, bool) {
	s := tbl.CurrentSnapshot()
	if s == nil || s.Summary == nil {
		return nil, false
	}
	want, err := catalog.SummaryProps(Job, runID, entries)
	if err != nil {
		return nil, false
	}
	return s, s.Summary.Properties[catalog.PropRunID] == runID && s.Summary.Properties[catalog.PropFiles] == want[catalog.PropFiles]
}

// commitFiles commits files to t with entries as the ledger, unless the
// ledger shows the entries committed already.
func commitFiles(ctx context.Context, cat Catalog, t schema.Table, files []iceberg.DataFile, entries []catalog.FileEntry, runID string) (*table.Table, error) {
	props, err := catalog.SummaryProps(Job, runID, entries)
	if err != nil {
		return nil, err
	}
	return cat.Commit(ctx, t, func(tbl *table.Table, tx *table.Transaction) error {
		ledger, err := catalog.Ledger(tbl)
		if err != nil {
			return err
		}
		if err := checkLedger(ledger, entries, runID); err != nil {
			return err
		}
		// A snapshot with no data still records the files (all empty, or
		// all quarantined), so they are not read again.
		return catalog.AddFiles(ctx, tx, files, props)
	})
}

// checkLedger decides whether entries may be committed: not if another run
// committed any of them (ErrConcurrentRun), and not again if this run did
// (catalog.ErrAlreadyCommitted: an earlier attempt went through).
func checkLedger(ledger map[string]catalog.Committed, entries []catalog.FileEntry, runID string) error {
	ours, theirs := 0, 0
	for _, e := range entries {
		if c, ok := ledger[e.Key]; ok {
			if c.RunID == runID {
				ours++
			} else {
				theirs++
			}
		}
	}
	switch {
	case theirs > 0:
		return fmt.Errorf("%w: %d of %d files", ErrConcurrentRun, theirs, len(entries))
	case ours == len(entries) && ours > 0:
		return catalog.ErrAlreadyCommitted
	case ours > 0:
		return fmt.Errorf("ledger inconsistent: %d of %d files already committed by this run", ours, len(entries))
	}
	return nil
}
