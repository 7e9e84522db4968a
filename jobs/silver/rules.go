package silver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/schema"
)

// transformer turns bronze batches of one feed into silver rows and
// rejects, in row order (which is arrival order).
type transformer interface {
	batch(ctx context.Context, rec arrow.RecordBatch) error
	indexes() []*keyIndex
}

func (x *impressions) indexes() []*keyIndex       { return []*keyIndex{x.ids} }
func (x *clicksConversions) indexes() []*keyIndex { return []*keyIndex{x.ids, x.orders} }
func (x *bidRequests) indexes() []*keyIndex       { return []*keyIndex{x.ids} }

func newTransformer(p *passRun) (transformer, error) {
	switch p.feed.Name {
	case schema.Impressions.Name:
		return &impressions{p: p, ids: newKeyIndex(p.j.cat, []schema.Table{schema.SilverImpressions}, "impression_id")}, nil
	case schema.ClicksConversions.Name:
		accepted := map[string]bool{"signup": true, "purchase": true, "add_to_cart": true, "lead": true, "install": true}
		for _, t := range p.j.o.ExtraConversionTypes {
			accepted[strings.ToLower(strings.TrimSpace(t))] = true
		}
		return &clicksConversions{p: p, accepted: accepted,
			ids:    newKeyIndex(p.j.cat, []schema.Table{schema.SilverClicks, schema.SilverConversions}, "event_id"),
			orders: anyDate(newKeyIndex(p.j.cat, []schema.Table{schema.SilverConversions}, "campaign_id", "conversion_type", "order_id"))}, nil
	case schema.BidRequests.Name:
		return &bidRequests{p: p, ids: newKeyIndex(p.j.cat, []schema.Table{schema.SilverBidRequests}, "request_id")}, nil
	}
	return nil, fmt.Errorf("no silver rules for feed %s", p.feed.Name)
}

// admit tells whether a valid row dated day with key goes on to silver:
// not when a rebuild excludes the day (skipped without a trace), nor when
// the key was seen (counted as a duplicate of kind).
func (p *passRun) admit(ctx context.Context, k *keyIndex, day arrow.Date32, key string, l lineage, kind string) (bool, error) {
	if p.keepDay != nil && !p.keepDay(day) {
		return false, nil
	}
	dup, err := k.seen(ctx, day, key)
	if err != nil || dup {
		if dup {
			p.duplicate(l, kind)
		}
		return false, err
	}
	return true, nil
}

func anyDate(k *keyIndex) *keyIndex {
	k.anyDate = true
	return k
}

// eachRow calls fn for every row of rec that the pass selects (replay and
// rebuild narrow it), checking ctx now and then.
func (p *passRun) eachRow(ctx context.Context, rec arrow.RecordBatch, lin lineageCols, fn func(i int, l lineage) error) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		if err := checkCtx(ctx, i); err != nil {
			return err
		}
		l := lin.at(i)
		if p.skip(l) {
			continue
		}
		if err := fn(i, l); err != nil {
			return err
		}
	}
	return nil
}

// missing names the required fields that are empty.
func missing(names []string, values ...string) string {
	var m []string
	for i, v := range values {
		if strings.TrimSpace(v) == "" {
			m = append(m, names[i])
		}
	}
	return strings.Join(m, ", ")
}

// eventTime parses and checks a timestamp; reason is "" when it is valid.
func eventTime(raw string, l lineage) (t arrowTime, reason, detail string) {
	ts, err := parseTS(raw)
	if err != nil {
		return t, ReasonInvalidTimestamp, fmt.Sprintf("cannot parse timestamp %q", raw)
	}
	if r, ok := checkTime(ts, l.arrival); !ok {
		return t, r, fmt.Sprintf("timestamp %s against arrival hour %s", ts.Format("2006-01-02T15:04:05.000Z"), l.arrival.Format("2006-01-02T15"))
	}
	return arrowTime{ts}, "", ""
}

