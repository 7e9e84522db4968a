// Package status reports the state of the lakehouse for operators: per
// feed, the landing files committed and pending, rows in bronze, silver and
// quarantine, how far silver lags bronze; the recent runs of ops.runs; the
// open data-quality alerts. It reads table metadata and the ops tables; it
// never writes.
package status

import (
	"context"
	"strconv"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// Feed is the state of one feed.
type Feed struct {
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

// Report is the state of the lakehouse.
type Report struct {
	Landing   string `json:"landing"`
	Warehouse string `json:"warehouse"`
	Catalog   string `json:"catalog"`
	// CatalogName is the catalog's name (Trino's and pyiceberg's too).
	CatalogName string                  `json:"-"`
	Feeds       []Feed                  `json:"feeds"`
	Recent      []schema.RunRow         `json:"recent_runs"`
	OpenAlerts  map[string]alert.Status `json:"open_alerts"`
}

// Collect reads the state of every feed, the last n runs and the open
// alerts.
func Collect(ctx context.Context, store objstore.Reader, cat catalog.Loader, n int) (Report, error) {
	rep := Report{Landing: store.String()}
	quarantined, err := quarantineByFeed(ctx, cat)
	if err != nil {
		return rep, err
	}
	for _, feed := range schema.Feeds {
		fs, err := feedStatus(ctx, store, cat, feed)
		if err != nil {
			return rep, err
		}
		fs.Quarantined = quarantined[feed.Name]
		rep.Feeds = append(rep.Feeds, fs)
	}
	if rep.Recent, err = runs.Recent(ctx, cat, n); err != nil {
		return rep, err
	}
	rep.OpenAlerts, err = alert.Open(ctx, cat)
	return rep, err
}

func feedStatus(ctx context.Context, store objstore.Reader, cat catalog.Loader, feed schema.Feed) (Feed, error) {
	fs := Feed{Feed: feed.Name}
	btbl, err := cat.Load(ctx, feed.Bronze)
	if err != nil {
		return fs, err
	}
	fs.Snapshots = len(btbl.Metadata().Snapshots())
	if s := btbl.CurrentSnapshot(); s != nil {
		fs.LastCommit = time.UnixMilli(s.TimestampMs).UTC().Format(time.RFC3339)
		fs.BronzeRows = totalRecords(s)
		if s.Summary != nil {
			fs.LastRunID = s.Summary.Properties[ledger.PropRunID]
		}
	}
	d, err := bronze.Discover(ctx, store, cat, feed)
	if err != nil {
		return fs, err
	}
	fs.Committed, fs.Pending = d.Committed, len(d.Pending)
	for _, n := range d.Ignored {
		fs.Ignored += n
	}
	fs.LandingFiles = fs.Committed + fs.Pending
	return fs, silverStatus(ctx, cat, feed, btbl, &fs)
}

// totalRecords reads a snapshot's total-records summary property.
func totalRecords(s *table.Snapshot) int64 {
	if s == nil || s.Summary == nil {
		return 0
	}
	n, _ := strconv.ParseInt(s.Summary.Properties["total-records"], 10, 64)
	return n
}

// silverStatus adds the feed's silver row count (from snapshot summaries)
// and how many bronze snapshots its slowest silver table has not consumed.
func silverStatus(ctx context.Context, cat catalog.Loader, feed schema.Feed, btbl *table.Table, fs *Feed) error {
	snaps := ledger.Ancestry(btbl)
	for _, t := range feed.Silver {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return err
		}
		fs.SilverRows += totalRecords(tbl.CurrentSnapshot())
		wm, err := ledger.Watermark(tbl, feed.Name)
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
func quarantineByFeed(ctx context.Context, cat catalog.Loader) (map[string]int64, error) {
	tbl, err := cat.Load(ctx, schema.Quarantine)
	if err != nil {
		return nil, err
	}
	type feedOnly struct {
		Feed string `col:"feed"`
	}
	out := map[string]int64{}
	for r, err := range rows.Scan[feedOnly](ctx, tbl, nil) {
		if err != nil {
			return nil, err
		}
		out[r.Feed]++
	}
	return out, nil
}
