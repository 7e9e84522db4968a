package gold

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/cespare/xxhash/v2"

	"github.com/advertisex/adlake/schema"
)

// campaignAgg accumulates one campaign_daily row.
type campaignAgg struct {
	advertiser                       opt[string]
	imps, botImps, clicks, botClicks int64
	convs, clickConvs, viewConvs     int64
	value, attributedValue, spend    float64
}

func (a *campaignAgg) seeAdvertiser(adv strCol, i int) {
	if !adv.IsNull(i) {
		if v := adv.Value(i); !a.advertiser.OK || v > a.advertiser.V {
			a.advertiser = some(strings.Clone(v))
		}
	}
}

// funnelAgg accumulates one bid_funnel_daily row.
type funnelAgg struct {
	exchange                     string
	requests, bids, wins, priced int64
	sumCPM, spend                float64
}

// result is what a build computed for one date.
type result struct {
	day        arrow.Date32
	inputs     map[string]int64
	attributed []Attributed
	campaigns  map[string]*campaignAgg
	funnel     []*funnelAgg
}

// compute reads the silver partitions date needs and derives the gold rows;
// with marts false only the attribution.
func compute(ctx context.Context, cat Catalog, day arrow.Date32, o Options, marts bool, rep *Report) (*result, error) {
	res := &result{day: day, inputs: map[string]int64{}, campaigns: map[string]*campaignAgg{}}
	ins := map[string]input{}
	for _, t := range inputTables {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		in := input{t: t, tbl: tbl}
		if s := tbl.CurrentSnapshot(); s != nil {
			in.snap = s.SnapshotID
		}
		ins[t.String()] = in
		res.inputs[t.String()] = in.snap
	}
	rep.Inputs = res.inputs
	fs, err := ins[schema.SilverImpressions.String()].tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.SpillDir, "adlake-gold-*")
	if err != nil {
		return nil, fmt.Errorf("spill folder: %w", err)
	}
	defer os.RemoveAll(dir)
	// Clicks and conversions are a few percent of impressions.
	impSort := NewSorter(SorterOptions{MemoryBudget: o.MemoryBudget * 6 / 8, Dir: dir})
	clickSort := NewSorter(SorterOptions{MemoryBudget: o.MemoryBudget / 8, Dir: dir})
	convSort := NewSorter(SorterOptions{MemoryBudget: o.MemoryBudget / 8, Dir: dir})
	defer impSort.Close()
	defer clickSort.Close()
	defer convSort.Close()

	clickDays, impDays := o.Windows.lookbackDays()
	groups := newHashIndex(1 << 16) // (user, campaign) groups with a click or conversion
	camp := func(id string) *campaignAgg {
		a := res.campaigns[id]
		if a == nil {
			a = &campaignAgg{}
			res.campaigns[strings.Clone(id)] = a
		}
		return a
	}
	var key, val []byte

	// Conversions of the date.
	files, err := ins[schema.SilverConversions.String()].files(ctx, day, day)
	if err != nil {
		return nil, err
	}
	err = readFiles(ctx, fs, files, []string{"event_ts", "event_id", "user_key", "campaign_id", "advertiser_id", "conversion_type", "conversion_value_usd", "is_bot"}, o.Alloc, o.BatchRows, func(c cols) error {
		ts, err := c.ts("event_ts")
		id, err2 := c.str("event_id")
		user, err3 := c.str("user_key")
		cmp, err4 := c.str("campaign_id")
		adv, err5 := c.str("advertiser_id")
		typ, err6 := c.str("conversion_type")
		value, err7 := typed[*array.Float64](c, "conversion_value_usd")
		bot, err8 := typed[*array.Boolean](c, "is_bot")
		if err := firstErr(err, err2, err3, err4, err5, err6, err7, err8); err != nil {
			return err
		}
		for i := 0; i < c.rows(); i++ {
			if bot.Value(i) || cmp.IsNull(i) || id.IsNull(i) || ts.IsNull(i) {
				continue
			}
			a := camp(cmp.Value(i))
			a.convs++
			a.seeAdvertiser(adv, i)
			v := opt[float64]{V: value.Value(i), OK: value.IsValid(i)}
			if v.OK {
				a.value += v.V
			}
			advertiser := opt[string]{V: adv.Value(i), OK: !adv.IsNull(i)}
			if user.IsNull(i) {
				// Anonymous: no touch can share its user.
				res.attributed = append(res.attributed, Attributed{ConversionID: strings.Clone(id.Value(i)), ConversionTS: ts.Value(i),
					CampaignID: strings.Clone(cmp.Value(i)), AdvertiserID: opt[string]{V: strings.Clone(advertiser.V), OK: advertiser.OK},
					ConversionType: strings.Clone(typ.Value(i)), ValueUSD: v, Attribution: AttrNone})
				continue
			}
			h := groupHash(user.Value(i), cmp.Value(i))
			groups.put(h, 1)
			key = appendKey(key[:0], h, user.Value(i), cmp.Value(i), ts.Value(i), id.Value(i))
			val = conversionValue(val[:0], advertiser, typ.Value(i), v)
			if err := convSort.Add(key, val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Clicks of the click window (those of the date also count for the mart).
	files, err = ins[schema.SilverClicks.String()].files(ctx, day-arrow.Date32(clickDays), day)
	if err != nil {
		return nil, err
	}
	err = readFiles(ctx, fs, files, []string{"event_date", "event_ts", "event_id", "user_key", "campaign_id", "advertiser_id", "creative_id", "site_domain", "is_bot"}, o.Alloc, o.BatchRows, func(c cols) error {
		date, err := typed[*array.Date32](c, "event_date")
		ts, err1 := c.ts("event_ts")
		id, err2 := c.str("event_id")
		user, err3 := c.str("user_key")
		cmp, err4 := c.str("campaign_id")
		adv, err5 := c.str("advertiser_id")
		cre, err6 := c.str("creative_id")
		site, err7 := c.str("site_domain")
		bot, err8 := typed[*array.Boolean](c, "is_bot")
		if err := firstErr(err, err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
			return err
		}
		for i := 0; i < c.rows(); i++ {
			if cmp.IsNull(i) || id.IsNull(i) || ts.IsNull(i) {
				continue
			}
			if date.Value(i) == day {
				a := camp(cmp.Value(i))
				if bot.Value(i) {
					a.botClicks++
				} else {
					a.clicks++
				}
				a.seeAdvertiser(adv, i)
			}
			if bot.Value(i) || user.IsNull(i) {
				continue
			}
			h := groupHash(user.Value(i), cmp.Value(i))
			groups.put(h, 1)
			key = appendKey(key[:0], h, user.Value(i), cmp.Value(i), ts.Value(i), id.Value(i))
			val = impressionValue(val[:0], optStr(cre, i), optStr(site, i))
			if err := clickSort.Add(key, val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Bid requests of the date: the funnel's counts and its index of bids.
	var bids *hashIndex
	exchanges := map[string]uint16{}
	if marts {
		if bids, err = readBids(ctx, fs, ins, day, o, res, exchanges); err != nil {
			return nil, err
		}
	}

	// Impressions: the attribution's lookback, the date, and (funnel) the
	// day after.
	hi := day
	names := []string{"event_date", "event_ts", "impression_id", "user_key", "campaign_id", "creative_id", "site_domain", "is_bot"}
	if marts {
		hi = day + 1
		names = append(names, "advertiser_id", "request_id", "cost_usd")
	}
	files, err = ins[schema.SilverImpressions.String()].files(ctx, day-arrow.Date32(impDays), hi)
	if err != nil {
		return nil, err
	}
	err = readFiles(ctx, fs, files, names, o.Alloc, o.BatchRows, func(c cols) error {
		date, err := typed[*array.Date32](c, "event_date")
		ts, err1 := c.ts("event_ts")
		id, err2 := c.str("impression_id")
		user, err3 := c.str("user_key")
		cmp, err4 := c.str("campaign_id")
		cre, err5 := c.str("creative_id")
		site, err6 := c.str("site_domain")
		bot, err7 := typed[*array.Boolean](c, "is_bot")
		if err := firstErr(err, err1, err2, err3, err4, err5, err6, err7); err != nil {
			return err
		}
		var adv, req strCol
		var cost *array.Float64
		if marts {
			var e1, e2, e3 error
			adv, e1 = c.str("advertiser_id")
			req, e2 = c.str("request_id")
			cost, e3 = typed[*array.Float64](c, "cost_usd")
			if err := firstErr(e1, e2, e3); err != nil {
				return err
			}
		}
		n := c.rows()
		rep.ImpressionsRead += int64(n)
		for i := 0; i < n; i++ {
			d := date.Value(i)
			if marts {
				if d == day && !cmp.IsNull(i) {
					a := camp(cmp.Value(i))
					if bot.Value(i) {
						a.botImps++
					} else {
						a.imps++
					}
					if cost.IsValid(i) {
						a.spend += cost.Value(i)
					}
					a.seeAdvertiser(adv, i)
				}
				if d >= day && !req.IsNull(i) {
					if x, ok := bids.get(xxhash.Sum64String(req.Value(i))); ok {
						f := res.funnel[x]
						f.wins++
						if cost.IsValid(i) {
							f.spend += cost.Value(i)
						}
					}
				}
			}
			if d > day || bot.Value(i) || user.IsNull(i) || cmp.IsNull(i) || id.IsNull(i) || ts.IsNull(i) {
				continue
			}
			h := groupHash(user.Value(i), cmp.Value(i))
			if _, ok := groups.get(h); !ok {
				continue // semi-join: no click or conversion of this group
			}
			key = appendKey(key[:0], h, user.Value(i), cmp.Value(i), ts.Value(i), id.Value(i))
			val = impressionValue(val[:0], optStr(cre, i), optStr(site, i))
			if err := impSort.Add(key, val); err != nil {
				return err
			}
			rep.ImpressionsSorted++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// The merge walk.
	streams := make([]*SortedRows, 0, 3)
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for _, s := range []*Sorter{impSort, clickSort, convSort} {
		rows, err := s.Rows(ctx)
		if err != nil {
			return nil, err
		}
		streams = append(streams, rows)
	}
	err = walk(ctx, o.Windows, streams[0], streams[1], streams[2], func(a Attributed) error {
		res.attributed = append(res.attributed, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range []*Sorter{impSort, clickSort, convSort} {
		rep.Sort.Add(s.Stats())
	}
	sort.Slice(res.attributed, func(a, b int) bool { return res.attributed[a].ConversionID < res.attributed[b].ConversionID })
	rep.Attribution = map[string]int64{AttrClick: 0, AttrView: 0, AttrNone: 0}
	for _, a := range res.attributed {
		rep.Attribution[a.Attribution]++
		if !marts {
			continue
		}
		agg := res.campaigns[a.CampaignID]
		switch a.Attribution {
		case AttrClick:
			agg.clickConvs++
		case AttrView:
			agg.viewConvs++
		}
		if a.Attribution != AttrNone && a.ValueUSD.OK {
			agg.attributedValue += a.ValueUSD.V
		}
	}
	return res, nil
}

// readBids reads the date's non-test bid requests into res.funnel (one
// aggregate per exchange, numbered in exchanges) and returns the index of
// the request ids that carry a bid, valued by exchange number. Bid prices
// are converted to USD with ref.fx_rates (the rate of the date or the
// latest before it; USD is 1); a bid without price or rate is left out of
// the average (priced_bids counts those in it).
func readBids(ctx context.Context, fs icebergio.IO, ins map[string]input, day arrow.Date32, o Options, res *result, exchanges map[string]uint16) (*hashIndex, error) {
	rates, err := fxRates(ctx, fs, ins[schema.RefFxRates.String()], day, o)
	if err != nil {
		return nil, err
	}
	files, err := ins[schema.SilverBidRequests.String()].files(ctx, day, day)
	if err != nil {
		return nil, err
	}
	bids := newHashIndex(1 << 16)
	err = readFiles(ctx, fs, files, []string{"request_id", "exchange", "is_test", "has_bid", "bid_price_micros", "bid_currency"}, o.Alloc, o.BatchRows, func(c cols) error {
		req, err := c.str("request_id")
		ex, err1 := c.str("exchange")
		test, err2 := typed[*array.Boolean](c, "is_test")
		has, err3 := typed[*array.Boolean](c, "has_bid")
		price, err4 := typed[*array.Int64](c, "bid_price_micros")
		cur, err5 := c.str("bid_currency")
		if err := firstErr(err, err1, err2, err3, err4, err5); err != nil {
			return err
		}
		for i := 0; i < c.rows(); i++ {
			if test.Value(i) || ex.IsNull(i) || req.IsNull(i) {
				continue
			}
			x, ok := exchanges[ex.Value(i)]
			if !ok {
				if len(res.funnel) == 1<<16 {
					return fmt.Errorf("more than %d exchanges", 1<<16)
				}
				x = uint16(len(res.funnel))
				name := strings.Clone(ex.Value(i))
				exchanges[name] = x
				res.funnel = append(res.funnel, &funnelAgg{exchange: name})
			}
			f := res.funnel[x]
			f.requests++
			if !has.IsValid(i) || !has.Value(i) {
				continue
			}
			f.bids++
			bids.put(xxhash.Sum64String(req.Value(i)), x)
			if price.IsNull(i) {
				continue
			}
			currency := "USD"
			if !cur.IsNull(i) && cur.Value(i) != "" {
				currency = strings.ToUpper(cur.Value(i))
			}
			rate, ok := rates[currency]
			if currency == "USD" {
				rate, ok = 1, true
			}
			if ok {
				f.priced++
				f.sumCPM += float64(price.Value(i)) / 1e6 * rate
			}
		}
		return nil
	})
	return bids, err
}

// fxRates returns, per currency, the USD rate of day or the latest day
// before it.
func fxRates(ctx context.Context, fs icebergio.IO, in input, day arrow.Date32, o Options) (map[string]float64, error) {
	out := map[string]float64{}
	if in.snap == 0 {
		return out, nil
	}
	tasks, err := in.tbl.Scan(table.WithSnapshotID(in.snap)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", in.t, err)
	}
	paths := make([]string, len(tasks))
	for i, t := range tasks {
		paths[i] = t.File.FilePath()
	}
	sort.Strings(paths)
	best := map[string]arrow.Date32{}
	err = readFiles(ctx, fs, paths, []string{"date", "currency", "usd_per_unit"}, o.Alloc, o.BatchRows, func(c cols) error {
		d, err := typed[*array.Date32](c, "date")
		cur, err1 := c.str("currency")
		rate, err2 := typed[*array.Float64](c, "usd_per_unit")
		if err := firstErr(err, err1, err2); err != nil {
			return err
		}
		for i := 0; i < c.rows(); i++ {
			if d.IsNull(i) || cur.IsNull(i) || rate.IsNull(i) || d.Value(i) > day {
				continue
			}
			k := strings.ToUpper(cur.Value(i))
			if b, seen := best[k]; !seen || d.Value(i) >= b {
				best[k], out[k] = d.Value(i), rate.Value(i)
			}
		}
		return nil
	})
	return out, err
}

func optStr(c strCol, i int) opt[string] {
	if c.IsNull(i) {
		return opt[string]{}
	}
	return some(c.Value(i))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
