package gen

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/advertisex/adlake/schema"
)

// Manifest is what a generator run wrote: the exact counts tests assert
// against. Every count is of records the generator itself wrote, so they
// hold for any seed and scale.
type Manifest struct {
	Seed              uint64                 `json:"seed"`
	Start             string                 `json:"start"`
	Days              int                    `json:"days"`
	ImpressionsPerDay int                    `json:"impressions_per_day"`
	Defects           bool                   `json:"defects"`
	Feeds             map[string]*FeedCounts `json:"feeds"`
	Reference         map[string]int         `json:"reference_rows"`
	// Ignored counts objects that are no landing files (markers, temp files).
	Ignored map[string]int `json:"ignored"`
	// Anomaly is what Options.Anomaly injected; nil without one.
	Anomaly *AnomalyInfo `json:"anomaly,omitempty"`
}

// FeedCounts are the counts of one feed. Bronze-level counts first:
//
//	Records = BronzeRows + MalformedRecords  (records in readable files)
//
// and the unreadable files hold records nobody can count. Silver-level
// counts (what the silver rules must find) follow; they are disjoint kinds
// of injected records, each counted once per copy written.
type FeedCounts struct {
	Files            int   `json:"files"`             // landing files, including empty, unreadable and re-delivered
	Bytes            int64 `json:"bytes"`             // landing bytes
	Records          int64 `json:"records"`           // records in readable files
	BronzeRows       int64 `json:"bronze_rows"`       // records that parse
	MalformedRows    int64 `json:"malformed_rows"`    // quarantine rows for unparseable records (an Avro block is one row)
	MalformedRecords int64 `json:"malformed_records"` // records inside them
	UnreadableFiles  int   `json:"unreadable_files"`  // files quarantined whole
	EmptyFiles       int   `json:"empty_files"`
	Gzipped          int   `json:"gzipped_files"`

	// Silver-level: records that parse but must be rejected, by reason.
	MissingRequired  int64 `json:"missing_required"`
	InvalidTimestamp int64 `json:"invalid_timestamp"`
	FutureTimestamp  int64 `json:"future_timestamp"`
	TooLate          int64 `json:"too_late"`
	InvalidValue     int64 `json:"invalid_value"` // negative price or value, unknown event_type or conversion_type
	// Duplicates are copies of valid events (same id) written again: in a
	// later file, or by re-delivering a whole file under another name.
	Duplicates int64 `json:"duplicates"`
	// OrderDuplicates are conversions with a new event_id but the
	// (campaign_id, conversion_type, order_id) of an earlier one.
	OrderDuplicates int64 `json:"order_duplicates"`
	// Valid are distinct valid events: what silver must hold.
	Valid int64 `json:"valid"`
	// Of the valid events, by kind (clicks_conversions: "click",
	// "conversion"; impressions: "bot", "unknown_creative"; formats ...);
	// and "refund_conversion": the rejected conversions of type "refund"
	// (part of InvalidValue), which a replay accepting "refund" takes.
	Kinds map[string]int64 `json:"kinds"`
}

func newFeedCounts() *FeedCounts { return &FeedCounts{Kinds: map[string]int64{}} }

// add adds the counts of o (a re-delivered copy) to c, turning o's valid
// events into duplicates.
func (c *FeedCounts) addCopy(o *FeedCounts) {
	c.Files++
	c.Bytes += o.Bytes
	c.Records += o.Records
	c.BronzeRows += o.BronzeRows
	c.MalformedRows += o.MalformedRows
	c.MalformedRecords += o.MalformedRecords
	c.MissingRequired += o.MissingRequired
	c.InvalidTimestamp += o.InvalidTimestamp
	c.FutureTimestamp += o.FutureTimestamp
	c.TooLate += o.TooLate
	c.InvalidValue += o.InvalidValue
	c.Duplicates += o.Duplicates + o.Valid + o.OrderDuplicates
}

// add accumulates a file's counts into the feed's.
func (c *FeedCounts) add(o *FeedCounts) {
	c.Files += o.Files
	c.Bytes += o.Bytes
	c.Records += o.Records
	c.BronzeRows += o.BronzeRows
	c.MalformedRows += o.MalformedRows
	c.MalformedRecords += o.MalformedRecords
	c.UnreadableFiles += o.UnreadableFiles
	c.EmptyFiles += o.EmptyFiles
	c.Gzipped += o.Gzipped
	c.MissingRequired += o.MissingRequired
	c.InvalidTimestamp += o.InvalidTimestamp
	c.FutureTimestamp += o.FutureTimestamp
	c.TooLate += o.TooLate
	c.InvalidValue += o.InvalidValue
	c.Duplicates += o.Duplicates
	c.OrderDuplicates += o.OrderDuplicates
	c.Valid += o.Valid
	for k, v := range o.Kinds {
		c.Kinds[k] += v
	}
}

// WriteText prints the manifest's counts per feed for people; where names
// the landing zone written.
func (m *Manifest) WriteText(w io.Writer, where string) error {
	fmt.Fprintf(w, "generated %d day(s) from %s into %s (seed %d, defects %v)\n\n", m.Days, m.Start, where, m.Seed, m.Defects)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "feed\tfiles\trecords\tbronze rows\tmalformed\tunreadable files\tvalid\tduplicates\t")
	for _, feed := range schema.FeedNames() {
		f := m.Feeds[feed]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", feed, f.Files, f.Records, f.BronzeRows, f.MalformedRecords, f.UnreadableFiles, f.Valid, f.Duplicates)
	}
	return tw.Flush()
}
