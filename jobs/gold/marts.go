package gold

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// seeAdvertiser keeps the greatest non-null advertiser seen.
func (a *campaignAgg) seeAdvertiser(adv strCol, i int) {
	if !adv.IsNull(i) {
		if v := adv.Value(i); !a.advertiser.OK || v > a.advertiser.V {
			a.advertiser = some(strings.Clone(v))
		}
	}
}

// countClick counts click i of t (advertiser adv), of the date.
func (a *campaignAgg) countClick(t *touchCols, adv strCol, i int) {
	if t.bot.Value(i) {
		a.botClicks++
	} else {
		a.clicks++
	}
	a.seeAdvertiser(adv, i)
}

// countImpression counts impression i of t and m, of the date.
func (a *campaignAgg) countImpression(t *touchCols, m *impressionMartCols, i int) {
	if t.bot.Value(i) {
		a.botImps++
	} else {
		a.imps++
	}
	if m.cost.IsValid(i) {
		a.spend += m.cost.Value(i)
	}
	a.seeAdvertiser(m.advertiser, i)
}

// credit counts an attributed conversion of the campaign.
func (a *campaignAgg) credit(x *attributed) {
	switch x.Attribution {
	case AttrClick:
		a.clickConvs++
	case AttrView:
		a.viewConvs++
	}
	if x.Attribution != AttrNone && x.ValueUSD.OK {
		a.attributedValue += x.ValueUSD.V
	}
}

// funnelAgg accumulates one bid_funnel_daily row.
type funnelAgg struct {
	exchange                     string
	requests, bids, wins, priced int64
	sumCPM, spend                float64
}

// countWin counts impression i of m as a win of one of the exchange's bids.
func (f *funnelAgg) countWin(m *impressionMartCols, i int) {
	f.wins++
	if m.cost.IsValid(i) {
		f.spend += m.cost.Value(i)
	}
}

// addPrice adds a bid price, in micros of currency per mille, to the CPM
// average when rates has the currency (USD is 1 without a rate).
func (f *funnelAgg) addPrice(micros int64, currency string, rates map[string]float64) {
	rate, ok := rates[currency]
	if currency == "USD" {
		rate, ok = 1, true
	}
	if ok {
		f.priced++
		f.sumCPM += float64(micros) / 1e6 * rate
	}
}

// bidCols are the columns of a bid request batch.
type bidCols struct {
	request, exchange, cur strCol
	test, has              *array.Boolean
	price                  *array.Int64
}

var bidColumns = []string{"request_id", "exchange", "is_test", "has_bid", "bid_price_micros", "bid_currency"}

func bindBids(c *cols) bidCols {
	return bidCols{request: c.str("request_id"), exchange: c.str("exchange"), cur: c.str("bid_currency"),
		test: colAs[*array.Boolean](c, "is_test"), has: colAs[*array.Boolean](c, "has_bid"), price: colAs[*array.Int64](c, "bid_price_micros")}
}

// currency is the upper-case bid currency of row i (USD when unset).
func (b *bidCols) currency(i int) string {
	if b.cur.IsNull(i) || b.cur.Value(i) == "" {
		return "USD"
	}
	return strings.ToUpper(b.cur.Value(i))
}

// readBids (marts only) reads the date's non-test bid requests into
// res.funnel, one aggregate per exchange, and indexes the request ids that
// carry a bid in c.bids, valued by the exchange's position in res.funnel.
// Bid prices are converted to USD with ref.fx_rates (the rate of the date
// or the latest before it; USD is 1); a bid without price or rate is left
// out of the average (priced_bids counts those in it).
func (c *computation) readBids(ctx context.Context) error {
	if !c.marts {
		return nil
	}
	rates, err := c.fxRates(ctx)
	if err != nil {
		return err
	}
	c.bids = newHashIndex(1 << 16)
	exchanges := map[string]uint16{}
	return c.read(ctx, schema.SilverBidRequests, bidColumns, func(b *cols) error {
		v := bindBids(b)
		if b.err != nil {
			return b.err
		}
		for i := 0; i < b.rows(); i++ {
			if v.test.Value(i) || v.exchange.IsNull(i) || v.request.IsNull(i) {
				continue
			}
			x, err := c.exchange(exchanges, v.exchange.Value(i))
			if err != nil {
				return err
			}
			f := c.res.funnel[x]
			if f.requests++; !v.has.IsValid(i) || !v.has.Value(i) {
				continue
			}
			f.bids++
			c.bids.put(xxhash.Sum64String(v.request.Value(i)), x)
			if !v.price.IsNull(i) {
				f.addPrice(v.price.Value(i), v.currency(i), rates)
			}
		}
		return nil
	})
}

// exchange returns the position in res.funnel of the aggregate of exchange
// name, numbered in exchanges, adding it when new.
func (c *computation) exchange(exchanges map[string]uint16, name string) (uint16, error) {
	if x, ok := exchanges[name]; ok {
		return x, nil
	}
	if len(c.res.funnel) == 1<<16 {
		return 0, fmt.Errorf("more than %d exchanges", 1<<16)
	}
	x := uint16(len(c.res.funnel))
	name = strings.Clone(name)
	exchanges[name] = x
	c.res.funnel = append(c.res.funnel, &funnelAgg{exchange: name})
	return x, nil
}

// fxRates returns, per currency, the USD rate of the date or the latest
// date before it.
func (c *computation) fxRates(ctx context.Context) (map[string]float64, error) {
	paths, err := c.ins[schema.RefFxRates.String()].paths(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	best := map[string]arrow.Date32{}
	err = c.readFiles(ctx, paths, []string{"date", "currency", "usd_per_unit"}, func(b *cols) error {
		d, cur, rate := colAs[*array.Date32](b, "date"), b.str("currency"), colAs[*array.Float64](b, "usd_per_unit")
		if b.err != nil {
			return b.err
		}
		for i := 0; i < b.rows(); i++ {
			if d.IsNull(i) || cur.IsNull(i) || rate.IsNull(i) || d.Value(i) > c.day {
				continue
			}
			k := strings.ToUpper(cur.Value(i))
			if seen, ok := best[k]; !ok || d.Value(i) >= seen {
				best[k], out[k] = d.Value(i), rate.Value(i)
			}
		}
		return nil
	})
	return out, err
}
