package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/datafile"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// batchRows is the most rows a batch sent to a gold table's writer holds.
const batchRows = 1 << 16

// lineage is what every gold row of one build says about the build.
type lineage struct {
	day   time.Time // the event date, UTC midnight
	runID string
	built time.Time // _built_at, to the microsecond
}

// publish writes the three gold tables of res.day through one stage, then
// commits them one by one in the order of schema.Gold(), each replacing
// its event_date partition; files not committed are removed.
func publish(ctx context.Context, cat catalog.Tables, res *result, o Options, rep *Report) error {
	props, err := commitProps(res, o.RunID)
	if err != nil {
		return err
	}
	l := lineage{day: res.day.ToTime(), runID: o.RunID, built: o.Now().UTC().Truncate(time.Microsecond)}
	rep.Rows = map[string]int64{}
	st := datafile.NewStage(ctx, o.Logger)
	defer st.Discard(ctx)
	sinks := make([]*datafile.Sink, 0, len(schema.Gold()))
	counts := make([]int64, 0, len(schema.Gold()))
	for _, t := range schema.Gold() {
		k, n, err := stageTable(ctx, cat, st, t, res, l, o.Alloc)
		if err != nil {
			return err
		}
		sinks, counts = append(sinks, k), append(counts, n)
	}
	if err := st.Finish(); err != nil {
		return err
	}
	for i, k := range sinks {
		if err := commitTable(ctx, cat, st, k, res.day, props); err != nil {
			return err
		}
		rep.Rows[k.Table().String()] = counts[i]
		rep.Commits++
	}
	return nil
}

// commitProps returns the snapshot summary of every gold commit of res.
func commitProps(res *result, runID string) (iceberg.Properties, error) {
	inputs, err := json.Marshal(res.inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PropInputs, err)
	}
	return iceberg.Properties{ledger.PropJob: schema.JobGold, ledger.PropRunID: runID,
		PropDate: res.day.FormattedString(), PropInputs: string(inputs)}, nil
}

// stageTable opens a sink of st for gold table t and sends it the table's
// rows of res; it returns the sink and the number of rows sent.
func stageTable(ctx context.Context, cat catalog.Loader, st *datafile.Stage, t schema.Table, res *result, l lineage, alloc memory.Allocator) (*datafile.Sink, int64, error) {
	tbl, err := cat.Load(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", t, err)
	}
	k := st.Open(t, tbl, sc)
	var n int64
	switch t.Name {
	case schema.GoldAttributedConversions.Name:
		n, err = sendRows(st, k, sc, alloc, attributedRows(res, l))
	case schema.GoldCampaignDaily.Name:
		n, err = sendRows(st, k, sc, alloc, campaignRows(res, l))
	case schema.GoldBidFunnelDaily.Name:
		n, err = sendRows(st, k, sc, alloc, funnelRows(res, l))
	default:
		err = fmt.Errorf("%s is not a gold table this job builds", t)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("write %s: %w", t, err)
	}
	return k, n, nil
}

// sendRows builds seq into batches of sc, at most batchRows rows each, and
// sends them to k; it returns the number of rows sent.
func sendRows[T any](st *datafile.Stage, k *datafile.Sink, sc *arrow.Schema, alloc memory.Allocator, seq iter.Seq[T]) (int64, error) {
	b, err := rows.NewBuilder[T](alloc, sc)
	if err != nil {
		return 0, err
	}
	defer b.Release()
	var n int64
	for r := range seq {
		if err := b.Add(&r); err != nil {
			return n, err
		}
		if n++; b.Len() == batchRows {
			if err := st.Send(k, b.Batch()); err != nil {
				return n, err
			}
		}
	}
	if rec := b.Batch(); rec != nil {
		return n, st.Send(k, rec)
	}
	return n, nil
}

// commitTable commits the files of k (after st.Finish) as the new content
// of k's partition event_date = day: a replacement of the partition's
// current files, re-read on every commit attempt.
func commitTable(ctx context.Context, cat datafile.Committer, st *datafile.Stage, k *datafile.Sink, day arrow.Date32, props iceberg.Properties) error {
	_, err := st.Commit(ctx, cat, k, func(cur *table.Table, tx *table.Transaction, files []iceberg.DataFile) error {
		old, err := datafile.DataFiles(ctx, cur, datafile.OnDates(schema.ColEventDate, day, day))
		if err != nil {
			return err
		}
		return datafile.Replace(ctx, tx, old, files, props)
	})
	if err != nil {
		return fmt.Errorf("commit %s: %w", k.Table(), err)
	}
	return nil
}

