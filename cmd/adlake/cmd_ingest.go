package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
	"github.com/apache/iceberg-go/table"
)

func ingestCommand() command {
	return command{
		name:    "ingest",
		summary: "one micro-batch: new landing files -> bronze -> silver (+ ops.quarantine)",
		usage: `Finds the landing files no commit has consumed yet, decodes them and
appends their rows to bronze.<feed>; records that cannot be parsed go to
ops.quarantine with a reason, files that cannot be read at all are
quarantined whole. Then (unless --silver=false) loads the newest
reference snapshots into ref.* and derives silver from the new bronze rows:
validated, standardized, enriched, deduplicated; rule breakers go to
ops.quarantine too. Exactly once: re-running, or running after a crash,
never duplicates or drops a row. A summary goes to stdout (--json for
machines), logs to stderr, one row per feed to ops.runs.

  adlake ingest
  adlake ingest --feed impressions --feed bid_requests`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env) error {
			var feeds feedList
			var runID string
			var asJSON bool
			var cpuProfile string
			fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the run to this file")
			fs.Var(&feeds, "feed", "feed to ingest (repeatable or comma-separated; default all: "+strings.Join(bronze.DefaultFeeds, ", ")+")")
			fs.StringVar(&runID, "run-id", "", "run id (default: generated, time-ordered)")
			fs.BoolVar(&asJSON, "json", false, "print the summary as JSON")
			return func(ctx context.Context, e *env) error {
				if runID == "" {
					runID = newRunID("ingest")
				}
				if cpuProfile != "" {
					f, err := os.Create(cpuProfile)
					if err != nil {
						return usageError{err}
					}
					defer f.Close()
					if err := pprof.StartCPUProfile(f); err != nil {
						return err
					}
					defer pprof.StopCPUProfile()
				}
				return runIngest(ctx, e, bronze.Options{Feeds: feeds, RunID: runID}, asJSON)
			}
		},
	}
}

type feedList []string

func (f *feedList) String() string { return strings.Join(*f, ",") }
func (f *feedList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*f = append(*f, s)
		}
	}
	return nil
}

func newRunID(job string) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	return fmt.Sprintf("%s-%s-%s", job, time.Now().UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}

func runIngest(ctx context.Context, e *env, o bronze.Options, asJSON bool) error {
	for _, f := range o.Feeds {
		if _, ok := schema.Bronze[f]; !ok {
			return usageError{fmt.Errorf("unknown feed %q (feeds: %s)", f, strings.Join(bronze.DefaultFeeds, ", "))}
		}
	}
	store, cat, err := e.lake(ctx)
	if err != nil {
		return err
	}
	unlock, err := lockFeeds(ctx, cat, o.Feeds)
	if err != nil {
		return err
	}
	defer unlock()
	o.Logger = e.log
	o.MaxFilesPerCommit, o.MaxBytesPerCommit, o.BatchRows = e.cfg.Ingest.MaxFilesPerCommit, e.cfg.Ingest.MaxBytesPerCommit, e.cfg.Ingest.BatchRows
	o.Progress = func(p bronze.Progress) { e.term.progress(p.Feed, p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal) }
	o.AfterCommit = killSwitch(e.getenv("ADLAKE_TEST_KILL_AFTER_COMMIT"))
	e.log.Info("ingest started", "run_id", o.RunID, "landing", store.String(), "warehouse", cat.Warehouse())
	var tapper *silver.Tapper
	if e.cfg.Silver.Enabled {
		// Reference data first: the silver taps enrich with it.
		if err := silver.LoadReference(ctx, store, cat, nil, o.RunID, e.log); err != nil {
			return err
		}
		if tapper, err = silver.NewTapper(ctx, cat, silverOptions(e, o.Feeds, o.RunID, o.AfterCommit)); err != nil {
			return err
		}
		o.Tap = func(ctx context.Context, feed string, tbl *table.Table) (bronze.Tap, error) {
			t, err := tapper.Open(ctx, feed, tbl)
			if t == nil {
				return nil, err // no tap: Run derives this chunk's silver
			}
			return t, err
		}
	}
	rep, runErr := bronze.Run(ctx, store, cat, o)
	e.term.done()
	records := runRecords(rep, runErr)
	var srep silver.Report
	if runErr == nil && e.cfg.Silver.Enabled {
		// Whatever the taps did not derive (silver behind, a tap
		// discarded), the ordinary passes derive now.
		srep, runErr = silver.Run(ctx, cat, silverOptions(e, o.Feeds, o.RunID, o.AfterCommit))
		srep = silver.Merge(srep, tapper.Reports())
		records = append(records, silverRecords(srep)...)
	}
	// The run ledger is written even for a failed run; with a fresh context
	// when the run was interrupted, so the row says so.
	if err := runs.Append(context.WithoutCancel(ctx), cat, nil, records); err != nil {
		e.log.Error("cannot record the run in ops.runs", "error", err.Error())
	}
	var checks []quality.Result
	if runErr == nil && e.cfg.Quality.Enabled {
		checks = runChecks(ctx, e, cat, rep, srep)
	}
	printIngest(e, rep, srep, asJSON)
	if e.cfg.Silver.Enabled && !asJSON {
		printSilver(e, srep)
	}
	if !asJSON {
		printChecks(e, checks)
	}
	if runErr != nil {
		return runErr
	}
	if rep.Unreadable() > 0 {
		return errPartial
	}
	return nil
}

