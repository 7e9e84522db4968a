package silver

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// refNames are the reference files, in load order.
var refNames = []string{"campaigns", "creatives", "sites", "fx_rates"}

// LoadReference brings every ref.<name> table to the newest reference
// snapshot in landing (greatest dt/hr, then key). A table is replaced whole,
// in one commit that records the snapshot's key in the ledger, so an
// unchanged snapshot is not loaded twice. A snapshot with a row that does
// not parse is refused whole and the previous one stays (logged as an
// error): reference data is all-or-nothing.
func LoadReference(ctx context.Context, store objstore.Reader, cat Catalog, alloc memory.Allocator, runID string, log *slog.Logger) error {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, name := range refNames {
		t := schema.Reference[name]
		newest, err := newestSnapshot(ctx, store, name)
		if err != nil || newest == nil {
			return err
		}
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return err
		}
		ledger, err := catalog.Ledger(tbl)
		if err != nil {
			return err
		}
		if _, done := ledger[newest.Key]; done {
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
		props, err := catalog.SummaryProps("reference", runID, []catalog.FileEntry{{Key: newest.Key, Size: newest.Size, Rows: rec.NumRows()}})
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

// refs are the lookups silver enriches with.
type refs struct {
	creatives    map[string][2]string // creative -> campaign, advertiser
	advertiserOf map[string]string    // campaign -> advertiser
	sites        map[string][2]string // domain -> publisher, category
	fx           map[string][]fxPoint // currency -> rates by date
}

type fxPoint struct {
	day  arrow.Date32
	rate float64
}

// usd returns the USD value of one unit of cur on day: the rate of that
// day, or of the latest day before it.
func (r *refs) usd(cur string, day arrow.Date32) (float64, bool) {
	if cur == "USD" {
		return 1, true
	}
	pts := r.fx[cur]
	i := sort.Search(len(pts), func(i int) bool { return pts[i].day > day })
	if i == 0 {
		return 0, false
	}
	return pts[i-1].rate, true
}

// loadRefs reads the ref tables into lookups.
func loadRefs(ctx context.Context, cat Catalog) (*refs, error) {
	r := &refs{creatives: map[string][2]string{}, advertiserOf: map[string]string{}, sites: map[string][2]string{}, fx: map[string][]fxPoint{}}
	campaignOf := map[string]string{}
	err := scanTable(ctx, cat, schema.RefCreatives, []string{"creative_id", "campaign_id"}, func(rec arrow.RecordBatch, i int) {
		campaignOf[str(rec, 0, i)] = str(rec, 1, i)
	})
	if err == nil {
		err = scanTable(ctx, cat, schema.RefCampaigns, []string{"campaign_id", "advertiser_id"}, func(rec arrow.RecordBatch, i int) {
			r.advertiserOf[str(rec, 0, i)] = str(rec, 1, i)
		})
	}
	for creative, campaign := range campaignOf {
		r.creatives[creative] = [2]string{campaign, r.advertiserOf[campaign]}
	}
	if err == nil {
		err = scanTable(ctx, cat, schema.RefSites, []string{"site_domain", "publisher_id", "iab_category"}, func(rec arrow.RecordBatch, i int) {
			r.sites[strings.ToLower(str(rec, 0, i))] = [2]string{str(rec, 1, i), str(rec, 2, i)}
		})
	}
	if err == nil {
		err = scanTable(ctx, cat, schema.RefFxRates, []string{"date", "currency", "usd_per_unit"}, func(rec arrow.RecordBatch, i int) {
			cur := strings.ToUpper(str(rec, 1, i))
			r.fx[cur] = append(r.fx[cur], fxPoint{rec.Column(0).(*array.Date32).Value(i), rec.Column(2).(*array.Float64).Value(i)})
		})
	}
	for _, pts := range r.fx {
		sort.Slice(pts, func(a, b int) bool { return pts[a].day < pts[b].day })
	}
	return r, err
}

// scanTable calls fn for every row of the selected columns of t.
func scanTable(ctx context.Context, cat Catalog, t schema.Table, cols []string, fn func(arrow.RecordBatch, int)) error {
	tbl, err := cat.Load(ctx, t)
	if err != nil {
		return err
	}
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	_, batches, err := tbl.Scan(table.WithSelectedFields(cols...)).ToArrowRecords(ctx)
	if err != nil {
		return fmt.Errorf("scan %s: %w", t, err)
	}
	for rec, err := range batches {
		if err != nil {
			return fmt.Errorf("scan %s: %w", t, err)
		}
		proj := project(rec, cols)
		for i := 0; i < int(rec.NumRows()); i++ {
			fn(proj, i)
		}
		proj.Release()
		rec.Release()
	}
	return nil
}

// project reorders rec's columns to cols (scans may return another order).
func project(rec arrow.RecordBatch, cols []string) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(cols))
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		idx := rec.Schema().FieldIndices(c)[0]
		arrs[i], fields[i] = rec.Column(idx), rec.Schema().Field(idx)
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
}

// str returns column c of row i as a string ("" for null), copied: the
// callers keep it beyond the batch.
func str(rec arrow.RecordBatch, c, i int) string {
	a := rec.Column(c).(*array.String)
	if a.IsNull(i) {
		return ""
	}
	return strings.Clone(a.Value(i))
}
