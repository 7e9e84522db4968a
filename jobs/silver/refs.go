package silver

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

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
func loadRefs(ctx context.Context, cat catalog.Tables) (*refs, error) {
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
func scanTable(ctx context.Context, cat catalog.Tables, t schema.Table, cols []string, fn func(arrow.RecordBatch, int)) error {
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
