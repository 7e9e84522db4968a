package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

func statusCommand() command {
	return command{
		name:    "status",
		summary: "pending landing files, table sizes, quarantine and recent runs",
		usage: `Shows, per feed, how many landing files exist, how many are committed and
how many are pending (what the next 'adlake ingest' would read), the rows in
bronze and in ops.quarantine, the last commit, and the most recent runs
from ops.runs, and the open data-quality alerts. Read-only.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var asJSON bool
			var last int
			fs.BoolVar(&asJSON, "json", false, "print as JSON")
			fs.IntVar(&last, "runs", 8, "how many recent runs to show")
			return func(ctx context.Context, e *env) error { return runStatus(ctx, e, asJSON, last) }
		},
	}
}

type feedStatus struct {
	Feed         string `json:"feed"`
	LandingFiles int    `json:"landing_files"`
	Committed    int    `json:"committed"`
	Pending      int    `json:"pending"`
	Ignored      int    `json:"ignored"`
	BronzeRows   int64  `json:"bronze_rows"`
	Quarantined  int64  `json:"quarantined"`
	Snapshots    int    `json:"snapshots"`
	LastCommit   string `json:"last_commit,omitempty"`
	LastRunID    string `json:"last_run_id,omitempty"`
	SilverRows   int64  `json:"silver_rows"`
	// SilverBehind counts bronze snapshots silver has not consumed yet
	// (the next ingest derives them).
	SilverBehind int `json:"silver_behind_snapshots"`
}

func runStatus(ctx context.Context, e *env, asJSON bool, last int) error {
	store, cat, err := e.lake(ctx)
	if err != nil {
		return err
	}
	quarantined, err := quarantineByFeed(ctx, cat)
	if err != nil {
		return err
	}
	var feeds []feedStatus
	for _, feed := range bronze.DefaultFeeds {
		fs, err := statusOf(ctx, cat, feed)
		if err != nil {
			return err
		}
		fs.Quarantined = quarantined[feed]
		d, err := bronze.Discover(ctx, store, cat, feed)
		if err != nil {
			return err
		}
		fs.Committed, fs.Pending = d.Committed, len(d.Pending)
		for _, n := range d.Ignored {
			fs.Ignored += n
		}
		fs.LandingFiles = fs.Committed + fs.Pending
		if err := silverStatus(ctx, cat, feed, &fs); err != nil {
			return err
		}
		feeds = append(feeds, fs)
	}
	recent, err := runs.Recent(ctx, cat, last)
	if err != nil {
		return err
	}
	open, err := quality.OpenAlerts(ctx, cat)
	if err != nil {
		return err
	}
	if asJSON {
		data, _ := json.MarshalIndent(map[string]any{"landing": store.String(), "warehouse": cat.Warehouse(),
			"catalog": catalog.Redact(e.cfg.Catalog), "feeds": feeds, "recent_runs": recent, "open_alerts": open}, "", "  ")
		_, err := fmt.Fprintln(e.out, string(data))
		return err
	}
	fmt.Fprintf(e.out, "landing    %s\nwarehouse  %s\ncatalog    %s (%s)\n\n", store.String(), cat.Warehouse(), catalog.Redact(e.cfg.Catalog), e.cfg.CatalogName)
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "feed\tlanding files\tcommitted\tpending\tignored\tbronze rows\tsilver rows\tsilver behind\tquarantined\tlast commit\t")
	for _, f := range feeds {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", f.Feed, f.LandingFiles, f.Committed, f.Pending, f.Ignored,
			f.BronzeRows, f.SilverRows, f.SilverBehind, f.Quarantined, orDash(f.LastCommit))
	}
	w.Flush()
	fmt.Fprintln(e.out, "\nrecent runs:")
	w = tabwriter.NewWriter(e.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  finished\trun\tjob\tfeed\tstatus\tfiles\trows out\trejected\tduplicates\terror")
	for _, r := range recent {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Finished.Format(time.RFC3339), r.RunID, r.Job, r.Feed, r.Status,
			r.Files, r.RowsOut, r.RowsRejected, r.RowsDuplicate, r.Error)
	}
	if len(recent) == 0 {
		fmt.Fprintln(w, "  (none yet)")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.out, "\nopen alerts: %d (ops.alerts; adlake quality shows the findings)\n", len(open))
	for _, k := range sortedKeys(open) {
		fmt.Fprintf(e.out, "  %-5s %s\n", strings.ToUpper(string(open[k])), k)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusOf reads the bronze table's size and last commit from metadata.
func statusOf(ctx context.Context, cat *catalog.Catalog, feed string) (feedStatus, error) {
	fs := feedStatus{Feed: feed}
	tbl, err := cat.Load(ctx, schema.Bronze[feed])
	if err != nil {
		return fs, err
	}
	fs.Snapshots = len(tbl.Metadata().Snapshots())
	if s := tbl.CurrentSnapshot(); s != nil {
		fs.LastCommit = time.UnixMilli(s.TimestampMs).UTC().Format(time.RFC3339)
		if s.Summary != nil {
			fs.BronzeRows, _ = strconv.ParseInt(s.Summary.Properties["total-records"], 10, 64)
			fs.LastRunID = s.Summary.Properties[catalog.PropRunID]
		}
	}
	return fs, nil
}

// silverStatus adds the feed's silver row count (from snapshot summaries)
// and how many bronze snapshots its slowest silver table has not consumed.
func silverStatus(ctx context.Context, cat *catalog.Catalog, feed string, fs *feedStatus) error {
	btbl, err := cat.Load(ctx, schema.Bronze[feed])
	if err != nil {
		return err
	}
	snaps := catalog.Ancestry(btbl)
	for _, t := range silver.Targets(feed) {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return err
		}
		if s := tbl.CurrentSnapshot(); s != nil && s.Summary != nil {
			n, _ := strconv.ParseInt(s.Summary.Properties["total-records"], 10, 64)
			fs.SilverRows += n
		}
		wm, err := catalog.Watermark(tbl, feed)
		if err != nil {
			return err
		}
		behind := len(snaps)
		for i, s := range snaps {
			if s.SnapshotID == wm {
				behind = len(snaps) - 1 - i
			}
		}
		fs.SilverBehind = max(fs.SilverBehind, behind)
	}
	return nil
}

// quarantineByFeed counts ops.quarantine rows per feed.
func quarantineByFeed(ctx context.Context, cat *catalog.Catalog) (map[string]int64, error) {
	tbl, err := cat.Load(ctx, schema.Quarantine)
	if err != nil {
		return nil, err
	}
	_, batches, err := tbl.Scan(table.WithSelectedFields("feed")).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan ops.quarantine: %w", err)
	}
	out := map[string]int64{}
	for rec, err := range batches {
		if err != nil {
			return nil, fmt.Errorf("scan ops.quarantine: %w", err)
		}
		col := rec.Column(0).(*array.String)
		for i := 0; i < col.Len(); i++ {
			out[col.Value(i)]++
		}
		rec.Release()
	}
	return out, nil
}
