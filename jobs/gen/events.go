package gen

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/advertisex/adlake/lake/landing"
	"github.com/advertisex/adlake/schema"
)

var (
	userAgents = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Roku/DVP-12.5 (12.5.0.4174-C2)",
	}
	botAgents = []string{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
	}
	deviceTypes = []struct {
		name string
		pct  int
	}{{"mobile", 55}, {"desktop", 30}, {"tablet", 8}, {"ctv", 5}, {"other", 2}}
	countries2 = []string{"US", "US", "US", "DE", "GB", "FR", "IN", "BR", "CA", "AU", "JP", "ES"}
	countries3 = []string{"USA", "USA", "USA", "DEU", "GBR", "FRA", "IND", "BRA", "CAN", "AUS", "JPN", "ESP"}
	exchanges  = []string{"openx", "magnite", "pubmatic", "index", "xandr"}
	convTypes  = []string{"signup", "purchase", "add_to_cart", "lead", "install"}
)

// event is a click or conversion waiting for its arrival hour.
type event = csvEvent

type csvEvent struct {
	id, typ                  string
	ts                       time.Time
	user, campaign, creative string
	convType, value, cur     string
	order, domain, ua, ip    string
	tsText                   string // overrides ts when set (defects)
	orphan                   bool   // of an impression dropped_hour held back
}

// pooled is an impressions line kept to be re-sent as a duplicate.
type pooled struct {
	line []byte
	// held: the line was in a file dropped_hour held back, so its first
	// re-sent copy is no duplicate but the one valid copy written; kinds
	// are its counts by kind, for that copy.
	held  bool
	kinds map[string]int64
}

// impression is one generated impression, kept for its clicks and bids.
type impression struct {
	id, user, creative, domain, ua, ip, request, cur string
	campaign, country                                int
	ts                                               time.Time
	price                                            int64
	bot                                              bool
}

// hour generates every landing file of one arrival hour.
func (g *generator) hour(ctx context.Context, h time.Time) error {
	idx := int(h.Sub(g.o.Start) / time.Hour)
	n := int(float64(g.o.ImpressionsPerDay)*diurnal(h.Hour()) + 0.5)
	imps := make([]impression, n)
	g.heldHour = g.held(schema.Impressions.Name, h)
	for i := range imps {
		imps[i] = g.newImpression(h)
		g.schedule(&imps[i])
	}
	g.heldHour = false
	if err := g.writeImpressions(ctx, h, idx, imps); err != nil {
		return err
	}
	if err := g.writeClicks(ctx, h, idx); err != nil {
		return err
	}
	return g.writeBids(ctx, h, idx, imps)
}

func (g *generator) pct(p int) bool { return g.rng.IntN(100) < p }

func (g *generator) newImpression(h time.Time) impression {
	r := g.rng
	ts := h.Add(time.Duration(r.Int64N(int64(time.Hour))))
	if g.pct(5) { // produced late in the previous hour, arrived in this one
		ts = h.Add(-time.Duration(r.Int64N(int64(10 * time.Minute))))
	}
	im := impression{id: g.id("imp"), ts: ts.Truncate(time.Millisecond), ip: fmt.Sprintf("203.0.%d.%d", r.IntN(256), r.IntN(256)),
		country: r.IntN(len(countries2)), price: 200_000 + r.Int64N(4_800_000), cur: "USD"}
	if !g.pct(10) {
		im.user = fmt.Sprintf("u-%05d", g.users.Uint64()+1)
	}
	c := g.ref.creatives[r.IntN(len(g.ref.creatives))]
	im.creative, im.campaign = c.id, c.campaign
	im.domain = g.ref.sites[g.sites.Uint64()].domain
	if im.bot = g.pct(2); im.bot {
		im.ua = botAgents[r.IntN(len(botAgents))]
	} else {
		im.ua = userAgents[r.IntN(len(userAgents))]
	}
	switch x := r.IntN(100); {
	case x < 7:
		im.cur = "EUR"
	case x < 10:
		im.cur = "GBP"
	}
	if g.pct(85) {
		im.request = g.id("br")
	}
	return im
}

