package gold

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/cespare/xxhash/v2"

	"github.com/advertisex/adlake/schema"
)

// keyCols are the columns of an attribution input (impressions, clicks or
// conversions) that make a row's sort key: time, id, user and campaign.
type keyCols struct {
	ts                 microsCol
	id, user, campaign strCol
}

func bindKey(c *cols, idCol string) keyCols {
	return keyCols{ts: c.ts("event_ts"), id: c.str(idCol), user: c.str("user_key"), campaign: c.str("campaign_id")}
}

// keyed reports whether row i has the campaign, id and time of a sort key
// (rows without them are never attributed; the user is checked apart).
func (k *keyCols) keyed(i int) bool {
	return !k.campaign.IsNull(i) && !k.id.IsNull(i) && !k.ts.IsNull(i)
}

// group is the hash of row i's (user, campaign) group.
func (k *keyCols) group(i int) uint64 { return groupHash(k.user.Value(i), k.campaign.Value(i)) }

// key appends the sort key of row i, of group h, to b.
func (k *keyCols) key(b []byte, h uint64, i int) []byte {
	return appendKey(b, h, k.user.Value(i), k.campaign.Value(i), k.ts.Value(i), k.id.Value(i))
}

// touchCols are the columns of a click or impression batch that the
// attribution reads.
type touchCols struct {
	keyCols
	date           *array.Date32
	creative, site strCol
	bot            *array.Boolean
}

// touchColumns lists the columns bindTouches binds, idCol the touch's id.
func touchColumns(idCol string) []string {
	return []string{"event_date", "event_ts", idCol, "user_key", "campaign_id", "creative_id", "site_domain", "is_bot"}
}

func bindTouches(c *cols, idCol string) touchCols {
	return touchCols{keyCols: bindKey(c, idCol), date: colAs[*array.Date32](c, "event_date"),
		creative: c.str("creative_id"), site: c.str("site_domain"), bot: colAs[*array.Boolean](c, "is_bot")}
}

// value appends the sort value of row i (creative, site) to b.
func (t *touchCols) value(b []byte, i int) []byte {
	return impressionValue(b, optStr(t.creative, i), optStr(t.site, i))
}

// conversionCols are the columns of a conversion batch.
type conversionCols struct {
	keyCols
	advertiser, typ strCol
	value           *array.Float64
	bot             *array.Boolean
}

var conversionColumns = []string{"event_ts", "event_id", "user_key", "campaign_id", "advertiser_id", "conversion_type", "conversion_value_usd", "is_bot"}

func bindConversions(c *cols) conversionCols {
	return conversionCols{keyCols: bindKey(c, "event_id"), advertiser: c.str("advertiser_id"), typ: c.str("conversion_type"),
		value: colAs[*array.Float64](c, "conversion_value_usd"), bot: colAs[*array.Boolean](c, "is_bot")}
}

// sort adds row i of k, of group h, to s with c.val as its value.
func (c *computation) sort(s *Sorter, k *keyCols, h uint64, i int) error {
	c.key = k.key(c.key[:0], h, i)
	return s.Add(c.key, c.val)
}

// readConversions reads the date's non-bot conversions: each counts for
// its campaign's mart; an anonymous one is attributed none at once, the
// others go to the conversion sort and mark their group for the
// impressions' semi-join.
func (c *computation) readConversions(ctx context.Context) error {
	return c.read(ctx, schema.SilverConversions, conversionColumns, func(b *cols) error {
		v := bindConversions(b)
		if b.err != nil {
			return b.err
		}
		for i := 0; i < b.rows(); i++ {
			if v.bot.Value(i) || !v.keyed(i) {
				continue
			}
			if err := c.conversion(&v, i); err != nil {
				return err
			}
		}
		return nil
	})
}