// The silver columns each transformer fills, by name, in the order of the
// builders it indexes (f[0], f[1], ...); the lineage columns follow.
var (
	impressionColumns = []string{"event_ts", schema.ColEventDate, "impression_id", "user_key", "creative_id", "campaign_id",
		"advertiser_id", "site_domain", "site_page", "publisher_id", "iab_category", "request_id", "win_price_cpm_micros",
		"currency", "cost_usd", "device_type", "user_agent", "country", "region", "is_bot"}
	clickColumns = []string{"event_ts", schema.ColEventDate, "event_id", "user_key", "campaign_id", "advertiser_id",
		"creative_id", "site_domain", "user_agent", "is_bot"}
	conversionColumns = append(slices.Clone(clickColumns),
		"conversion_type", "conversion_value", "currency", "conversion_value_usd", "order_id")
	bidRequestColumns = []string{"event_ts", schema.ColEventDate, "request_id", "exchange", "auction_type", "is_test",
		"site_domain", "app_bundle", "device_type", "country", "user_key", "is_bot", "imp_count", "bid_floor_cpm",
		"has_bid", "bid_price_micros", "bid_currency", "bid_campaign_id", "bid_creative_id", "deal_id", "writer_schema"}
)

type impressions struct {
	p   *passRun
	ids *keyIndex
}

func (x *impressions) batch(ctx context.Context, rec arrow.RecordBatch) error {
	lin := bindLineage(rec)
	id, ts, user, creative := textCol(rec, "impression_id"), textCol(rec, "ts"), textCol(rec, "user_id"), textCol(rec, "creative_id")
	domain, page, request, cur := textCol(rec, "site.domain"), textCol(rec, "site.page"), textCol(rec, "request_id"), textCol(rec, "currency")
	dtype, ua, ctry, region := textCol(rec, "device.type"), textCol(rec, "device.ua"), textCol(rec, "geo.country"), textCol(rec, "geo.region")
	price := col[*array.Int64](rec, "win_price_cpm_micros")
	s := x.p.sinks[schema.SilverImpressions.Name]
	f, err := s.bind(impressionColumns...)
	if err != nil {
		return err
	}
	return x.p.eachRow(ctx, rec, lin, func(i int, l lineage) error {
		if m := missing([]string{"impression_id", "ts", "creative_id", "site.domain"}, id.get(i), ts.get(i), creative.get(i), domain.get(i)); m != "" {
			return x.p.reject(rec, i, l, ReasonMissingRequired, "missing "+m)
		}
		t, reason, detail := eventTime(ts.get(i), l)
		if reason == "" && !price.IsNull(i) && price.Value(i) < 0 {
			reason, detail = ReasonInvalidValue, fmt.Sprintf("negative win_price_cpm_micros %d", price.Value(i))
		}
		if reason != "" {
			return x.p.reject(rec, i, l, reason, detail)
		}
		day := arrow.Date32FromTime(t.Time)
		if ok, err := x.p.admit(ctx, x.ids, day, id.get(i), l, "id"); !ok || err != nil {
			return err
		}
		r := x.p.j.refs
		currency := strings.ToUpper(cur.get(i))
		if currency == "" {
			currency = "USD"
		}
		cr := r.creatives[creative.get(i)]
		site := strings.ToLower(domain.get(i))
		pub := r.sites[site]
		setTime(f[0], f[1], t.Time)
		setStr(f[2], id.get(i))
		optStr(f[3], x.p.j.pseudo.of(user.get(i)))
		setStr(f[4], creative.get(i))
		optStr(f[5], cr[0])
		optStr(f[6], cr[1])
		setStr(f[7], site)
		optStr(f[8], page.get(i))
		optStr(f[9], pub[0])
		optStr(f[10], pub[1])
		optStr(f[11], request.get(i))
		cost, costOK := 0.0, false
		if !price.IsNull(i) {
			f[12].(*array.Int64Builder).Append(price.Value(i))
			if rate, ok := r.usd(currency, day); ok {
				cost, costOK = float64(price.Value(i))/1000/1e6*rate, true
			}
		} else {
			f[12].AppendNull()
		}
		setStr(f[13], currency)
		optF64(f[14], cost, costOK)
		setStr(f[15], deviceType(dtype.get(i)))
		optStr(f[16], ua.get(i))
		optStr(f[17], country(ctry.get(i)))
		optStr(f[18], region.get(i))
		setBool(f[19], x.p.j.bots.is(ua.get(i)))
		return x.p.appendLineage(s, l)
	})
}

type clicksConversions struct {
	p           *passRun
	accepted    map[string]bool
	ids, orders *keyIndex
}

