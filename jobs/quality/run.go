package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/advertisex/adlake/schema"
)

// FeedRun is what one ingest run did to one feed, as the per-run checks
// see it. Landing = Bronze + BronzeRejected when nothing was lost; with
// silver on, SilverIn = SilverOut + SilverRejected + SilverDuplicates.
type FeedRun struct {
	Feed           string
	Table          string // the feed's bronze table, e.g. "bronze.impressions"
	Landing        int64  // records read from landing files
	Bronze         int64  // rows appended to bronze
	BronzeRejected int64  // landing records quarantined at the bronze stage
	Silver         bool   // silver ran for the feed in this run
	SilverIn       int64  // bronze rows the silver passes read
	SilverOut      int64
	SilverRejected int64
	SilverDup      int64
	Drift          []DriftFiles
}

// DriftFiles is one way some files of a run differed from the contract.
type DriftFiles struct {
	schema.Drift
	Files   int    `json:"files"`
	Example string `json:"example"`
}

// RunChecks grades one run's feeds. Feeds that read no records yield no
// results (nothing was observed), so an alert raised by an
// earlier run stays open until a run with records passes.
func RunChecks(feeds []FeedRun, at time.Time, lim Limits) []Result {
	var out []Result
	for _, f := range feeds {
		base := Result{Date: day(at), Table: f.Table}
		if f.Landing+f.SilverIn == 0 {
			continue
		}
		out = append(out, reconcile(base, f, lim.Reconciliation))
		rejected := f.BronzeRejected + f.SilverRejected
		processed := f.BronzeRejected + f.SilverIn
		if !f.Silver {
			processed = f.Landing
		}
		out = append(out, rate(base, RejectRate, rejected, processed, "records quarantined", lim.RejectRate))
		if f.Silver {
			out = append(out, rate(base, DuplicateRate, f.SilverDup, f.SilverIn, "records dropped as duplicates", lim.DuplicateRate))
		}
		if f.Landing > 0 {
			out = append(out, drift(base, accept(f.Feed, f.Drift, lim.AcceptedFields), lim.SchemaDrift))
		}
	}
	return out
}

func reconcile(r Result, f FeedRun, th Threshold) Result {
	r.Check = Reconciliation
	bronzeGap := f.Landing - f.Bronze - f.BronzeRejected
	r.Detail = fmt.Sprintf("landing %d = bronze %d + rejected %d", f.Landing, f.Bronze, f.BronzeRejected)
	var silverGap int64
	if f.Silver {
		silverGap = f.SilverIn - f.SilverOut - f.SilverRejected - f.SilverDup
		r.Detail += fmt.Sprintf("; bronze read %d = silver %d + rejected %d + duplicates %d", f.SilverIn, f.SilverOut, f.SilverRejected, f.SilverDup)
	}
	if bronzeGap != 0 || silverGap != 0 {
		r.Detail += fmt.Sprintf(" (off by %d and %d)", bronzeGap, silverGap)
	}
	r.Observed = float64(abs(bronzeGap) + abs(silverGap))
	r.Status, _, _ = judge(r.Observed, th)
	r.Low, r.High, r.Expected = 0, 0, "0 records unaccounted for"
	return r
}

func rate(r Result, check string, n, of int64, what string, th Threshold) Result {
	r.Check = check
	r.Observed = ratio(n, of)
	r.Detail = fmt.Sprintf("%d of %d %s", n, of, what)
	r.Low = 0
	r.Status, r.High, r.Expected = judge(r.Observed, th)
	return r
}

func drift(r Result, seen []DriftFiles, th Threshold) Result {
	r.Check = SchemaDrift
	sort.Slice(seen, func(i, j int) bool { return seen[i].Drift.String() < seen[j].Drift.String() })
	files := 0
	for _, d := range seen {
		files += d.Files
	}
	r.Observed, r.Low = float64(files), 0
	r.Status, r.High, r.Expected = judge(r.Observed, th)
	r.Expected = "0 files differing from the contract"
	if len(seen) > 0 {
		b, _ := json.Marshal(seen) // strings and ints always marshal
		r.Detail = string(b)
	}
	return r
}

// accept removes from seen the field names accepted ("feed:field") for
// feed, and the entries left with no difference.
func accept(feed string, seen []DriftFiles, accepted string) []DriftFiles {
	ok := map[string]bool{}
	for _, a := range strings.Split(accepted, ",") {
		if f, name, found := strings.Cut(strings.TrimSpace(a), ":"); found && f == feed {
			ok[name] = true
		}
	}
	keep := func(names []string) []string {
		return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return ok[n] })
	}
	var out []DriftFiles
	for _, d := range seen {
		d.New, d.Missing = keep(d.New), keep(d.Missing)
		if !d.Empty() {
			out = append(out, d)
		}
	}
	return out
}

func abs(n int64) int64 { return int64(math.Abs(float64(n))) }