// conversion takes conversion i of v (non-bot, keyed).
func (c *computation) conversion(v *conversionCols, i int) error {
	a := c.campaign(v.campaign.Value(i))
	a.convs++
	a.seeAdvertiser(v.advertiser, i)
	value, advertiser := optF64(v.value, i), optStr(v.advertiser, i)
	if value.OK {
		a.value += value.V
	}
	if v.user.IsNull(i) {
		// Anonymous: no touch can share its user.
		c.res.attributed = append(c.res.attributed, attributed{ConversionID: strings.Clone(v.id.Value(i)), ConversionTS: v.ts.Value(i),
			CampaignID: strings.Clone(v.campaign.Value(i)), AdvertiserID: opt[string]{V: strings.Clone(advertiser.V), OK: advertiser.OK},
			ConversionType: strings.Clone(v.typ.Value(i)), ValueUSD: value, Attribution: AttrNone})
		return nil
	}
	h := v.group(i)
	c.groups.put(h, 1)
	c.val = conversionValue(c.val[:0], advertiser, v.typ.Value(i), value)
	return c.sort(c.convs, &v.keyCols, h, i)
}

var clickColumns = append(touchColumns("event_id"), "advertiser_id")

// readClicks reads the clicks of the click window: those of the date count
// for their campaign's mart; the non-bot clicks of known users go to the
// click sort and mark their group for the impressions' semi-join.
func (c *computation) readClicks(ctx context.Context) error {
	return c.read(ctx, schema.SilverClicks, clickColumns, func(b *cols) error {
		t, adv := bindTouches(b, "event_id"), b.str("advertiser_id")
		if b.err != nil {
			return b.err
		}
		for i := 0; i < b.rows(); i++ {
			if !t.keyed(i) {
				continue
			}
			if t.date.Value(i) == c.day {
				c.campaign(t.campaign.Value(i)).countClick(&t, adv, i)
			}
			if t.bot.Value(i) || t.user.IsNull(i) {
				continue
			}
			h := t.group(i)
			c.groups.put(h, 1)
			c.val = t.value(c.val[:0], i)
			if err := c.sort(c.clicks, &t.keyCols, h, i); err != nil {
				return err
			}
		}
		return nil
	})
}

// impressionMartCols are the columns of an impression batch only the marts
// read.
type impressionMartCols struct {
	advertiser, request strCol
	cost                *array.Float64
}

var impressionMartColumns = []string{"advertiser_id", "request_id", "cost_usd"}

func bindImpressionMarts(c *cols) impressionMartCols {
	return impressionMartCols{advertiser: c.str("advertiser_id"), request: c.str("request_id"), cost: colAs[*array.Float64](c, "cost_usd")}
}

// readImpressions reads the impressions of the attribution's lookback and
// the date, and with marts those of the next date (the funnel's wins).
// Only the non-bot impressions of a group with a click or conversion (a
// semi-join on c.groups) go to the impression sort.
func (c *computation) readImpressions(ctx context.Context) error {
	names := touchColumns("impression_id")
	if c.marts {
		names = append(names, impressionMartColumns...)
	}
	return c.read(ctx, schema.SilverImpressions, names, func(b *cols) error {
		t := bindTouches(b, "impression_id")
		var m impressionMartCols
		if c.marts {
			m = bindImpressionMarts(b)
		}
		if b.err != nil {
			return b.err
		}
		n := b.rows()
		c.rep.ImpressionsRead += int64(n)
		for i := 0; i < n; i++ {
			d := t.date.Value(i)
			if c.marts {
				c.countImpression(&t, &m, d, i)
			}
			if d > c.day || t.bot.Value(i) || t.user.IsNull(i) || !t.keyed(i) {
				continue
			}
			h := t.group(i)
			if _, ok := c.groups.get(h); !ok {
				continue // semi-join: no click or conversion of this group
			}
			c.val = t.value(c.val[:0], i)
			if err := c.sort(c.imps, &t.keyCols, h, i); err != nil {
				return err
			}
			c.rep.ImpressionsSorted++
		}
		return nil
	})
}

// countImpression counts impression i, of date d, in the marts: in its
// campaign's delivery and spend when of the date, and as a win of the
// funnel when of the date or the next and its request is one of the
// date's bids.
func (c *computation) countImpression(t *touchCols, m *impressionMartCols, d arrow.Date32, i int) {
	if d == c.day && !t.campaign.IsNull(i) {
		c.campaign(t.campaign.Value(i)).countImpression(t, m, i)
	}
	if d >= c.day && !m.request.IsNull(i) {
		if x, ok := c.bids.get(xxhash.Sum64String(m.request.Value(i))); ok {
			c.res.funnel[x].countWin(m, i)
		}
	}
}
