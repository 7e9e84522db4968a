package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// builder appends rows to a record builder by column name.
type builder struct {
	b   *array.RecordBuilder
	idx map[string]int
	err error
}

func newBuilder(rb *array.RecordBuilder) *builder {
	x := &builder{b: rb, idx: map[string]int{}}
	for i, f := range rb.Schema().Fields() {
		x.idx[f.Name] = i
	}
	return x
}

func (x *builder) field(name string) array.Builder {
	i, ok := x.idx[name]
	if !ok {
		if x.err == nil {
			x.err = fmt.Errorf("gold table has no column %s", name)
		}
		return nil
	}
	return x.b.Field(i)
}

// put appends v (null when unset) to the column name, whose builder must
// be a B.
func put[V any, B interface {
	array.Builder
	Append(V)
}](x *builder, name string, v opt[V]) {
	b, ok := x.field(name).(B)
	switch {
	case !ok:
		x.typeErr(name)
	case v.OK:
		b.Append(v.V)
	default:
		b.AppendNull()
	}
}

func (x *builder) str(name string, v opt[string])  { put[string, *array.StringBuilder](x, name, v) }
func (x *builder) i64(name string, v opt[int64])   { put[int64, *array.Int64Builder](x, name, v) }
func (x *builder) f64(name string, v opt[float64]) { put[float64, *array.Float64Builder](x, name, v) }
func (x *builder) ts(name string, v opt[int64]) {
	put[arrow.Timestamp, *array.TimestampBuilder](x, name, opt[arrow.Timestamp]{arrow.Timestamp(v.V), v.OK})
}

func (x *builder) date(name string, d arrow.Date32) {
	if b, ok := x.field(name).(*array.Date32Builder); ok {
		b.Append(d)
	} else {
		x.typeErr(name)
	}
}

func (x *builder) typeErr(name string) {
	if x.err == nil {
		x.err = fmt.Errorf("gold column %s: unexpected Arrow type", name)
	}
}

func ratio(a, b float64) opt[float64] {
	if b == 0 {
		return opt[float64]{}
	}
	return some(a / b)
}

