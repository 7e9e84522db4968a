package silver

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

// Tapper derives silver from bronze chunks while they are being ingested,
// so silver needs no second read of the bronze Parquet files and its work
// overlaps bronze's. Each chunk gets a Tap (see Open). Exactly-once rests on
// the watermarks alone: a tap commits its silver rows with the watermark of
// the bronze snapshot its chunk made, only if silver was exactly at that
// snapshot's parent; otherwise it discards them, and Run derives that
// snapshot the ordinary way.
type Tapper struct {
	j       *job
	reports map[string]*FeedReport
}

// NewTapper prepares taps for one ingest run.
func NewTapper(ctx context.Context, cat catalog.Tables, o Options) (*Tapper, error) {
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return nil, err
	}
	return &Tapper{j: j, reports: map[string]*FeedReport{}}, nil
}

// Reports returns what the taps committed, by feed.
func (tp *Tapper) Reports() map[string]*FeedReport { return tp.reports }

func (tp *Tapper) report(feed schema.Feed) *FeedReport {
	fr, ok := tp.reports[feed.Name]
	if !ok {
		r := newFeedReport(feed, tp.j.o.Now())
		fr = &r
		tp.reports[feed.Name] = fr
	}
	return fr
}

// Open returns a tap for the next chunk of feed, whose bronze table is in
// state bronzeTbl; nil (and no error) when silver is not exactly at that
// state, in which case the chunk's silver is left to Run.
func (tp *Tapper) Open(ctx context.Context, feed schema.Feed, bronzeTbl *table.Table) (*Tap, error) {
	var at int64 // the bronze snapshot the chunk starts from; 0: none yet
	if cur := bronzeTbl.CurrentSnapshot(); cur != nil {
		at = cur.SnapshotID
	}
	for _, t := range feed.Targets() {
		tbl, err := tp.j.cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		if wm, err := ledger.Watermark(tbl, feed.Name); err != nil || wm != at {
			return nil, err
		}
	}
	fr := tp.report(feed)
	p, err := tp.j.newPassRun(ctx, feed, feed.Targets(), fr)
	if err != nil {
		return nil, err
	}
	tr, err := newTransformer(p)
	if err != nil {
		p.close(ctx)
		return nil, err
	}
	t := &Tap{p: p, parent: at, ch: make(chan arrow.RecordBatch, 4), done: make(chan error, 1)}
	go func() {
		var err error
		for rec := range t.ch {
			if err == nil {
				fr.RowsIn += rec.NumRows()
				err = tr.batch(p.stage.Context(), rec)
			}
			rec.Release()
		}
		t.done <- err
	}()
	return t, nil
}

// Tap derives the silver rows of one bronze chunk.
type Tap struct {
	p      *passRun
	parent int64 // the bronze snapshot silver is at (0: none)
	ch     chan arrow.RecordBatch
	done   chan error
	closed bool
}

// Batch hands a bronze batch to the tap's goroutine.
func (t *Tap) Batch(ctx context.Context, rec arrow.RecordBatch) error {
	rec.Retain()
	select {
	case t.ch <- rec:
		return nil
	case <-t.p.stage.Context().Done():
		rec.Release()
		return context.Cause(t.p.stage.Context())
	case <-ctx.Done():
		rec.Release()
		return ctx.Err()
	}
}

// errTapDiscarded is the reason a tap's files are removed uncommitted.
var errTapDiscarded = errors.New("silver tap discarded")

func (t *Tap) wait() error {
	if t.closed {
		return errTapDiscarded
	}
	t.closed = true
	close(t.ch)
	return <-t.done
}

// Committed commits the chunk's silver rows with watermark snapshot, if
// silver is still at parent, 0 for none (the commits re-check it).
func (t *Tap) Committed(ctx context.Context, snapshot, parent int64) error {
	defer t.p.close(ctx)
	err := t.wait()
	if err == nil && parent != t.parent {
		err = fmt.Errorf("%w: bronze moved from snapshot %d to %d meanwhile", errTapDiscarded, t.parent, parent)
	}
	if err := t.p.finish(err); err != nil {
		return err
	}
	if err := t.p.commitWatermark(ctx, parent, snapshot); err != nil {
		return err
	}
	t.p.fr.Passes++
	return nil
}

// Abort discards the tap's work.
func (t *Tap) Abort() {
	_ = t.p.finish(errors.Join(t.wait(), errTapDiscarded))
	t.p.close(context.Background())
}
