package silver

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/advertisex/adlake/schema"
)

// RunRows returns the ops.runs rows of the report, one per feed, as job.
func (r Report) RunRows(job, version string) []schema.RunRow {
	var out []schema.RunRow
	for _, f := range r.Feeds {
		row := schema.RunRow{RunID: r.RunID, Job: job, Feed: f.Feed, Status: schema.RunOK, Started: f.Started,
			Finished: f.Ended, RowsIn: f.RowsIn, RowsOut: sum(f.Valid), RowsRejected: sum(f.Rejected),
			RowsDuplicate: sum(f.Duplicates), Commits: int64(f.Commits), Version: version}
		if f.Err != nil {
			row.Status, row.Error = schema.RunFailed, f.Err.Error()
		}
		out = append(out, row)
	}
	return out
}

// WriteText prints the report for people: a table of feeds, then rejects
// by reason and duplicates by key.
func (r Report) WriteText(w io.Writer) error {
	if len(r.Feeds) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nsilver")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "feed\tbronze rows\tto silver\trejected\tduplicates\tcommits\tseconds\t")
	for _, f := range r.Feeds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n", f.Feed, f.RowsIn, sum(f.Valid), sum(f.Rejected), sum(f.Duplicates), f.Commits, f.Ended.Sub(f.Started).Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range r.Feeds {
		for _, k := range slices.Sorted(maps.Keys(f.Rejected)) {
			fmt.Fprintf(w, "  rejected %s/%s: %d\n", f.Feed, k, f.Rejected[k])
		}
		for _, k := range slices.Sorted(maps.Keys(f.Duplicates)) {
			fmt.Fprintf(w, "  duplicates %s by %s: %d\n", f.Feed, k, f.Duplicates[k])
		}
		if f.Err != nil {
			fmt.Fprintf(w, "  %s FAILED: %s\n", f.Feed, f.Err)
		}
	}
	return nil
}

// sum adds the counts of m.
func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
