package gen

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/advertisex/adlake/lake/landing"
)

type campaign struct {
	id, advertiser, currency, goal, status string
	budget                                 int64
}

type creative struct {
	id       string
	campaign int // index into campaigns
	format   string
	w, h     int
	landing  string
}

type site struct{ domain, publisher, category string }

type reference struct {
	campaigns []campaign
	creatives []creative
	sites     []site
}

// UnknownCreative is the creative id the defects use that no reference
// snapshot lists.
const UnknownCreative = "cr-9999"

func newReference(rng *rand.Rand) reference {
	var r reference
	goals := []string{"cpa", "cpc", "cpm"}
	for i := 0; i < 40; i++ {
		cur := "USD"
		if i%8 == 7 {
			cur = "EUR"
		}
		status := "active"
		if i%13 == 12 {
			status = "paused"
		}
		r.campaigns = append(r.campaigns, campaign{
			id: fmt.Sprintf("cmp-%03d", i+1), advertiser: fmt.Sprintf("adv-%02d", i%10+1), currency: cur,
			goal: goals[i%3], status: status, budget: int64(500+rng.IntN(5000)) * 1_000_000,
		})
	}
	formats := []struct {
		f    string
		w, h int
	}{{"banner", 300, 250}, {"banner", 728, 90}, {"video", 640, 360}, {"native", 1200, 627}}
	for i := 0; i < len(r.campaigns)*3; i++ {
		f := formats[i%len(formats)]
		r.creatives = append(r.creatives, creative{id: fmt.Sprintf("cr-%04d", i+1), campaign: i / 3,
			format: f.f, w: f.w, h: f.h, landing: fmt.Sprintf("shop%02d.example.com", i/3%20+1)})
	}
	for i := 0; i < 300; i++ {
		r.sites = append(r.sites, site{domain: fmt.Sprintf("site%03d.example.com", i+1),
			publisher: fmt.Sprintf("pub-%02d", i%25+1), category: fmt.Sprintf("IAB%d", i%19+1)})
	}
	return r
}

// writeReference writes one full snapshot of each reference file per
// generated day (the newest dt wins downstream), and fx rates covering
// 35 days before the start to the end.
func (g *generator) writeReference(ctx context.Context) error {
	r := g.ref
	files := map[string][][]string{
		"campaigns": {{"campaign_id", "advertiser_id", "campaign_name", "start_date", "end_date", "daily_budget_micros", "currency", "goal", "status"}},
		"creatives": {{"creative_id", "campaign_id", "format", "width", "height", "landing_domain"}},
		"sites":     {{"site_domain", "publisher_id", "iab_category"}},
		"fx_rates":  {{"date", "currency", "usd_per_unit"}},
	}
	start, end := g.o.Start, g.o.Start.AddDate(0, 0, g.o.Days)
	for _, c := range r.campaigns {
		files["campaigns"] = append(files["campaigns"], []string{c.id, c.advertiser, "Campaign " + c.id,
			start.AddDate(0, 0, -30).Format(time.DateOnly), end.AddDate(0, 0, 60).Format(time.DateOnly),
			strconv.FormatInt(c.budget, 10), c.currency, c.goal, c.status})
	}
	for _, c := range r.creatives {
		files["creatives"] = append(files["creatives"], []string{c.id, r.campaigns[c.campaign].id, c.format,
			strconv.Itoa(c.w), strconv.Itoa(c.h), c.landing})
	}
	for _, s := range r.sites {
		files["sites"] = append(files["sites"], []string{s.domain, s.publisher, s.category})
	}
	eur, gbp := 1.08, 1.27
	for d := start.AddDate(0, 0, -35); d.Before(end); d = d.AddDate(0, 0, 1) {
		eur *= 1 + (g.rng.Float64()-0.5)/100
		gbp *= 1 + (g.rng.Float64()-0.5)/100
		day := d.Format(time.DateOnly)
		files["fx_rates"] = append(files["fx_rates"], []string{day, "USD", "1.000000"},
			[]string{day, "EUR", strconv.FormatFloat(eur, 'f', 6, 64)}, []string{day, "GBP", strconv.FormatFloat(gbp, 'f', 6, 64)})
	}
	for _, name := range []string{"campaigns", "creatives", "sites", "fx_rates"} {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(files[name]); err != nil {
			return err
		}
		g.m.Reference[name] = len(files[name]) - 1
		for d := 0; d < g.o.Days; d++ {
			data := buf.Bytes()
			if name == "creatives" && d == g.o.Days-1 && g.o.Anomaly == MissingReference {
				data = withoutRow(data, removedCreative+",")
				g.m.Reference[name]--
			}
			key := landing.Key(landing.ReferencePrefix+name, start.AddDate(0, 0, d), name+".csv")
			if _, err := g.put(ctx, key, data, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// withoutRow drops the CSV line starting with prefix.
func withoutRow(data []byte, prefix string) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte(prefix)) {
			out = append(out, line...)
		}
	}
	return out
}