// rowsOf returns the number of rows of t in res and a function appending
// row i to x.
func rowsOf(t schema.Table, res *result) (int, func(x *builder, i int)) {
	switch t.Name {
	case schema.GoldAttributedConversions.Name:
		return len(res.attributed), func(x *builder, i int) {
			a := res.attributed[i]
			x.date(schema.ColEventDate, res.day)
			x.str("conversion_id", some(a.ConversionID))
			x.ts("conversion_ts", some(a.ConversionTS))
			x.str("campaign_id", some(a.CampaignID))
			x.str("advertiser_id", a.AdvertiserID)
			x.str("user_key", a.UserKey)
			x.str("conversion_type", some(a.ConversionType))
			x.f64("conversion_value_usd", a.ValueUSD)
			x.str("attribution", some(a.Attribution))
			x.str("click_id", a.ClickID)
			x.ts("click_ts", a.ClickTS)
			x.str("impression_id", a.ImpressionID)
			x.ts("impression_ts", a.ImpressionTS)
			x.str("creative_id", a.CreativeID)
			x.str("site_domain", a.SiteDomain)
			x.i64("seconds_to_convert", a.Seconds)
		}
	case schema.GoldCampaignDaily.Name:
		ids := make([]string, 0, len(res.campaigns))
		for id := range res.campaigns {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return len(ids), func(x *builder, i int) {
			a := res.campaigns[ids[i]]
			x.date(schema.ColEventDate, res.day)
			x.str("campaign_id", some(ids[i]))
			x.str("advertiser_id", a.advertiser)
			x.i64("impressions", some(a.imps))
			x.i64("clicks", some(a.clicks))
			x.i64("conversions", some(a.convs))
			x.i64("click_conversions", some(a.clickConvs))
			x.i64("view_conversions", some(a.viewConvs))
			x.f64("conversion_value_usd", some(a.value))
			x.f64("attributed_value_usd", some(a.attributedValue))
			x.f64("spend_usd", some(a.spend))
			x.f64("ctr", ratio(float64(a.clicks), float64(a.imps)))
			x.f64("cvr", ratio(float64(a.convs), float64(a.clicks)))
			x.f64("cpa_usd", ratio(a.spend, float64(a.convs)))
			x.i64("bot_impressions", some(a.botImps))
			x.i64("bot_clicks", some(a.botClicks))
		}
	case schema.GoldBidFunnelDaily.Name:
		fs := append([]*funnelAgg(nil), res.funnel...)
		sort.Slice(fs, func(a, b int) bool { return fs[a].exchange < fs[b].exchange })
		return len(fs), func(x *builder, i int) {
			f := fs[i]
			x.date(schema.ColEventDate, res.day)
			x.str("exchange", some(f.exchange))
			x.i64("bid_requests", some(f.requests))
			x.i64("bids", some(f.bids))
			x.i64("wins", some(f.wins))
			x.f64("win_rate", ratio(float64(f.wins), float64(f.bids)))
			x.f64("avg_bid_cpm_usd", ratio(f.sumCPM, float64(f.priced)))
			x.i64("priced_bids", some(f.priced))
			x.f64("spend_usd", some(f.spend))
		}
	}
	return 0, nil
}

// publish writes and commits the three gold tables for res.day.
func publish(ctx context.Context, cat Catalog, res *result, o Options, rep *Report) error {
	inputs, err := json.Marshal(res.inputs)
	if err != nil {
		return err
	}
	props := iceberg.Properties{catalog.PropJob: Job, catalog.PropRunID: o.RunID,
		PropDate: res.day.FormattedString(), PropInputs: string(inputs)}
	built := o.Now().UTC().UnixMicro()
	rep.Rows = map[string]int64{}
	for _, t := range schema.Gold() {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return err
		}
		files, err := writeTable(ctx, tbl, t, res, o.RunID, built, o)
		if err != nil {
			return err
		}
		_, err = cat.Commit(ctx, t, func(cur *table.Table, tx *table.Transaction) error {
			old, err := partitionFiles(ctx, cur, res.day)
			if err != nil {
				return err
			}
			if len(old) == 0 {
				return catalog.AddFiles(ctx, tx, files, props)
			}
			return tx.ReplaceDataFilesWithDataFiles(ctx, old, files, props)
		})
		if err != nil {
			catalog.RemoveFiles(ctx, tbl, files, o.Logger)
			return fmt.Errorf("commit %s: %w", t, err)
		}
		n, _ := rowsOf(t, res)
		rep.Rows[t.String()] = int64(n)
		rep.Commits++
	}
	return nil
}

// writeTable writes the rows of t as new data files (not committed).
func writeTable(ctx context.Context, tbl *table.Table, t schema.Table, res *result, runID string, built int64, o Options) ([]iceberg.DataFile, error) {
	n, row := rowsOf(t, res)
	if n == 0 {
		return nil, nil
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(o.Alloc, sc)
	defer rb.Release()
	x := newBuilder(rb)
	ch := make(chan arrow.RecordBatch, 2)
	type out struct {
		files []iceberg.DataFile
		err   error
	}
	done := make(chan out, 1)
	go func() {
		f, err := catalog.WriteFiles(ctx, tbl, sc, ch)
		done <- out{f, err}
	}()
	var berr error
	for i := 0; i < n; i++ {
		row(x, i)
		x.str(schema.ColRunID, some(runID))
		x.ts(schema.ColBuiltAt, some(built))
		if x.err != nil {
			berr = x.err
			break
		}
		if (i+1)%65536 == 0 || i == n-1 {
			ch <- rb.NewRecordBatch()
		}
	}
	close(ch)
	r := <-done
	if berr == nil {
		berr = r.err
	}
	if berr != nil {
		catalog.RemoveFiles(ctx, tbl, r.files, o.Logger)
		return nil, fmt.Errorf("write %s: %w", t, berr)
	}
	return r.files, nil
}

// partitionFiles returns the data files of tbl's partition event_date = day.
func partitionFiles(ctx context.Context, tbl *table.Table, day arrow.Date32) ([]iceberg.DataFile, error) {
	return catalog.DataFiles(ctx, tbl, catalog.OnDates(schema.ColEventDate, day, day))
}

// dateOf parses a PropDate value.
func dateOf(s string) (arrow.Date32, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return arrow.Date32FromTime(t), nil
}