// attributedRows yields the rows of gold.attributed_conversions: res's
// attributed conversions, in conversion id order.
func attributedRows(res *result, l lineage) iter.Seq[schema.AttributedConversionRow] {
	return func(yield func(schema.AttributedConversionRow) bool) {
		for _, a := range res.attributed {
			r := schema.AttributedConversionRow{EventDate: l.day, ConversionID: a.ConversionID,
				ConversionTS: micros(a.ConversionTS), CampaignID: a.CampaignID, AdvertiserID: a.AdvertiserID.V,
				UserKey: a.UserKey.V, ConversionType: a.ConversionType, ValueUSD: orNaN(a.ValueUSD),
				Attribution: a.Attribution, ClickID: a.ClickID.V, ClickTS: optMicros(a.ClickTS),
				ImpressionID: a.ImpressionID.V, ImpressionTS: optMicros(a.ImpressionTS),
				CreativeID: a.CreativeID.V, SiteDomain: a.SiteDomain.V, RunID: l.runID, BuiltAt: l.built}
			if a.Seconds.OK {
				r.Seconds = &a.Seconds.V
			}
			if !yield(r) {
				return
			}
		}
	}
}

// campaignRows yields the rows of gold.campaign_daily, in campaign id
// order.
func campaignRows(res *result, l lineage) iter.Seq[schema.CampaignDailyRow] {
	ids := make([]string, 0, len(res.campaigns))
	for id := range res.campaigns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return func(yield func(schema.CampaignDailyRow) bool) {
		for _, id := range ids {
			a := res.campaigns[id]
			r := schema.CampaignDailyRow{EventDate: l.day, CampaignID: id, AdvertiserID: a.advertiser.V,
				Impressions: a.imps, Clicks: a.clicks, Conversions: a.convs,
				ClickConversions: a.clickConvs, ViewConversions: a.viewConvs,
				ConversionValueUSD: a.value, AttributedValueUSD: a.attributedValue, SpendUSD: a.spend,
				CTR: ratio(float64(a.clicks), float64(a.imps)), CVR: ratio(float64(a.convs), float64(a.clicks)),
				CPAUSD: ratio(a.spend, float64(a.convs)), BotImpressions: a.botImps, BotClicks: a.botClicks,
				RunID: l.runID, BuiltAt: l.built}
			if !yield(r) {
				return
			}
		}
	}
}

// funnelRows yields the rows of gold.bid_funnel_daily, in exchange order.
func funnelRows(res *result, l lineage) iter.Seq[schema.BidFunnelDailyRow] {
	fs := append([]*funnelAgg(nil), res.funnel...)
	sort.Slice(fs, func(a, b int) bool { return fs[a].exchange < fs[b].exchange })
	return func(yield func(schema.BidFunnelDailyRow) bool) {
		for _, f := range fs {
			r := schema.BidFunnelDailyRow{EventDate: l.day, Exchange: f.exchange,
				BidRequests: f.requests, Bids: f.bids, Wins: f.wins,
				WinRate: ratio(float64(f.wins), float64(f.bids)), AvgBidCPMUSD: ratio(f.sumCPM, float64(f.priced)),
				PricedBids: f.priced, SpendUSD: f.spend, RunID: l.runID, BuiltAt: l.built}
			if !yield(r) {
				return
			}
		}
	}
}

// ratio is a / b, or NaN (null) when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// orNaN is v's value, or NaN (null) when unset.
func orNaN(v opt[float64]) float64 {
	if !v.OK {
		return math.NaN()
	}
	return v.V
}

// micros is the UTC time of us microseconds since the Unix epoch.
func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// optMicros is micros of v, or the zero time (null) when unset.
func optMicros(v opt[int64]) time.Time {
	if !v.OK {
		return time.Time{}
	}
	return micros(v.V)
}

// dateOf parses a PropDate value.
func dateOf(s string) (arrow.Date32, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return arrow.Date32FromTime(t), nil
}
