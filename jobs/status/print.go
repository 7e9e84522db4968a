package status

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON prints the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}

// WriteText prints the report for people: a table of feeds, the recent
// runs and the open alerts.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "landing    %s\nwarehouse  %s\ncatalog    %s (%s)\n\n", r.Landing, r.Warehouse, r.Catalog, r.CatalogName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "feed\tlanding files\tcommitted\tpending\tignored\tbronze rows\tsilver rows\tsilver behind\tquarantined\tlast commit\t")
	for _, f := range r.Feeds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", f.Feed, f.LandingFiles, f.Committed, f.Pending, f.Ignored,
			f.BronzeRows, f.SilverRows, f.SilverBehind, f.Quarantined, orDash(f.LastCommit))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nrecent runs:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  finished\trun\tjob\tfeed\tstatus\tfiles\trows out\trejected\tduplicates\terror")
	for _, x := range r.Recent {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", x.Finished.Format(time.RFC3339), x.RunID, x.Job, x.Feed, x.Status,
			x.Files, x.RowsOut, x.RowsRejected, x.RowsDuplicate, x.Error)
	}
	if len(r.Recent) == 0 {
		fmt.Fprintln(tw, "  (none yet)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nopen alerts: %d (ops.alerts; adlake quality shows the findings)\n", len(r.OpenAlerts))
	for _, k := range slices.Sorted(maps.Keys(r.OpenAlerts)) {
		fmt.Fprintf(w, "  %-5s %s\n", strings.ToUpper(string(r.OpenAlerts[k])), k)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
