package ingest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/objstore"
)

type feedSummary struct {
	Feed             string           `json:"feed"`
	Files            int              `json:"files"`
	FilesUnreadable  int              `json:"files_unreadable"`
	AlreadyCommitted int              `json:"already_committed"`
	Bytes            int64            `json:"bytes"`
	Rows             int64            `json:"rows"`
	Rejects          int64            `json:"quarantined"`
	ByReason         map[string]int64 `json:"quarantined_by_reason"`
	Ignored          map[string]int   `json:"ignored"`
	Commits          int              `json:"commits"`
	Seconds          float64          `json:"seconds"`
	Error            string           `json:"error,omitempty"`
}

type silverSummary struct {
	Feed       string           `json:"feed"`
	RowsIn     int64            `json:"bronze_rows"`
	Valid      map[string]int64 `json:"rows_by_table"`
	Rejected   map[string]int64 `json:"rejected_by_reason"`
	Duplicates map[string]int64 `json:"duplicates_by_key"`
	Commits    int              `json:"commits"`
	Seconds    float64          `json:"seconds"`
}

func (r Report) feedSummaries() []feedSummary {
	out := make([]feedSummary, 0, len(r.Bronze.Feeds))
	for _, f := range r.Bronze.Feeds {
		out = append(out, feedSummary{Feed: f.Feed, Files: f.Files, FilesUnreadable: f.FilesUnreadable, AlreadyCommitted: f.AlreadyCommitted,
			Bytes: f.Bytes, Rows: f.Rows, Rejects: f.Rejects, ByReason: f.ByReason, Ignored: f.Ignored, Commits: f.Commits,
			Seconds: f.Ended.Sub(f.Started).Seconds(), Error: errText(f.Err)})
	}
	return out
}

// WriteJSON prints the run's summary as one JSON object: run_id, feeds
// (bronze) and silver.
func (r Report) WriteJSON(w io.Writer) error {
	ss := []silverSummary{}
	for _, f := range r.Silver.Feeds {
		ss = append(ss, silverSummary{Feed: f.Feed, RowsIn: f.RowsIn, Valid: f.Valid, Rejected: f.Rejected,
			Duplicates: f.Duplicates, Commits: f.Commits, Seconds: f.Ended.Sub(f.Started).Seconds()})
	}
	data, err := json.MarshalIndent(map[string]any{"run_id": r.RunID, "feeds": r.feedSummaries(), "silver": ss}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}

// WriteText prints the run's summary for people: bronze per feed, silver
// per feed, and the data-quality results that did not pass.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "run %s\n\n", r.RunID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "feed\tfiles\tunreadable\tskipped (done)\tbytes\trows\tquarantined\tignored\tcommits\tseconds\t")
	sums := r.feedSummaries()
	for _, s := range sums {
		ignored := 0
		for _, n := range s.Ignored {
			ignored += n
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%.1f\t\n", s.Feed, s.Files, s.FilesUnreadable, s.AlreadyCommitted,
			objstore.HumanSize(s.Bytes), s.Rows, s.Rejects, ignored, s.Commits, s.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sums {
		for _, k := range sortedKeys(s.ByReason) {
			fmt.Fprintf(w, "  quarantined %s/%s: %d\n", s.Feed, k, s.ByReason[k])
		}
		if s.Error != "" {
			fmt.Fprintf(w, "  %s FAILED: %s\n", s.Feed, s.Error)
		}
	}
	if err := r.Silver.WriteText(w); err != nil {
		return err
	}
	var bad []quality.Result
	for _, c := range r.Checks {
		if c.Status != quality.Pass {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintln(w, "\ndata quality")
		return quality.WriteText(w, bad, true)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
