package datafile

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	icebergio "github.com/apache/iceberg-go/io"
)

// ParquetRead says how to stream one data file.
type ParquetRead struct {
	Columns   []string // leaf columns to read by name; none: all
	BatchRows int      // rows per batch
	Parallel  bool     // decode columns in parallel
	Alloc     memory.Allocator
}

// ReadParquet streams the batches of the Parquet data file at path to fn,
// in file order; fn must not keep a batch past its call. A column of
// o.Columns missing from the file is an error. fn's error is returned as
// it is; read errors name the file.
func ReadParquet(ctx context.Context, fs icebergio.IO, path string, o ParquetRead, fn func(arrow.RecordBatch) error) error {
	f, err := fs.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer pr.Close()
	var leaves []int
	for _, n := range o.Columns {
		i := pr.MetaData().Schema.ColumnIndexByName(n)
		if i < 0 {
			return fmt.Errorf("read %s: no column %s", path, n)
		}
		leaves = append(leaves, i)
	}
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: int64(o.BatchRows), Parallel: o.Parallel}, o.Alloc)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := fn(rr.RecordBatch()); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
