package bronze

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze/decode"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

type fileDecoder interface {
	Decode(ctx context.Context, r io.Reader, sc *arrow.Schema, src decode.Source, emit decode.Emitter) (decode.Stats, error)
}

// chunkRun is the state of one commit-sized group of files.
type chunkRun struct {
	feed      schema.Feed
	o         Options
	store     objstore.Reader
	dec       fileDecoder
	sc        *arrow.Schema
	stage     *datafile.Stage
	rows      *datafile.Sink // bronze
	rejs      *datafile.Sink // ops.quarantine
	qb        *rows.Builder[schema.QuarantineRow]
	qLedger   map[string]ledger.Committed
	fr        *FeedReport
	ingestAt  time.Time
	bronze    []ledger.FileEntry // every file of the chunk
	quarantin []ledger.FileEntry // files whose rejects this chunk writes
	tap       Tap                // nil when none
}

// ingestChunk writes the data files of chunk, then commits quarantine rows
// and bronze rows, in that order. On any error nothing of the chunk is
// committed to bronze, and the files it wrote are removed (best effort;
// a killed process leaves unreferenced files, see docs/exactly-once.md).
func ingestChunk(ctx context.Context, store objstore.Reader, cat catalog.Tables, feed schema.Feed, chunk []landing.File,
	o Options, fr *FeedReport, log *slog.Logger, prog *Progress) error {
	bronzeTbl, err := cat.Load(ctx, feed.Bronze)
	if err != nil {
		return err
	}
	qTbl, err := cat.Load(ctx, schema.Quarantine)
	if err != nil {
		return err
	}
	c := &chunkRun{feed: feed, o: o, store: store, fr: fr, ingestAt: o.Now().UTC()}
	if c.qLedger, err = ledger.Ledger(qTbl); err != nil {
		return err
	}
	if c.sc, err = table.SchemaToArrowSchema(bronzeTbl.Schema(), nil, true, false); err != nil {
		return fmt.Errorf("bronze schema: %w", err)
	}
	qsc, err := table.SchemaToArrowSchema(qTbl.Schema(), nil, true, false)
	if err != nil {
		return fmt.Errorf("quarantine schema: %w", err)
	}
	if c.qb, err = rows.NewBuilder[schema.QuarantineRow](o.Alloc, qsc); err != nil {
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

	c.stage = datafile.NewStage(ctx, log)
	defer c.stage.Discard(ctx)
	// Files arrive in key order, so rows arrive clustered by arrival day
	// (the partition): one open Parquet writer at a time.
	c.rows = c.stage.Open(feed.Bronze, bronzeTbl, c.sc, table.WithClusteredWrite())
	c.rejs = c.stage.Open(schema.Quarantine, qTbl, qsc)
	rerr := c.readFiles(c.stage.Context(), chunk, prog)
	if err := errors.Join(rerr, c.stage.Finish()); err != nil {
		return err
	}
	if len(c.rejs.Files()) > 0 {
		if _, err := commitFiles(ctx, cat, c.stage, c.rejs, c.quarantin, o.RunID); err != nil {
			return err
		}
		fr.Commits++
	}
	after, err := commitFiles(ctx, cat, c.stage, c.rows, c.bronze, o.RunID)
	if err != nil {
		return err
	}
	fr.Commits++
	fr.Rows += c.rows.Rows()
	if c.tap != nil {
		committed = true
		c.tellTap(ctx, after, log)
	}
	fr.Files += len(chunk)
	log.Info("committed chunk", "files", len(chunk), "data_files", len(c.rows.Files()), "quarantine_files", len(c.rejs.Files()))
	return nil
}

// tellTap tells the chunk's tap of the bronze commit, if the table's
// current snapshot is that commit (else the tap's work is discarded).
func (c *chunkRun) tellTap(ctx context.Context, after *table.Table, log *slog.Logger) {
	s, ok := ourSnapshot(after, c.bronze, c.o.RunID)
	if !ok {
		c.tap.Abort()
		return
	}
	var parent int64
	if s.ParentSnapshotID != nil {
		parent = *s.ParentSnapshotID
	}
	if err := c.tap.Committed(ctx, s.SnapshotID, parent); err != nil {
		log.Warn("silver tap did not commit; the silver pass will catch up", "error", err.Error())
	}
}

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
func (c *chunkRun) readFile(ctx context.Context, f landing.File) (ledger.FileEntry, error) {
	entry := ledger.FileEntry{Key: f.Key, Size: f.Size}
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
	return e.c.stage.Send(e.c.rows, rec)
}

func (e *emitter) Reject(r decode.Reject) error {
	e.n++
	if e.skip {
		return nil
	}
	e.c.fr.Rejects++
	e.c.fr.ByReason[r.Reason]++
	row := schema.QuarantineRow{Feed: e.c.feed.Name, SourceFile: e.file.Key, Stage: schema.StageBronze,
		Reason: r.Reason, Detail: r.Detail, LandingDate: e.file.Hour, RunID: e.c.o.RunID, At: e.c.ingestAt}
	if r.Offset >= 0 {
		row.Offset = &r.Offset
	}
	if r.Records > 0 {
		row.Records = &r.Records
	}
	row.SetRaw(r.Raw, r.Binary)
	if err := e.c.qb.Add(&row); err != nil {
		return err
	}
	if e.c.qb.Len() >= 4096 {
		return e.flush()
	}
	return nil
}

func (e *emitter) flush() error {
	if rec := e.c.qb.Batch(); rec != nil {
		return e.c.stage.Send(e.c.rejs, rec)
	}
	return nil
}

// ourSnapshot returns tbl's current snapshot if it is the commit of this
// chunk (same run, same file ledger): only then may a tap label its work
// with it.
func ourSnapshot(tbl *table.Table, entries []ledger.FileEntry, runID string) (*table.Snapshot, bool) {
	s := tbl.CurrentSnapshot()
	if s == nil || s.Summary == nil {
		return nil, false
	}
	want, err := ledger.SummaryProps(schema.JobIngest, runID, entries)
	if err != nil {
		return nil, false
	}
	return s, s.Summary.Properties[ledger.PropRunID] == runID && s.Summary.Properties[ledger.PropFiles] == want[ledger.PropFiles]
}

// commitFiles commits the sink's files with entries as the ledger, unless
// the ledger shows the entries committed already.
func commitFiles(ctx context.Context, cat catalog.Tables, st *datafile.Stage, k *datafile.Sink, entries []ledger.FileEntry, runID string) (*table.Table, error) {
	props, err := ledger.SummaryProps(schema.JobIngest, runID, entries)
	if err != nil {
		return nil, err
	}
	return st.Commit(ctx, cat, k, func(tbl *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		done, err := ledger.Ledger(tbl)
		if err != nil {
			return err
		}
		if err := checkLedger(done, entries, runID); err != nil {
			return err
		}
		// A snapshot with no data still records the files (all empty, or
		// all quarantined), so they are not read again.
		return datafile.Append(ctx, tx, files, props)
	})
}

// checkLedger decides whether entries may be committed: not if another run
// committed any of them (catalog.ErrConflict), and not again if this run
// did (catalog.ErrAlreadyCommitted: an earlier attempt went through).
func checkLedger(done map[string]ledger.Committed, entries []ledger.FileEntry, runID string) error {
	ours, theirs := 0, 0
	for _, e := range entries {
		if c, ok := done[e.Key]; ok {
			if c.RunID == runID {
				ours++
			} else {
				theirs++
			}
		}
	}
	switch {
	case theirs > 0:
		return fmt.Errorf("%w: another run committed %d of %d landing files", catalog.ErrConflict, theirs, len(entries))
	case ours == len(entries) && ours > 0:
		return catalog.ErrAlreadyCommitted
	case ours > 0:
		return fmt.Errorf("ledger inconsistent: %d of %d files already committed by this run", ours, len(entries))
	}
	return nil
}
