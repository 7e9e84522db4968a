package schema

import (
	"fmt"
	"slices"
	"strings"
)

// Format is the encoding of a feed's landing files.
type Format string

// The landing formats (SPEC §1).
const (
	JSONLines Format = "jsonl"
	CSV       Format = "csv"
	Avro      Format = "avro"
)

// Feed declares one landing feed: everything about it that is not code.
// Every list of feeds in adlake derives from [Feeds]; adding a feed is one
// declaration here, plus its decoder (jobs/bronze/decode) and its silver
// rules (jobs/silver).
type Feed struct {
	// Name is the landing folder (<root>/<name>/dt=.../hr=...) and the
	// name of the bronze table.
	Name string
	// Format and Ext say how its files are encoded and named (".gz" may
	// follow Ext on any file).
	Format Format
	Ext    string
	// Bronze is the table its records land in, as received.
	Bronze Table
	// Silver lists the silver tables derived from it, in commit order.
	Silver []Table
}

// Targets returns the tables derived from f's bronze table, each of which
// records a watermark of it: the silver tables, then ops.quarantine.
func (f Feed) Targets() []Table { return append(slices.Clone(f.Silver), Quarantine) }

// The event feeds.
var (
	Impressions = Feed{Name: "impressions", Format: JSONLines, Ext: ".json",
		Bronze: BronzeImpressions, Silver: []Table{SilverImpressions}}
	ClicksConversions = Feed{Name: "clicks_conversions", Format: CSV, Ext: ".csv",
		Bronze: BronzeClicksConversions, Silver: []Table{SilverClicks, SilverConversions}}
	BidRequests = Feed{Name: "bid_requests", Format: Avro, Ext: ".avro",
		Bronze: BronzeBidRequests, Silver: []Table{SilverBidRequests}}
)

// Feeds lists the event feeds in ingestion order.
var Feeds = []Feed{Impressions, ClicksConversions, BidRequests}

// FeedNamed returns the feed called name.
func FeedNamed(name string) (Feed, bool) {
	for _, f := range Feeds {
		if f.Name == name {
			return f, true
		}
	}
	return Feed{}, false
}

// FeedNames returns the names of Feeds, in order.
func FeedNames() []string {
	out := make([]string, len(Feeds))
	for i, f := range Feeds {
		out[i] = f.Name
	}
	return out
}

// ParseFeeds resolves feed names (none: every feed, in order).
func ParseFeeds(names []string) ([]Feed, error) {
	var out []Feed
	for _, n := range names {
		f, ok := FeedNamed(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("unknown feed %q (feeds: %s)", n, strings.Join(FeedNames(), ", "))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return Feeds, nil
	}
	return out, nil
}
