package gold

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	icebergio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/schema"
)

// StaleDate is a date whose gold partitions need a (re)build, and why.
type StaleDate struct {
	Date time.Time // UTC midnight
	// Reason: "never built: gold.<table>", "input changed: silver.<table>
	// snapshot <id> changed event_date <date>", or "input history lost:
	// silver.<table> snapshot <id>" (the recorded snapshot is no longer an
	// ancestor, after expiry or rollback).
	Reason string
}

// Stale returns the dates of from..to (UTC dates, inclusive, in order)
// whose gold partitions are missing or out of date: a date is stale when
// one of the gold tables has no build of it, or when a snapshot of a silver
// input committed after the one its last build read added or removed data
// files with an event_date in the range that build reads (impressions and
// clicks of the attribution lookback, conversions of the date, bid
// requests of the date, impressions of the date and the next for the
// funnel). Changes are read from the manifests each later snapshot wrote,
// so the cost grows with the silver commits since the builds, not with the
// data. w must be the windows the builds use (zero: the defaults). Changes
// to reference tables (fx rates) do not make a date stale.
func Stale(ctx context.Context, cat catalog.Loader, from, to time.Time, w Windows) ([]StaleDate, error) {
	w = w.WithDefaults()
	lo, hi := arrow.Date32FromTime(dayOf(from)), arrow.Date32FromTime(dayOf(to))
	builds := map[string]map[arrow.Date32]map[string]int64{} // gold table -> date -> inputs
	for _, t := range schema.Gold() {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		builds[t.String()], err = lastBuilds(tbl)
		if err != nil {
			return nil, err
		}
	}
	hist := map[string]*history{}
	for _, t := range []schema.Table{schema.SilverImpressions, schema.SilverClicks, schema.SilverConversions, schema.SilverBidRequests} {
		tbl, err := cat.Load(ctx, t)
		if err != nil {
			return nil, err
		}
		h, err := newHistory(ctx, tbl)
		if err != nil {
			return nil, err
		}
		hist[t.String()] = h
	}
	var out []StaleDate
	for d := lo; d <= hi; d++ {
		reason, err := staleReason(ctx, d, w, builds, hist)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			out = append(out, StaleDate{Date: d.ToTime(), Reason: reason})
		}
	}
	return out, nil
}

func staleReason(ctx context.Context, d arrow.Date32, w Windows, builds map[string]map[arrow.Date32]map[string]int64, hist map[string]*history) (string, error) {
	for _, t := range schema.Gold() {
		inputs, ok := builds[t.String()][d]
		if !ok {
			return "never built: " + t.String(), nil
		}
		for name, r := range inputRanges(t, d, w) {
			h := hist[name]
			since, ok := h.pos[inputs[name]]
			if !ok {
				return fmt.Sprintf("input history lost: %s snapshot %d", name, inputs[name]), nil
			}
			for _, s := range h.snaps[since+1:] {
				dates, err := h.changed(ctx, s)
				if err != nil {
					return "", err
				}
				for _, cd := range dates {
					if cd == anyDate || cd >= r.lo && cd <= r.hi {
						return fmt.Sprintf("input changed: %s snapshot %d changed event_date %s", name, s.SnapshotID, cd.FormattedString()), nil
					}
				}
			}
		}
	}
	return "", nil
}

// lastBuilds returns the inputs of the newest build of every date in the
// snapshots of tbl's current branch.
func lastBuilds(tbl *table.Table) (map[arrow.Date32]map[string]int64, error) {
	out := map[arrow.Date32]map[string]int64{}
	snaps := ledger.Ancestry(tbl)
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if s.Summary == nil {
			continue
		}
		ds, ok := s.Summary.Properties[PropDate]
		if !ok {
			continue
		}
		d, err := dateOf(ds)
		if err != nil {
			return nil, fmt.Errorf("%s snapshot %d: %s: %w", tbl.Identifier(), s.SnapshotID, PropDate, err)
		}
		if _, seen := out[d]; seen {
			continue
		}
		inputs := map[string]int64{}
		if err := json.Unmarshal([]byte(s.Summary.Properties[PropInputs]), &inputs); err != nil {
			return nil, fmt.Errorf("%s snapshot %d: %s: %w", tbl.Identifier(), s.SnapshotID, PropInputs, err)
		}
		out[d] = inputs
	}
	return out, nil
}

// history is the current branch of one silver table, with the event dates
// each snapshot changed, read on demand.
type history struct {
	tbl   *table.Table
	fs    icebergio.IO
	snaps []table.Snapshot // oldest first
	pos   map[int64]int    // snapshot id -> index in snaps; 0 -> -1 (before the first)
	dates map[int64][]arrow.Date32
}

func newHistory(ctx context.Context, tbl *table.Table) (*history, error) {
	h := &history{tbl: tbl, snaps: ledger.Ancestry(tbl), pos: map[int64]int{0: -1}, dates: map[int64][]arrow.Date32{}}
	for i, s := range h.snaps {
		h.pos[s.SnapshotID] = i
	}
	var err error
	if h.fs, err = tbl.FS(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// changed returns the event dates of the data files snapshot s added or
// removed (the entries of the manifests s wrote itself).
func (h *history) changed(ctx context.Context, s table.Snapshot) ([]arrow.Date32, error) {
	if d, ok := h.dates[s.SnapshotID]; ok {
		return d, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	manifests, err := s.Manifests(h.fs)
	if err != nil {
		return nil, fmt.Errorf("%s snapshot %d: manifests: %w", h.tbl.Identifier(), s.SnapshotID, err)
	}
	seen := map[arrow.Date32]bool{}
	var out []arrow.Date32
	for _, m := range manifests {
		if m.SnapshotID() != s.SnapshotID || m.ManifestContent() != iceberg.ManifestContentData {
			continue
		}
		spec := h.tbl.Metadata().PartitionSpecByID(int(m.PartitionSpecID()))
		fieldID := -1
		if spec != nil {
			for _, f := range spec.Fields() {
				if f.Name == schema.ColEventDate {
					fieldID = f.FieldID
				}
			}
		}
		entries, err := m.FetchEntries(h.fs, false)
		if err != nil {
			return nil, fmt.Errorf("%s snapshot %d: manifest entries: %w", h.tbl.Identifier(), s.SnapshotID, err)
		}
		for _, e := range entries {
			if e.Status() == iceberg.EntryStatusEXISTING {
				continue
			}
			d, ok := partitionDate(e.DataFile().Partition()[fieldID])
			if !ok {
				// Not partitioned by event_date: it may hold any date.
				h.dates[s.SnapshotID] = []arrow.Date32{anyDate}
				return h.dates[s.SnapshotID], nil
			}
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	h.dates[s.SnapshotID] = out
	return out, nil
}

// anyDate stands for "any event date" in a snapshot's changed dates.
const anyDate = arrow.Date32(-1 << 31)

// partitionDate reads an identity-partition date value.
func partitionDate(v any) (arrow.Date32, bool) {
	switch d := v.(type) {
	case iceberg.Date:
		return arrow.Date32(d), true
	case arrow.Date32:
		return d, true
	case int32:
		return arrow.Date32(d), true
	case int:
		return arrow.Date32(d), true
	case int64:
		return arrow.Date32(d), true
	case time.Time:
		return arrow.Date32FromTime(d), true
	}
	return 0, false
}