// schedule plans the clicks and conversions an impression leads to.
func (g *generator) schedule(im *impression) {
	if im.user == "" {
		return
	}
	r := g.rng
	camp := g.ref.campaigns[im.campaign].id
	clickP := 20 // per mille
	if im.bot {
		clickP = 5
	}
	base := csvEvent{user: im.user, campaign: camp, creative: im.creative, domain: im.domain, ua: im.ua, ip: im.ip, orphan: g.heldHour}
	if r.IntN(1000) < clickP {
		c := base
		c.id, c.typ = g.id("clk"), "click"
		c.ts = im.ts.Add(time.Duration(5+r.IntN(900)) * time.Second).Truncate(time.Millisecond)
		g.later[c.ts.Unix()/3600] = append(g.later[c.ts.Unix()/3600], c)
		if r.IntN(100) < 8 {
			g.scheduleConversion(base, c.ts.Add(time.Duration(60+r.IntN(48*3600))*time.Second))
		}
		return
	}
	if r.IntN(10000) < 15 {
		g.scheduleConversion(base, im.ts.Add(time.Duration(600+r.IntN(20*3600))*time.Second))
	}
}

func (g *generator) scheduleConversion(base csvEvent, ts time.Time) {
	r := g.rng
	c := base
	c.id, c.typ, c.ts = g.id("cnv"), "conversion", ts.Truncate(time.Millisecond)
	c.convType = convTypes[r.IntN(len(convTypes))]
	c.cur = "USD"
	if g.pct(10) {
		c.cur = "EUR"
	}
	switch c.convType {
	case "purchase", "add_to_cart":
		c.value = strconv.FormatFloat(5+r.Float64()*295, 'f', 2, 64)
	case "lead":
		c.value = "12.50"
	}
	if c.convType == "purchase" && g.pct(90) {
		c.order = g.id("ord")
	}
	g.later[c.ts.Unix()/3600] = append(g.later[c.ts.Unix()/3600], c)
}

