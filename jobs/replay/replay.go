// Package replay is the replay job: it re-submits the open silver-stage
// rows of ops.quarantine (those without an ops.replays row) to the current
// silver rules, for example after a new conversion type was accepted, and
// records every outcome in ops.replays, so a replayed row is never
// selected again.
//
// A record is never in silver twice: replayed records go through silver's
// deduplication (silver.Rederive), so a replay that crashed after its
// silver commit and is run again records those records as duplicates.
// Bronze-stage rejects (records that do not parse) are not replayable.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/lock"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// Filter selects the quarantine rows to replay. Empty fields match all.
type Filter struct {
	Feed, Reason string
}

// Report counts what a replay did, by feed and outcome.
type Report struct {
	RunID    string
	Feeds    map[string]map[string]int64 // feed -> outcome -> rows
	Selected int64                       // open quarantine rows selected
}

// Run replays the open quarantine rows of the feeds in o.Feeds (default
// all) that match f, under the locks of those feeds (lock.ErrLocked when
// another run holds one). o configures the silver rules (its RunID names
// the run).
func Run(ctx context.Context, cat catalog.Tables, locks lock.Locker, o silver.Options, f Filter) (Report, error) {
	rep := Report{RunID: o.RunID, Feeds: map[string]map[string]int64{}}
	feeds := o.Feeds
	if len(feeds) == 0 {
		feeds = schema.Feeds
	}
	unlock, err := lock.All(ctx, locks, lock.Feeds(feeds)...)
	if err != nil {
		return rep, err
	}
	defer unlock()
	open, err := openRows(ctx, cat, f)
	if err != nil {
		return rep, err
	}
	for _, feed := range feeds {
		sel := open[feed.Name]
		if len(sel) == 0 {
			continue
		}
		rep.Selected += int64(len(sel))
		outcomes, err := replayFeed(ctx, cat, o, feed, sel)
		if err != nil {
			return rep, fmt.Errorf("replay %s: %w", feed.Name, err)
		}
		rep.Feeds[feed.Name] = outcomes
	}
	return rep, nil
}

// openRows returns the open silver-stage quarantine rows matching f, by
// feed, with their reason.
func openRows(ctx context.Context, cat catalog.Tables, f Filter) (map[string]map[silver.Record]string, error) {
	done := map[string]map[silver.Record]bool{}
	rtbl, err := cat.Load(ctx, schema.Replays)
	if err != nil {
		return nil, err
	}
	for r, err := range rows.Scan[schema.ReplayRow](ctx, rtbl, nil) {
		if err != nil {
			return nil, err
		}
		if done[r.Feed] == nil {
			done[r.Feed] = map[silver.Record]bool{}
		}
		done[r.Feed][silver.Record{File: r.SourceFile, Offset: r.Offset}] = true
	}
	qtbl, err := cat.Load(ctx, schema.Quarantine)
	if err != nil {
		return nil, err
	}
	filter := iceberg.EqualTo(iceberg.Reference("stage"), schema.StageSilver)
	open := map[string]map[silver.Record]string{}
	for q, err := range rows.Scan[schema.QuarantineRow](ctx, qtbl, filter) {
		if err != nil {
			return nil, err
		}
		if q.Stage != schema.StageSilver || q.Offset == nil || (f.Feed != "" && q.Feed != f.Feed) || (f.Reason != "" && q.Reason != f.Reason) {
			continue
		}
		k := silver.Record{File: q.SourceFile, Offset: *q.Offset}
		if done[q.Feed][k] {
			continue
		}
		if open[q.Feed] == nil {
			open[q.Feed] = map[silver.Record]string{}
		}
		open[q.Feed][k] = q.Reason
	}
	return open, nil
}

// replayFeed re-derives the selected records of feed and records their
// outcomes in ops.replays.
func replayFeed(ctx context.Context, cat catalog.Tables, o silver.Options, feed schema.Feed, sel map[silver.Record]string) (map[string]int64, error) {
	want := make(map[silver.Record]bool, len(sel))
	for k := range sel {
		want[k] = true
	}
	got, err := silver.Rederive(ctx, cat, o, feed, want, schema.JobReplay)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	counts := map[string]int64{}
	out := make([]schema.ReplayRow, 0, len(sel))
	for k, reason := range sel {
		r := got[k]
		counts[r.Outcome]++
		out = append(out, schema.ReplayRow{Feed: feed.Name, SourceFile: k.File, Offset: k.Offset, Reason: reason,
			Outcome: r.Outcome, NewReason: r.Reason, RunID: o.RunID, At: now})
	}
	props := iceberg.Properties{ledger.PropJob: schema.JobReplay, ledger.PropRunID: o.RunID}
	return counts, rows.Append(ctx, cat, schema.Replays, out, props)
}

// WriteJSON prints the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(map[string]any{"run_id": r.RunID, "selected": r.Selected, "outcomes": r.Feeds}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(data))
	return err
}

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "replay %s: %d open quarantine rows selected\n", r.RunID, r.Selected)
	for _, f := range slices.Sorted(maps.Keys(r.Feeds)) {
		o := r.Feeds[f]
		fmt.Fprintf(w, "  %-20s accepted %d, rejected again %d, duplicate %d\n", f, o[schema.OutcomeAccepted], o[schema.OutcomeRejected], o[schema.OutcomeDuplicate])
	}
	return nil
}
