package gen

import (
	"fmt"
	"slices"
	"time"

	"github.com/advertisex/adlake/schema"
)

// Anomalies a run can inject on its last day, for the data-quality checks
// (docs/quality.md). Each changes only what is written, never the random
// stream: running the same generation again without the anomaly writes the
// same files under the same keys plus what the anomaly held back, which is
// how a test "fixes" dropped_hour and stalled_feed (a late delivery).
const (
	// DroppedHour writes no impressions files for arrival hour 13.
	DroppedHour = "dropped_hour"
	// StalledFeed writes no clicks_conversions files from arrival hour 06 on.
	StalledFeed = "stalled_feed"
	// NewCSVColumn adds the column click_source (4th) to every
	// clicks_conversions file.
	NewCSVColumn = "new_csv_column"
	// AvroV2 writes every bid_requests file with contract v2.
	AvroV2 = "avro_v2"
	// DuplicateBurst re-delivers the first impressions file of every hour
	// under another name.
	DuplicateBurst = "duplicate_burst"
	// MissingReference leaves creative cr-0001 out of the day's
	// creatives.csv snapshot.
	MissingReference = "missing_reference"
	// RejectBurst adds one malformed line per four lines to the first
	// impressions file of every hour.
	RejectBurst = "reject_burst"
	// OrphanClicks adds two clicks per hour by users with no impression.
	OrphanClicks = "orphan_clicks"
)

// Anomalies lists the anomaly kinds.
var Anomalies = []string{DroppedHour, StalledFeed, NewCSVColumn, AvroV2, DuplicateBurst, MissingReference, RejectBurst, OrphanClicks}

// Hours of the last day the anomalies start at.
const (
	droppedHour = 13
	stallHour   = 6
)

// removedCreative is the creative MissingReference drops from ref.creatives.
const removedCreative = "cr-0001"

// AnomalyInfo is what an anomaly did, in exact counts.
type AnomalyInfo struct {
	Kind string `json:"kind"`
	Feed string `json:"feed"`
	Date string `json:"date"` // the last day, YYYY-MM-DD
	// Hour is the arrival hour it starts at (dropped_hour, stalled_feed);
	// -1 when it spans the day.
	Hour int `json:"hour"`
	// HeldFiles and HeldRecords were not written (dropped_hour,
	// stalled_feed); they are not in the manifest's counts.
	HeldFiles   int   `json:"held_files,omitempty"`
	HeldRecords int64 `json:"held_records,omitempty"`
	// HeldResent (dropped_hour, with Defects): held-back impressions a
	// later file re-sends as a duplicate; that copy is the one written, so
	// the manifest counts it as valid, not as a duplicate (and the run
	// without the anomaly as a duplicate again).
	HeldResent int64 `json:"held_resent,omitempty"`
	// LastFileHour (stalled_feed) is the arrival hour of the feed's last
	// file written on the day (Hour-1); -1 otherwise.
	LastFileHour int `json:"last_file_hour"`
	// OrphanClicks and OrphanConversions are valid clicks and conversions
	// written whose impression was never written: the extra clicks of
	// orphan_clicks (= Records), and for dropped_hour the clicks and
	// conversions scheduled from the held-back impressions that arrive
	// within the generated range (scheduled as usual; mostly in hours
	// 13-14, conversions also up to 48 h later, beyond the range unwritten).
	OrphanClicks      int64 `json:"orphan_clicks,omitempty"`
	OrphanConversions int64 `json:"orphan_conversions,omitempty"`
	// Files is how many files it changed or added.
	Files int `json:"files,omitempty"`
	// Records is how many records it added: duplicates (duplicate_burst),
	// malformed lines (reject_burst), orphan clicks (orphan_clicks).
	Records int64 `json:"records,omitempty"`
	// Column is the column new_csv_column added.
	Column string `json:"column,omitempty"`
	// Creative and CreativeImpressions: the creative missing_reference
	// dropped and the valid impressions of it on the day.
	Creative            string `json:"creative,omitempty"`
	CreativeImpressions int64  `json:"creative_impressions,omitempty"`
}

// ValidAnomaly reports whether kind is an anomaly ("" is none).
func ValidAnomaly(kind string) bool { return kind == "" || slices.Contains(Anomalies, kind) }

// anomalyFeed is the feed each anomaly is about.
var anomalyFeed = map[string]string{
	DroppedHour: schema.Impressions.Name, StalledFeed: schema.ClicksConversions.Name, NewCSVColumn: schema.ClicksConversions.Name,
	AvroV2: schema.BidRequests.Name, DuplicateBurst: schema.Impressions.Name, MissingReference: schema.Impressions.Name,
	RejectBurst: schema.Impressions.Name, OrphanClicks: schema.ClicksConversions.Name,
}

func newAnomalyInfo(o Options) *AnomalyInfo {
	if o.Anomaly == "" {
		return nil
	}
	a := &AnomalyInfo{Kind: o.Anomaly, Feed: anomalyFeed[o.Anomaly], Date: o.lastDay().Format(time.DateOnly), Hour: -1, LastFileHour: -1}
	switch o.Anomaly {
	case DroppedHour:
		a.Hour = droppedHour
	case StalledFeed:
		a.Hour = stallHour
	case NewCSVColumn:
		a.Column = "click_source"
	case MissingReference:
		a.Creative = removedCreative
	}
	return a
}

func (o Options) lastDay() time.Time { return o.Start.AddDate(0, 0, o.Days-1) }

// anomalyAt reports whether anomaly kind applies in arrival hour h.
func (g *generator) anomalyAt(kind string, h time.Time) bool {
	return g.o.Anomaly == kind && !h.Before(g.o.lastDay())
}

// held reports whether the files of feed for arrival hour h are held back.
func (g *generator) held(feed string, h time.Time) bool {
	switch feed {
	case schema.Impressions.Name:
		return g.anomalyAt(DroppedHour, h) && h.Hour() == droppedHour
	case schema.ClicksConversions.Name:
		return g.anomalyAt(StalledFeed, h) && h.Hour() >= stallHour
	}
	return false
}

// hold counts a held-back file.
func (g *generator) hold(fc *FeedCounts) {
	g.m.Anomaly.HeldFiles++
	g.m.Anomaly.HeldRecords += fc.Records
}

// orphanClicks are the extra clicks of hour h (two, by users that never
// had an impression); deterministic, so they take nothing from the
// random stream.
func (g *generator) orphanClicks(h time.Time) []csvEvent {
	var out []csvEvent
	for i := 0; i < 2; i++ {
		camp := g.ref.campaigns[(h.Hour()*2+i)%len(g.ref.campaigns)].id
		out = append(out, csvEvent{id: fmt.Sprintf("clk-orphan-%02d-%d", h.Hour(), i), typ: "click",
			ts: h.Add(time.Duration(10+i*20) * time.Minute), user: fmt.Sprintf("u-orphan-%02d%d", h.Hour(), i),
			campaign: camp, domain: "site001.example.com", ua: userAgents[0], ip: "198.51.100.7"})
	}
	return out
}