func (x *clicksConversions) batch(ctx context.Context, rec arrow.RecordBatch) error {
	lin := bindLineage(rec)
	c := map[string]text{}
	for _, name := range schema.ClicksConversionsColumns {
		c[name] = textCol(rec, name)
	}
	clicks, convs := x.p.sinks[schema.SilverClicks.Name], x.p.sinks[schema.SilverConversions.Name]
	clickCols, err := clicks.bind(clickColumns...)
	if err != nil {
		return err
	}
	convCols, err := convs.bind(conversionColumns...)
	if err != nil {
		return err
	}
	return x.p.eachRow(ctx, rec, lin, func(i int, l lineage) error {
		v := func(name string) string { return strings.TrimSpace(c[name].get(i)) }
		if m := missing([]string{"event_id", "event_type", "event_ts", "campaign_id"}, v("event_id"), v("event_type"), v("event_ts"), v("campaign_id")); m != "" {
			return x.p.reject(rec, i, l, ReasonMissingRequired, "missing "+m)
		}
		typ := strings.ToLower(v("event_type"))
		convType := strings.ToLower(v("conversion_type"))
		reason, detail := "", ""
		var t arrowTime
		switch {
		case typ != "click" && typ != "conversion":
			reason, detail = ReasonInvalidValue, fmt.Sprintf("unknown event_type %q", v("event_type"))
		case typ == "conversion" && convType == "":
			reason, detail = ReasonMissingRequired, "missing conversion_type"
		default:
			t, reason, detail = eventTime(v("event_ts"), l)
		}
		value, hasValue := 0.0, false
		if reason == "" && typ == "conversion" {
			if !x.accepted[convType] {
				reason, detail = ReasonInvalidValue, fmt.Sprintf("unknown conversion_type %q", v("conversion_type"))
			} else if raw := v("conversion_value"); raw != "" {
				var err error
				if value, err = strconv.ParseFloat(raw, 64); err != nil || value < 0 {
					reason, detail = ReasonInvalidValue, fmt.Sprintf("conversion_value %q is not a non-negative decimal", raw)
				}
				hasValue = true
			}
		}
		if reason != "" {
			return x.p.reject(rec, i, l, reason, detail)
		}
		day := arrow.Date32FromTime(t.Time)
		if ok, err := x.p.admit(ctx, x.ids, day, v("event_id"), l, "id"); !ok || err != nil {
			return err
		}
		if order := v("order_id"); typ == "conversion" && order != "" {
			if ok, err := x.p.admit(ctx, x.orders, day, joinKey(v("campaign_id"), convType, order), l, "order"); !ok || err != nil {
				return err
			}
		}
		s, f := clicks, clickCols
		if typ == "conversion" {
			s, f = convs, convCols
		}
		campaign := v("campaign_id")
		setTime(f[0], f[1], t.Time)
		setStr(f[2], v("event_id"))
		optStr(f[3], x.p.j.pseudo.of(v("user_id")))
		setStr(f[4], campaign)
		optStr(f[5], x.p.j.refs.advertiserOf[campaign])
		optStr(f[6], v("creative_id"))
		optStr(f[7], strings.ToLower(v("site_domain")))
		optStr(f[8], v("user_agent"))
		setBool(f[9], x.p.j.bots.is(v("user_agent")))
		if typ == "conversion" {
			currency := strings.ToUpper(v("currency"))
			if currency == "" {
				currency = "USD"
			}
			setStr(f[10], convType)
			optF64(f[11], value, hasValue)
			setStr(f[12], currency)
			rate, ok := x.p.j.refs.usd(currency, day)
			optF64(f[13], value*rate, hasValue && ok)
			optStr(f[14], v("order_id"))
		}
		return x.p.appendLineage(s, l)
	})
}

type bidRequests struct {
	p   *passRun
	ids *keyIndex
}