// killSwitch is a testing knob: "N" makes the process SIGKILL itself right
// after its Nth commit, so the kill tests can die at exact points. Unset
// in production.
func killSwitch(spec string) func(schema.Table) {
	n, err := strconv.Atoi(spec)
	if spec == "" || err != nil || n <= 0 {
		return nil
	}
	count := 0
	return func(schema.Table) {
		if count++; count == n {
			_ = syscall.Kill(syscall.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}

// lockFeeds takes the lakehouse-wide lock of every feed (all when none
// are named), in a fixed order; a feed already locked by another process is
// ErrConcurrentRun (exit 4).
func lockFeeds(ctx context.Context, cat *catalog.Catalog, feeds []string) (func(), error) {
	if len(feeds) == 0 {
		feeds = bronze.DefaultFeeds
	}
	sorted := append([]string(nil), feeds...)
	sort.Strings(sorted)
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, f := range sorted {
		u, err := cat.Lock(ctx, "feed:"+f)
		if errors.Is(err, catalog.ErrLocked) {
			release()
			return nil, fmt.Errorf("%w: feed %s is being processed by another adlake run", bronze.ErrConcurrentRun, f)
		}
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// silverOptions are the silver job's options from the configuration.
func silverOptions(e *env, feeds []string, runID string, after func(schema.Table)) silver.Options {
	return silver.Options{
		Feeds: feeds, RunID: runID, PseudonymKey: e.cfg.Silver.PseudonymKey,
		ExtraConversionTypes: e.cfg.Silver.ConversionTypes(), MaxRowsPerPass: e.cfg.Silver.MaxRowsPerPass,
		BatchRows: e.cfg.Ingest.BatchRows, Logger: e.log, AfterCommit: after,
	}
}

func silverRecords(rep silver.Report) []runs.Record {
	var out []runs.Record
	for _, f := range rep.Feeds {
		r := runs.Record{RunID: rep.RunID, Job: silver.Job, Feed: f.Feed, Status: runs.StatusOK, Started: f.Started, Finished: f.Ended,
			RowsIn: f.RowsIn, RowsOut: sum(f.Valid), RowsRejected: sum(f.Rejected), RowsDuplicate: sum(f.Duplicates),
			Commits: int64(f.Commits), Version: version}
		if f.Err != nil {
			r.Status, r.Error = runs.StatusFailed, f.Err.Error()
		}
		out = append(out, r)
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func printSilver(e *env, rep silver.Report) {
	if len(rep.Feeds) == 0 {
		return
	}
	fmt.Fprintln(e.out, "\nsilver")
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "feed\tbronze rows\tto silver\trejected\tduplicates\tcommits\tseconds\t")
	for _, f := range rep.Feeds {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t\n", f.Feed, f.RowsIn, sum(f.Valid), sum(f.Rejected), sum(f.Duplicates), f.Commits, f.Ended.Sub(f.Started).Seconds())
	}
	w.Flush()
	for _, f := range rep.Feeds {
		for _, r := range sortedKeys(f.Rejected) {
			fmt.Fprintf(e.out, "  rejected %s/%s: %d\n", f.Feed, r, f.Rejected[r])
		}
		for _, k := range sortedKeys(f.Duplicates) {
			fmt.Fprintf(e.out, "  duplicates %s by %s: %d\n", f.Feed, k, f.Duplicates[k])
		}
		if f.Err != nil {
			fmt.Fprintf(e.out, "  %s FAILED: %s\n", f.Feed, f.Err)
		}
	}
}

func runRecords(rep bronze.Report, runErr error) []runs.Record {
	var out []runs.Record
	for _, f := range rep.Feeds {
		status := runs.StatusOK
		switch {
		case f.Err != nil:
			status = runs.StatusFailed
		case f.FilesUnreadable > 0:
			status = runs.StatusPartial
		}
		r := runs.Record{
			RunID: rep.RunID, Job: bronze.Job, Feed: f.Feed, Status: status, Started: f.Started, Finished: f.Ended,
			WindowStart: f.WindowStart, WindowEnd: f.WindowEnd, Files: int64(f.Files), FilesUnreadable: int64(f.FilesUnreadable),
			BytesIn: f.Bytes, RowsIn: f.Decoded + f.RejectedRecords, RowsOut: f.Rows, RowsRejected: f.Rejects,
			Commits: int64(f.Commits), Version: version,
		}
		if f.Err != nil {
			r.Error = f.Err.Error()
		}
		out = append(out, r)
	}
	if len(out) == 0 && runErr != nil && !errors.Is(runErr, context.Canceled) {
		now := time.Now()
		out = append(out, runs.Record{RunID: rep.RunID, Job: bronze.Job, Feed: "*", Status: runs.StatusFailed,
			Started: now, Finished: now, Error: runErr.Error(), Version: version})
	}
	return out
}

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

func printIngest(e *env, rep bronze.Report, srep silver.Report, asJSON bool) {
	sums := make([]feedSummary, 0, len(rep.Feeds))
	for _, f := range rep.Feeds {
		s := feedSummary{Feed: f.Feed, Files: f.Files, FilesUnreadable: f.FilesUnreadable, AlreadyCommitted: f.AlreadyCommitted,
			Bytes: f.Bytes, Rows: f.Rows, Rejects: f.Rejects, ByReason: f.ByReason, Ignored: f.Ignored, Commits: f.Commits,
			Seconds: f.Ended.Sub(f.Started).Seconds()}
		if f.Err != nil {
			s.Error = f.Err.Error()
		}
		sums = append(sums, s)
	}
	if asJSON {
		ss := []silverSummary{}
		for _, f := range srep.Feeds {
			ss = append(ss, silverSummary{Feed: f.Feed, RowsIn: f.RowsIn, Valid: f.Valid, Rejected: f.Rejected,
				Duplicates: f.Duplicates, Commits: f.Commits, Seconds: f.Ended.Sub(f.Started).Seconds()})
		}
		data, _ := json.MarshalIndent(map[string]any{"run_id": rep.RunID, "feeds": sums, "silver": ss}, "", "  ")
		fmt.Fprintln(e.out, string(data))
		return
	}
	fmt.Fprintf(e.out, "run %s\n\n", rep.RunID)
	w := tabwriter.NewWriter(e.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "feed\tfiles\tunreadable\tskipped (done)\tbytes\trows\tquarantined\tignored\tcommits\tseconds\t")
	for _, s := range sums {
		ignored := 0
		for _, n := range s.Ignored {
			ignored += n
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%.1f\t\n", s.Feed, s.Files, s.FilesUnreadable, s.AlreadyCommitted,
			humanBytes(s.Bytes), s.Rows, s.Rejects, ignored, s.Commits, s.Seconds)
	}
	w.Flush()
	for _, s := range sums {
		for _, r := range sortedKeys(s.ByReason) {
			fmt.Fprintf(e.out, "  quarantined %s/%s: %d\n", s.Feed, r, s.ByReason[r])
		}
		if s.Error != "" {
			fmt.Fprintf(e.out, "  %s FAILED: %s\n", s.Feed, s.Error)
		}
	}
}
