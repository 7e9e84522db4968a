package silver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/cespare/xxhash/v2"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// keyIndex answers "has this key been seen on this event date?" for one
// dedup key: first from the keys already in the silver tables (loaded once
// per event date per pass, reading only that date's partition and only
// the key columns), then from the keys of this pass.
//
// Keys are held as 64-bit xxhash values: the keys already in silver as a
// sorted slice (8 bytes a key: 80 MiB for a day of 10M impressions), the
// keys new in this pass in a map. The chance that two distinct keys of one
// day collide, dropping a valid event, is about n²/2⁶⁵: 3·10⁻⁶ for n = 10M.
type keyIndex struct {
	// anyDate indexes keys across all event dates (one set, loaded once):
	// for keys whose duplicates may carry another event time, such as an
	// order reported again on a later day. Use it only for small tables.
	anyDate bool
	cat     catalog.Tables
	tables  []schema.Table
	cols    []string
	days    map[arrow.Date32]*daySet
	buf     strings.Builder
}

func newKeyIndex(cat catalog.Tables, tables []schema.Table, cols ...string) *keyIndex {
	return &keyIndex{cat: cat, tables: tables, cols: cols, days: map[arrow.Date32]*daySet{}}
}

// daySet is the keys of one event date.
type daySet struct {
	old []uint64 // in silver already, sorted
	new *hashSet // seen in this pass
}

// seen reports whether key was seen on day, and records it.
func (k *keyIndex) seen(ctx context.Context, day arrow.Date32, key string) (bool, error) {
	if k.anyDate {
		day = 0
	}
	set, ok := k.days[day]
	if !ok {
		old, err := k.load(ctx, day)
		if err != nil {
			return false, err
		}
		// Sets start small and double: sizing every date's set for all the
		// pass's rows measured as RSS growing with the input.
		set = &daySet{old: old, new: newHashSet(0)}
		k.days[day] = set
	}
	h := xxhash.Sum64String(key)
	if _, found := slices.BinarySearch(set.old, h); found {
		return true, nil
	}
	return !set.new.add(h), nil
}

// load reads the keys of day from the silver tables.
func (k *keyIndex) load(ctx context.Context, day arrow.Date32) ([]uint64, error) {
	var set []uint64
	for _, t := range k.tables {
		tbl, err := k.cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		if tbl.CurrentSnapshot() == nil {
			continue
		}
		opts := []table.ScanOption{table.WithSelectedFields(k.cols...)}
		if !k.anyDate {
			opts = append(opts, table.WithRowFilter(iceberg.EqualTo(iceberg.Reference(schema.ColEventDate), iceberg.Date(day))))
		}
		_, batches, err := tbl.Scan(opts...).ToArrowRecords(ctx)
		if err != nil {
			return nil, fmt.Errorf("dedup keys of %s: %w", t, err)
		}
		for rec, err := range batches {
			if err != nil {
				return nil, fmt.Errorf("dedup keys of %s: %w", t, err)
			}
			proj := project(rec, k.cols)
			for i := 0; i < int(rec.NumRows()); i++ {
				if key, ok := k.keyOf(proj, i); ok {
					set = append(set, xxhash.Sum64String(key))
				}
			}
			proj.Release()
			rec.Release()
		}
	}
	slices.Sort(set)
	return set, nil
}

// keyOf joins the key columns of row i; false when one is null.
func (k *keyIndex) keyOf(rec arrow.RecordBatch, i int) (string, bool) {
	k.buf.Reset()
	for c := range k.cols {
		a := rec.Column(c).(*array.String)
		if a.IsNull(i) {
			return "", false
		}
		if c > 0 {
			k.buf.WriteByte(0)
		}
		k.buf.WriteString(a.Value(i))
	}
	return k.buf.String(), true
}

// joinKey builds the key of parts the way keyOf does.
func joinKey(parts ...string) string { return strings.Join(parts, "\x00") }