func (x *bidRequests) batch(ctx context.Context, rec arrow.RecordBatch) error {
	lin := bindLineage(rec)
	id, exchange, auction, writer := textCol(rec, "request_id"), textCol(rec, "exchange"), textCol(rec, "auction_type"), textCol(rec, "_writer_schema")
	domain, bundle := textCol(rec, "site.domain"), textCol(rec, "app.bundle")
	evt := col[*array.Timestamp](rec, "event_time")
	test := col[*array.Boolean](rec, "test")
	dev := col[*array.Struct](rec, "device")
	user := textCol(rec, "user.user_id")
	imps := col[*array.List](rec, "imps")
	bid := col[*array.Struct](rec, "bid")
	s := x.p.sinks[schema.SilverBidRequests.Name]
	f, err := s.bind(bidRequestColumns...)
	if err != nil {
		return err
	}
	return x.p.eachRow(ctx, rec, lin, func(i int, l lineage) error {
		if m := missing([]string{"request_id", "exchange"}, id.get(i), exchange.get(i)); m != "" || evt.IsNull(i) {
			if m == "" {
				m = "event_time"
			}
			return x.p.reject(rec, i, l, ReasonMissingRequired, "missing "+m)
		}
		ts := evt.Value(i).ToTime(arrow.Microsecond)
		if reason, ok := checkTime(ts, l.arrival); !ok {
			return x.p.reject(rec, i, l, reason, fmt.Sprintf("event_time %s against arrival hour %s", ts.Format("2006-01-02T15:04:05.000Z"), l.arrival.Format("2006-01-02T15")))
		}
		day := arrow.Date32FromTime(ts)
		if ok, err := x.p.admit(ctx, x.ids, day, id.get(i), l, "id"); !ok || err != nil {
			return err
		}
		d := deviceOf(dev, i)
		setTime(f[0], f[1], ts)
		setStr(f[2], id.get(i))
		setStr(f[3], strings.ToLower(exchange.get(i)))
		optStr(f[4], strings.ToLower(auction.get(i)))
		setBool(f[5], !test.IsNull(i) && test.Value(i))
		optStr(f[6], strings.ToLower(domain.get(i)))
		optStr(f[7], bundle.get(i))
		setStr(f[8], deviceType(d.typ))
		optStr(f[9], country(d.country))
		optStr(f[10], x.p.j.pseudo.of(user.get(i)))
		setBool(f[11], x.p.j.bots.is(d.ua))
		n, floor, hasFloor := firstImp(imps, i)
		f[12].(*array.Int32Builder).Append(int32(n))
		optF64(f[13], floor, hasFloor)
		b := bidOf(bid, i)
		setBool(f[14], b.ok)
		optI64(f[15], b.price, b.ok)
		optStr(f[16], b.currency)
		optStr(f[17], b.campaign)
		optStr(f[18], b.creative)
		optStr(f[19], b.deal)
		optStr(f[20], writer.get(i))
		return x.p.appendLineage(s, l)
	})
}

type deviceInfo struct{ typ, ua, country string }

// deviceOf reads device.device_type, device.ua and device.geo.country.
func deviceOf(dev *array.Struct, i int) deviceInfo {
	if dev == nil || dev.IsNull(i) {
		return deviceInfo{}
	}
	st := dev.DataType().(*arrow.StructType)
	get := func(s *array.Struct, t *arrow.StructType, name string) string {
		idx, _ := t.FieldIdx(name)
		a := s.Field(idx).(*array.String)
		if a.IsNull(i) {
			return ""
		}
		return a.Value(i)
	}
	d := deviceInfo{typ: get(dev, st, "device_type"), ua: get(dev, st, "ua")}
	gi, _ := st.FieldIdx("geo")
	if g := dev.Field(gi).(*array.Struct); !g.IsNull(i) {
		d.country = get(g, g.DataType().(*arrow.StructType), "country")
	}
	return d
}

// firstImp returns the number of imps and the floor of the first.
func firstImp(imps *array.List, i int) (int, float64, bool) {
	if imps == nil || imps.IsNull(i) {
		return 0, 0, false
	}
	start, end := imps.ValueOffsets(i)
	if end == start {
		return 0, 0, false
	}
	st := imps.ListValues().(*array.Struct)
	idx, _ := st.DataType().(*arrow.StructType).FieldIdx("bid_floor_cpm")
	fl := st.Field(idx).(*array.Float64)
	if fl.IsNull(int(start)) {
		return int(end - start), 0, false
	}
	return int(end - start), fl.Value(int(start)), true
}

type bidInfo struct {
	ok                                 bool
	price                              int64
	currency, campaign, creative, deal string
}

func bidOf(bid *array.Struct, i int) bidInfo {
	if bid == nil || bid.IsNull(i) {
		return bidInfo{}
	}
	st := bid.DataType().(*arrow.StructType)
	s := func(name string) string {
		idx, _ := st.FieldIdx(name)
		a := bid.Field(idx).(*array.String)
		if a.IsNull(i) {
			return ""
		}
		return a.Value(i)
	}
	pi, _ := st.FieldIdx("price_micros")
	return bidInfo{ok: true, price: bid.Field(pi).(*array.Int64).Value(i), currency: strings.ToUpper(s("currency")),
		campaign: s("campaign_id"), creative: s("creative_id"), deal: s("deal_id")}
}

// arrowTime wraps a validated event time.
type arrowTime struct{ time.Time }
