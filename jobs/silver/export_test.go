package silver

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/advertisex/adlake/schema"
)

// BenchPass is a pass of the silver rules of one feed over bronze batches
// handed to it, that commits nothing (for the benchmarks).
type BenchPass struct {
	p  *passRun
	tr transformer
}

// OpenBenchPass starts a pass of feed with the tapper's job (its reference
// lookups and pseudonymizer). With write, its silver and quarantine rows
// are written to Parquet data files, removed by Close; without, they are
// built and dropped (quarantine rows are then not built at all).
func (tp *Tapper) OpenBenchPass(ctx context.Context, feed schema.Feed, write bool) (*BenchPass, error) {
	var on []schema.Table
	if write {
		on = feed.Targets()
	}
	fr := newFeedReport(feed, tp.j.o.Now())
	p, err := tp.j.newPassRun(ctx, feed, on, &fr)
	if err != nil {
		return nil, err
	}
	tr, err := newTransformer(p)
	if err != nil {
		p.close(ctx)
		return nil, err
	}
	return &BenchPass{p: p, tr: tr}, nil
}

// Batch runs the rules over rec; the caller keeps its reference.
func (b *BenchPass) Batch(rec arrow.RecordBatch) error {
	b.p.fr.RowsIn += rec.NumRows()
	return b.tr.batch(b.p.stage.Context(), rec)
}

// Close flushes the pass, waits for its writers, removes their files and
// returns what the pass did.
func (b *BenchPass) Close(ctx context.Context) (FeedReport, error) {
	err := b.p.finish(nil)
	b.p.close(ctx)
	return *b.p.fr, err
}
