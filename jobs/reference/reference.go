// Package reference loads the reference snapshots of the landing zone
// (reference/<name>/dt=.../<name>.csv: campaigns, creatives, sites, fx
// rates) into the ref.* tables that silver enriches with.
package reference

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// Load brings every ref.<name> table to the newest reference
// snapshot in landing (greatest dt/hr, then key). A table is replaced whole,
// in one commit that records the snapshot's key in the ledger, so an
// unchanged snapshot is not loaded twice. A snapshot with a row that does
// not parse is refused whole and the previous one stays (logged as an
// error): reference data is all-or-nothing.
func Load(ctx context.Context, store objstore.Reader, cat catalog.Tables, alloc memory.Allocator, runID string, log *slog.Logger) error {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, t := range schema.Reference() {
		newest, err := newestSnapshot(ctx, store, t.Name)
		if err != nil || newest == nil {
			return err
		}
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return err
		}
		loaded, err := ledger.Ledger(tbl)
		if err != nil {
			return err
		}
		if _, done := loaded[newest.Key]; done {
			continue
		}
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return err
		}
		rec, err := readReference(ctx, store, *newest, sc, alloc)
		if err != nil {
			log.Error("reference snapshot refused; keeping the previous one", "file", newest.Key, "error", err.Error())
			continue
		}
		props, err := ledger.SummaryProps(schema.JobReference, runID, []ledger.FileEntry{{Key: newest.Key, Size: newest.Size, Rows: rec.NumRows()}})
		if err != nil {
			rec.Release()
			return err
		}
		_, err = cat.Commit(ctx, t, func(_ *table.Table, tx *table.Transaction) error {
			rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
			if err != nil {
				return err
			}
			defer rdr.Release()
			return tx.Overwrite(ctx, rdr, props)
		})
		rec.Release()
		if err != nil {
			return fmt.Errorf("load %s: %w", t, err)
		}
		log.Info("reference loaded", "table", t.String(), "file", newest.Key)
	}
	return nil
}

func newestSnapshot(ctx context.Context, store objstore.Reader, name string) (*landing.File, error) {
	var newest *landing.File
	for obj, err := range store.List(ctx, landing.ReferencePrefix+name+"/") {
		if err != nil {
			return nil, err
		}
		f, why := landing.Classify(obj)
		if why != "" || f.Feed != landing.ReferencePrefix+name {
			continue
		}
		if newest == nil || f.Hour.After(newest.Hour) || (f.Hour.Equal(newest.Hour) && f.Key > newest.Key) {
			newest = &f
		}
	}
	return newest, nil
}

// readReference parses a reference CSV into one batch of sc, columns by
// header name. Any bad row fails the whole file.
func readReference(ctx context.Context, store objstore.Reader, f landing.File, sc *arrow.Schema, alloc memory.Allocator) (arrow.RecordBatch, error) {
	rc, err := store.Open(ctx, f.Key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r := csv.NewReader(rc)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	b := array.NewRecordBuilder(alloc, sc)
	defer b.Release()
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i, fld := range sc.Fields() {
			var v string
			switch fld.Name {
			case "_source_file":
				v = f.Key
			case "_snapshot_dt":
				v = f.Hour.Format(time.DateOnly)
			default:
				if j, ok := col[fld.Name]; ok && j < len(rec) {
					v = strings.TrimSpace(rec[j])
				}
			}
			if err := appendText(b.Field(i), v, fld.Nullable); err != nil {
				return nil, fmt.Errorf("line %d, %s: %w", line, fld.Name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// appendText parses v into the builder's type; "" is null.
func appendText(b array.Builder, v string, nullable bool) error {
	if v == "" {
		if !nullable {
			return errors.New("required value missing")
		}
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		b.Append(v)
	case *array.Date32Builder:
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return err
		}
		b.Append(arrow.Date32FromTime(d))
	case *array.Int32Builder:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return err
		}
		b.Append(int32(n))
	case *array.Int64Builder:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		b.Append(n)
	case *array.Float64Builder:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return err
		}
		b.Append(x)
	default:
		return fmt.Errorf("unsupported column type %T", b)
	}
	return nil
}