// tsJSON renders an impression timestamp the ways producers send it.
func (g *generator) tsJSON(ts time.Time, fc *FeedCounts) string {
	switch x := g.rng.IntN(10); {
	case x == 0:
		fc.Kinds["ts_epoch_ms"]++
		return strconv.FormatInt(ts.UnixMilli(), 10)
	case x == 1:
		fc.Kinds["ts_offset"]++
		return strconv.Quote(ts.In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-07:00"))
	default:
		return strconv.Quote(ts.Format("2006-01-02T15:04:05.000Z"))
	}
}

func (g *generator) impressionLine(im *impression, ts string, fc *FeedCounts, omitCreative bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"impression_id":` + strconv.Quote(im.id) + `,"ts":` + ts)
	if im.user != "" {
		b.WriteString(`,"user_id":` + strconv.Quote(im.user))
	} else if g.pct(50) {
		b.WriteString(`,"user_id":null`)
	}
	if !omitCreative {
		b.WriteString(`,"creative_id":` + strconv.Quote(im.creative))
	}
	domain, dtype := im.domain, g.deviceType()
	if g.o.Defects && g.pct(5) {
		domain, dtype = strings.ToUpper(domain[:1])+domain[1:], strings.ToUpper(dtype)
		fc.Kinds["odd_case"]++
	}
	fmt.Fprintf(&b, `,"site":{"domain":%q,"page":"https://%s/a/%d"}`, domain, im.domain, g.rng.IntN(500))
	if im.request != "" {
		b.WriteString(`,"request_id":` + strconv.Quote(im.request))
	} else {
		b.WriteString(`,"request_id":null`)
	}
	fmt.Fprintf(&b, `,"win_price_cpm_micros":%d,"currency":%q,"device":{"type":%q,"ua":%q,"ip":%q},"geo":{"country":%q,"region":"R%d"}`,
		im.price, im.cur, dtype, im.ua, im.ip, countries2[im.country], im.country)
	if g.pct(30) {
		fmt.Fprintf(&b, `,"viewability":%.2f`, g.rng.Float64())
		fc.Kinds["unknown_field"]++
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func (g *generator) deviceType() string {
	x := g.rng.IntN(100)
	for _, d := range deviceTypes {
		if x < d.pct {
			return d.name
		}
		x -= d.pct
	}
	return "other"
}

// writeImpressions writes the hour's impressions in two files (one
// gzipped), with the hour's defects in the first.
func (g *generator) writeImpressions(ctx context.Context, h time.Time, idx int, imps []impression) error {
	feed := g.m.Feeds[schema.Impressions.Name]
	var parts [2]bytes.Buffer
	counts := [2]*FeedCounts{newFeedCounts(), newFeedCounts()}
	held := g.held(schema.Impressions.Name, h)
	for i := range imps {
		p := i % 2
		im := &imps[i]
		lc := counts[p] // where the line's counts by kind go
		if held {
			lc = newFeedCounts()
		}
		line := g.impressionLine(im, g.tsJSON(im.ts, lc), lc, false)
		parts[p].Write(line)
		counts[p].Records++
		counts[p].BronzeRows++
		counts[p].Valid++
		if im.bot {
			lc.Kinds["bot"]++
		}
		if held {
			for k, v := range lc.Kinds {
				counts[p].Kinds[k] += v
			}
		}
		if g.anomalyAt(MissingReference, h) && im.creative == removedCreative {
			g.m.Anomaly.CreativeImpressions++
		}
		if len(g.dupImpressions) < 50 && g.pct(1) {
			e := pooled{line: line}
			if held {
				e.held, e.kinds = true, lc.Kinds
			}
			g.dupImpressions = append(g.dupImpressions, e)
		}
	}
	if g.o.Defects {
		g.impressionDefects(h, idx, &parts[0], counts[0])
	}
	if g.anomalyAt(RejectBurst, h) {
		k := int64((len(imps) + 1) / 2 / 4)
		for i := int64(0); i < k; i++ {
			fmt.Fprintf(&parts[0], `{"impression_id":"imp-burst-%02d-%d","ts":`+"\n", h.Hour(), i)
		}
		counts[0].Records += k
		counts[0].MalformedRows += k
		counts[0].MalformedRecords += k
		g.m.Anomaly.Records += k
		g.m.Anomaly.Files++
	}
	for p := range parts {
		name := fmt.Sprintf("imp-%02d-%d.json", h.Hour(), p)
		gz := p == 1
		if gz {
			name += ".gz"
			counts[p].Gzipped++
		}
		if g.held(schema.Impressions.Name, h) {
			g.hold(counts[p])
			continue
		}
		data, err := g.put(ctx, landing.Key(schema.Impressions.Name, h, name), parts[p].Bytes(), gz)
		if err != nil {
			return err
		}
		counts[p].Files, counts[p].Bytes = 1, int64(len(data))
		feed.add(counts[p])
		if p == 0 && g.anomalyAt(DuplicateBurst, h) {
			if _, err := g.put(ctx, landing.Key(schema.Impressions.Name, h, fmt.Sprintf("imp-%02d-0-again.json", h.Hour())), data, false); err != nil {
				return err
			}
			feed.addCopy(counts[p])
			g.m.Anomaly.Files++
			g.m.Anomaly.Records += counts[p].Valid + counts[p].Duplicates + counts[p].OrderDuplicates
		}
		if g.o.Defects && idx == 1 && p == 0 {
			g.redeliverData, g.redeliverCount = data, counts[p]
		}
	}
	if !g.o.Defects {
		return nil
	}
	if h.Hour() == 3 {
		if _, err := g.put(ctx, landing.Key(schema.Impressions.Name, h, "imp-empty.json"), nil, false); err != nil {
			return err
		}
		feed.Files++
		feed.EmptyFiles++
	}
	if idx == 7 {
		garbage := []byte("\x1f\x8bthis is not a gzip stream, only its magic is")
		if _, err := g.put(ctx, landing.Key(schema.Impressions.Name, h, "imp-corrupt.json.gz"), garbage, false); err != nil {
			return err
		}
		feed.Files++
		feed.UnreadableFiles++
		feed.Gzipped++
		feed.Bytes += int64(len(garbage))
	}
	if h.Hour() == 23 {
		if _, err := g.put(ctx, landing.Key(schema.Impressions.Name, h, "_SUCCESS"), nil, false); err != nil {
			return err
		}
		g.m.Ignored[landing.IgnoreMarker]++
	}
	return nil
}

// impressionDefects appends the hour's injected bad impressions to buf.
func (g *generator) impressionDefects(h time.Time, idx int, buf *bytes.Buffer, fc *FeedCounts) {
	bad := func(line string) {
		buf.WriteString(line)
		fc.Records++
		fc.BronzeRows++
	}
	im := g.newImpression(h)
	quoted := func(t time.Time) string { return strconv.Quote(t.Format(time.RFC3339Nano)) }
	if idx%4 == 0 {
		buf.WriteString(`{"impression_id":"` + im.id + `","ts":"2026-11-25T13:4` + "\n")
		fc.Records++
		fc.MalformedRows++
		fc.MalformedRecords++
	}
	if idx%6 == 1 {
		bad(string(g.impressionLine(&im, quoted(im.ts), newFeedCounts(), true)))
		fc.MissingRequired++
	}
	im = g.newImpression(h)
	switch idx % 8 {
	case 2:
		bad(string(g.impressionLine(&im, `"yesterday"`, newFeedCounts(), false)))
		fc.InvalidTimestamp++
	case 3:
		bad(string(g.impressionLine(&im, quoted(h.Add(2*time.Hour)), newFeedCounts(), false)))
		fc.FutureTimestamp++
	case 4:
		bad(string(g.impressionLine(&im, quoted(h.AddDate(0, 0, -40)), newFeedCounts(), false)))
		fc.TooLate++
	}
	if idx%12 == 5 {
		im = g.newImpression(h)
		im.price = -1000
		bad(string(g.impressionLine(&im, quoted(im.ts), newFeedCounts(), false)))
		fc.InvalidValue++
	}
	if idx%5 == 0 {
		im = g.newImpression(h)
		im.creative = UnknownCreative
		bad(string(g.impressionLine(&im, quoted(im.ts), newFeedCounts(), false)))
		fc.Valid++
		fc.Kinds["unknown_creative"]++
	}
	if idx%3 == 2 && len(g.dupImpressions) > 0 {
		d := &g.dupImpressions[g.rng.IntN(len(g.dupImpressions))]
		bad(string(d.line))
		if d.held && !g.held(schema.Impressions.Name, h) {
			// Its original was held back: this copy is the valid one.
			d.held = false
			fc.Valid++
			for k, v := range d.kinds {
				fc.Kinds[k] += v
			}
			g.m.Anomaly.HeldResent++
		} else {
			fc.Duplicates++
		}
	}
}

// writeClicks writes the clicks and conversions arriving in hour h.
func (g *generator) writeClicks(ctx context.Context, h time.Time, idx int) error {
	evs := g.later[h.Unix()/3600]
	delete(g.later, h.Unix()/3600)
	fc := newFeedCounts()
	rows := make([][]string, 0, len(evs)+8)
	orphans := map[string]int64{} // clicks and conversions of held-back impressions
	for _, e := range evs {
		rows = append(rows, g.csvRow(e))
		fc.Records++
		fc.BronzeRows++
		fc.Valid++
		fc.Kinds[e.typ]++
		if e.orphan {
			orphans[e.typ]++
		}
		if e.typ == "click" && len(g.dupClicks) < 50 && g.pct(5) {
			g.dupClicks = append(g.dupClicks, e)
		}
		if e.order != "" && len(g.orders) < 50 {
			g.orders = append(g.orders, e)
		}
	}
	var extra []string // raw lines with a wrong field count
	if g.o.Defects {
		rows, extra = g.clickDefects(h, idx, rows, fc)
	}
	if g.anomalyAt(OrphanClicks, h) {
		for _, e := range g.orphanClicks(h) {
			e.tsText = e.ts.Format(time.RFC3339)
			rows = append(rows, []string{e.id, e.typ, e.tsText, e.user, e.campaign, "", "", "", "", "", e.domain, e.ua, e.ip})
			fc.Records++
			fc.BronzeRows++
			fc.Valid++
			fc.Kinds["click"]++
			g.m.Anomaly.Records++
			g.m.Anomaly.OrphanClicks++
		}
	}
	newCol := g.anomalyAt(NewCSVColumn, h)
	header := append([]string(nil), schema.ClicksConversionsColumns...)
	perm := identity(len(header))
	if g.o.Defects && idx%24 == 13 {
		// Another column order and a column the contract does not name.
		g.rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		fc.Kinds["reordered_file"]++
	}
	addCoupon := g.o.Defects && idx%24 == 13
	var source string // the new_csv_column value of the row being written
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	write := func(rec []string, coupon string) {
		out := make([]string, len(perm), len(perm)+1)
		for i, p := range perm {
			out[i] = rec[p]
		}
		if addCoupon {
			out = append(out, coupon)
		}
		if newCol {
			out = append(out[:3], append([]string{source}, out[3:]...)...)
		}
		_ = w.Write(out) // writes to a bytes.Buffer cannot fail
	}
	source = "click_source"
	write(header, "coupon")
	for i, r := range rows {
		source = [2]string{"organic", "paid"}[i%2]
		write(r, map[bool]string{true: "SAVE10", false: ""}[i%3 == 0])
	}
	w.Flush()
	for _, l := range extra {
		buf.WriteString(l)
	}
	name := fmt.Sprintf("clk-%02d.csv", h.Hour())
	gz := idx%3 == 0
	if gz {
		name += ".gz"
		fc.Gzipped++
	}
	if g.held(schema.ClicksConversions.Name, h) {
		g.hold(fc)
		return nil
	}
	if newCol {
		g.m.Anomaly.Files++
	}
	data, err := g.put(ctx, landing.Key(schema.ClicksConversions.Name, h, name), buf.Bytes(), gz)
	if err != nil {
		return err
	}
	fc.Files, fc.Bytes = 1, int64(len(data))
	g.m.Feeds[schema.ClicksConversions.Name].add(fc)
	if a := g.m.Anomaly; a != nil {
		a.OrphanClicks += orphans["click"]
		a.OrphanConversions += orphans["conversion"]
		if g.anomalyAt(StalledFeed, h) {
			a.LastFileHour = h.Hour()
		}
	}
	if g.o.Defects && h.Hour() == 22 {
		if _, err := g.put(ctx, landing.Key(schema.ClicksConversions.Name, h, "clk-upload.csv.tmp"), []byte("partial"), false); err != nil {
			return err
		}
		g.m.Ignored[landing.IgnoreTemporary]++
	}
	return nil
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// csvRow renders e in contract column order, event_ts in the three
// accepted formats.
func (g *generator) csvRow(e csvEvent) []string {
	ts := e.tsText
	if ts == "" {
		switch x := g.rng.IntN(10); {
		case x < 6:
			ts = e.ts.Format("2006-01-02T15:04:05.000Z07:00")
		case x < 9:
			ts = e.ts.Format("2006-01-02 15:04:05.000")
		default:
			ts = strconv.FormatInt(e.ts.UnixMilli(), 10)
		}
	}
	return []string{e.id, e.typ, ts, e.user, e.campaign, e.creative, e.convType, e.value, e.cur, e.order, e.domain, e.ua, e.ip}
}

// clickDefects appends the hour's injected bad rows.
func (g *generator) clickDefects(h time.Time, idx int, rows [][]string, fc *FeedCounts) ([][]string, []string) {
	var extra []string
	fresh := func() csvEvent {
		camp := g.ref.campaigns[g.rng.IntN(len(g.ref.campaigns))].id
		return csvEvent{id: g.id("clk"), typ: "click", ts: h.Add(time.Duration(g.rng.IntN(3600)) * time.Second),
			user: "u-00001", campaign: camp, domain: "site001.example.com", ua: userAgents[0], ip: "198.51.100.1"}
	}
	bad := func(e csvEvent, counter *int64) {
		if g.pct(30) {
			e.typ = strings.ToUpper(e.typ) // odd casing on the way
		}
		rows = append(rows, g.csvRow(e))
		fc.Records++
		fc.BronzeRows++
		*counter++
	}
	if idx%4 == 1 {
		extra = append(extra, "clk-broken,click,"+h.Format(time.RFC3339)+"\n")
		fc.Records++
		fc.MalformedRows++
		fc.MalformedRecords++
	}
	if idx%6 == 2 {
		e := fresh()
		e.campaign = ""
		bad(e, &fc.MissingRequired)
	}
	switch idx % 8 {
	case 5:
		e := fresh()
		e.tsText = "31/11/2026 13:00"
		bad(e, &fc.InvalidTimestamp)
	case 6:
		e := fresh()
		e.ts = h.Add(3 * time.Hour)
		bad(e, &fc.FutureTimestamp)
	case 7:
		e := fresh()
		e.ts = h.AddDate(0, 0, -31)
		bad(e, &fc.TooLate)
	}
	switch idx % 12 {
	case 8:
		e := fresh()
		e.typ = "view"
		bad(e, &fc.InvalidValue)
	case 9:
		e := fresh()
		e.typ, e.convType, e.cur = "conversion", "refund", "USD"
		bad(e, &fc.InvalidValue)
		fc.Kinds["refund_conversion"]++ // rejected unless "refund" is accepted
	case 10:
		e := fresh()
		e.typ, e.convType, e.value, e.cur = "conversion", "purchase", "-15.00", "USD"
		bad(e, &fc.InvalidValue)
	}
	if idx%3 == 1 && len(g.dupClicks) > 0 {
		d := g.dupClicks[g.rng.IntN(len(g.dupClicks))]
		rows = append(rows, g.csvRow(d))
		fc.Records++
		fc.BronzeRows++
		fc.Duplicates++
	}
	if idx%12 == 11 && len(g.orders) > 0 {
		o := g.orders[g.rng.IntN(len(g.orders))]
		o.id = g.id("cnv")
		o.ts = h.Add(time.Duration(g.rng.IntN(3600)) * time.Second)
		rows = append(rows, g.csvRow(o))
		fc.Records++
		fc.BronzeRows++
		fc.OrderDuplicates++
	}
	return rows, extra
}

// redeliver writes one impressions file again under another name, hours
// later, as producers sometimes do.
func (g *generator) redeliver(ctx context.Context) error {
	if g.redeliverData == nil {
		return nil
	}
	last := g.o.Start.AddDate(0, 0, g.o.Days).Add(-time.Hour)
	key := landing.Key(schema.Impressions.Name, last, "imp-redelivered.json")
	if _, err := g.put(ctx, key, g.redeliverData, false); err != nil {
		return err
	}
	g.m.Feeds[schema.Impressions.Name].addCopy(g.redeliverCount)
	return nil
}
