package catalog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// WriteFiles writes the batches of ch as data files of tbl, without
// committing them: they become part of the table only through a commit.
// It always drains ch, so the producer never blocks on a failed writer.
func WriteFiles(ctx context.Context, tbl *table.Table, sc *arrow.Schema, ch <-chan arrow.RecordBatch, opts ...table.WriteRecordOption) ([]iceberg.DataFile, error) {
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

// RemoveFiles deletes data files that will not be committed (best effort:
// failures are logged; such files are unreferenced, so no reader sees them).
func RemoveFiles(ctx context.Context, tbl *table.Table, files []iceberg.DataFile, log *slog.Logger) {
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

// AddFiles stages files on tx with props as the snapshot summary. With no
// files it still stages a snapshot (an empty append): the summary, which
// carries adlake's ledger or watermark, must be committed either way.
// Files are fresh (written by WriteFiles), so the duplicate check, which
// reads every manifest of the table, is skipped.
func AddFiles(ctx context.Context, tx *table.Transaction, files []iceberg.DataFile, props iceberg.Properties) error {
	if len(files) == 0 {
		return tx.AddFiles(ctx, nil, props, false)
	}
	return tx.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck())
}
