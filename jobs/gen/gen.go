// Package gen generates landing data exactly per SPEC §1: the three event
// feeds and the four reference snapshots, for a date range, at a chosen
// scale, deterministically from a seed. With Defects it also injects every
// kind of bad input the SPEC names. It returns a Manifest of what it wrote,
// so tests assert exact numbers derived from the generator, not guesses.
//
// Shapes: users and sites are Zipf-distributed, traffic follows a diurnal
// curve, CTR is about 2 %, conversions follow clicks (about 8 %) and views,
// most impressions come from RTB bid requests we won, and about 2 % of
// traffic is from known crawlers.
//
// With Anomaly (one kind, Anomalies) the last day of the range carries a
// data-quality anomaly for the quality checks; everything before it is
// byte-identical to a run without, and the anomaly never draws from the
// random stream: events are generated as usual, only what is written
// changes, so the same run without the anomaly writes the same files
// under the same keys plus whatever the anomaly held back (a late
// delivery, which is how a test fixes dropped_hour and stalled_feed):
//
//   - dropped_hour: no impressions files for arrival hour 13; their clicks
//     and conversions are written as usual (orphans, counted).
//   - stalled_feed: no clicks_conversions files from arrival hour 06 on.
//   - new_csv_column: every clicks_conversions file has the column
//     click_source (organic/paid) 4th, in the header and every row.
//   - avro_v2: every bid_requests file is written with contract v2.
//   - duplicate_burst: the first impressions file of every hour is
//     delivered again in the same hour as imp-HH-0-again.json.
//   - missing_reference: the day's creatives.csv snapshot lacks cr-0001.
//   - reject_burst: the first impressions file of every hour gets one
//     malformed line per four of its impressions.
//   - orphan_clicks: two valid clicks per hour by users that never had an
//     impression, for existing campaigns.
//
// Manifest.Anomaly (AnomalyInfo) has the exact counts; the feed counts
// include the anomaly's records like any others.
//
// Memory is bounded by one hour of events: files are generated hour by
// hour; only clicks and conversions scheduled for later hours are kept.
package gen

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// Options configure Run.
type Options struct {
	Seed              uint64    // default 1
	Start             time.Time // first day (UTC midnight); default 2026-11-25
	Days              int       // default 1
	ImpressionsPerDay int       // default 20000
	Defects           bool      // inject bad input (see package doc)
	// Anomaly, if set, is one of Anomalies, injected on the last day.
	Anomaly string
	// Progress, if set, is called after each generated hour.
	Progress func(done, total int)
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	if o.Days <= 0 {
		o.Days = 1
	}
	if o.ImpressionsPerDay <= 0 {
		o.ImpressionsPerDay = 20000
	}
	if o.Progress == nil {
		o.Progress = func(int, int) {}
	}
	return o
}

// Run writes the landing data into b.
func Run(ctx context.Context, b objstore.Bucket, o Options) (*Manifest, error) {
	o = o.withDefaults()
	if !ValidAnomaly(o.Anomaly) {
		return nil, fmt.Errorf("gen: unknown anomaly %q (anomalies: %v)", o.Anomaly, Anomalies)
	}
	g := newGenerator(b, o)
	if err := g.writeReference(ctx); err != nil {
		return nil, err
	}
	hours := o.Days * 24
	for h := 0; h < hours; h++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := g.hour(ctx, o.Start.Add(time.Duration(h)*time.Hour)); err != nil {
			return nil, err
		}
		o.Progress(h+1, hours)
	}
	if o.Defects {
		if err := g.redeliver(ctx); err != nil {
			return nil, err
		}
	}
	return g.m, nil
}

// generator holds the state of one run.
type generator struct {
	o     Options
	b     objstore.Bucket
	rng   *rand.Rand
	m     *Manifest
	ref   reference
	users *rand.Zipf
	sites *rand.Zipf
	seq   int64             // id counter
	later map[int64][]event // clicks and conversions by arrival hour (unix hours)
	// dupPool keeps a few valid records of earlier hours to re-send.
	dupImpressions []pooled
	// heldHour is set while generating an hour whose impressions files
	// dropped_hour holds back: its clicks and conversions are orphans.
	heldHour       bool
	dupClicks      []csvEvent
	orders         []csvEvent // conversions with an order_id, for order-duplicates
	redeliverKey   string
	redeliverData  []byte
	redeliverCount *FeedCounts
}

func newGenerator(b objstore.Bucket, o Options) *generator {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	g := &generator{
		o: o, b: b, rng: rng, later: map[int64][]event{},
		m: &Manifest{
			Seed: o.Seed, Start: o.Start.Format(time.DateOnly), Days: o.Days, ImpressionsPerDay: o.ImpressionsPerDay,
			Defects: o.Defects, Reference: map[string]int{}, Ignored: map[string]int{},
			Anomaly: newAnomalyInfo(o),
			Feeds:   feedCounts(),
		},
	}
	g.ref = newReference(rng)
	g.users = rand.NewZipf(rng, 1.1, 2, 49999)
	g.sites = rand.NewZipf(rng, 1.2, 2, uint64(len(g.ref.sites)-1))
	return g
}

func (g *generator) id(prefix string) string {
	g.seq++
	return fmt.Sprintf("%s-%04x%08d", prefix, g.o.Seed&0xffff, g.seq)
}

// diurnal is the share of a day's traffic in each UTC hour.
func diurnal(hour int) float64 {
	return (1 + 0.6*math.Sin(float64(hour-8)/24*2*math.Pi)) / 24
}

// put stores data under key and counts it for feed.
func (g *generator) put(ctx context.Context, key string, data []byte, gz bool) ([]byte, error) {
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		data = buf.Bytes()
	}
	if err := g.b.Put(ctx, key, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	return data, nil
}

// feedCounts returns empty counts for every feed.
func feedCounts() map[string]*FeedCounts {
	out := map[string]*FeedCounts{}
	for _, f := range schema.Feeds {
		out[f.Name] = newFeedCounts()
	}
	return out
}
