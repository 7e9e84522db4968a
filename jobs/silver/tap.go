package silver

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
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
func NewTapper(ctx context.Context, cat Catalog, o Options) (*Tapper, error) {
	j, err := newJob(ctx, cat, o)
	if err != nil {
		return nil, err
	}
	return &Tapper{j: j, reports: map[string]*FeedReport{}}, nil
}

// Reports returns what the taps committed, by feed.
func (tp *Tapper) Reports() map[string]*FeedReport { return tp.reports }

func (tp *Tapper) report(feed string) *FeedReport {
	fr, ok := tp.reports[feed]
	if !ok {
		fr = &FeedReport{Feed: feed, Started: tp.j.o.Now(), Valid: map[string]int64{}, Rejected: map[string]int64{}, Duplicates: map[string]int64{}}
		tp.reports[feed] = fr
	}
	return fr
}

// Open returns a tap for the next chunk of feed, whose bronze table is in
// state bronzeTbl; nil (and no error) when silver is not exactly at that
// state, in which case the chunk's silver is left to Run.
func (tp *Tapper) Open(ctx context.Context, feed string, bronzeTbl *table.Table) (*Tap, error) {
	var at int64 // the bronze snapshot the chunk starts from; 0: none yet
	if cur := bronzeTbl.CurrentSnapshot(); cur != nil {
		at = cur.SnapshotID
	}
	if _, ok := targets[feed]; !ok {
		return nil, fmt.Errorf("unknown feed %q", feed)
	}
	for _, t := range append(append([]schema.Table(nil), targets[feed]...), schema.Quarantine) {
		tbl, err := tp.j.cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		if wm, err := catalog.Watermark(tbl, feed); err != nil || wm != at {
			return nil, err
		}
	}
	fr := tp.report(feed)
	p, err := tp.j.newPassRun(ctx, feed, append(append([]schema.Table(nil), targets[feed]...), schema.Quarantine), fr)
	if err != nil {
		return nil, err
	}
	tr, err := newTransformer(p)
	if err != nil {
		p.abort()
		return nil, err
	}
	t := &Tap{p: p, bronze: bronzeTbl, parent: at, ch: make(chan arrow.RecordBatch, 4), done: make(chan error, 1)}
	go func() {
		var err error
		for rec := range t.ch {
			if err == nil {
				fr.RowsIn += rec.NumRows()
				err = tr.batch(p.ctx, rec)
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
	bronze *table.Table
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
	case <-t.p.ctx.Done():
		rec.Release()
		return t.p.ctx.Err()
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
	err := t.wait()
	if err == nil && parent != t.parent {
		err = fmt.Errorf("%w: bronze moved from snapshot %d to %d meanwhile", errTapDiscarded, t.parent, parent)
	}
	defer t.p.release()
	if err := t.p.finish(ctx, t.bronze, err); err != nil {
		return err
	}
	if err := t.p.commit(ctx, t.bronze, parent, snapshot); err != nil {
		return err
	}
	t.p.fr.Passes++
	return nil
}

// Abort discards the tap's work.
func (t *Tap) Abort() {
	err := t.wait()
	_ = t.p.finish(context.Background(), t.bronze, errors.Join(err, errTapDiscarded))
	t.p.release()
}
