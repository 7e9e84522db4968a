// Package quality runs adlake's data-quality checks (SPEC §5), records
// what they found in ops.dq_results and raises alerts on it (package
// jobs/alert).
//
// Two kinds of checks:
//
//   - per run ([RunChecks], [RecordRun]), from what one ingest run did to
//     each feed: reconciliation, reject rate, duplicate rate and schema
//     drift;
//   - per partition and "now" ([Checker], [Run]), from the tables: row
//     counts per event hour against the same hour in earlier weeks, null
//     rates of the silver tables' monitored columns, unknown creatives,
//     clicks with no impression, freshness of events and landing files,
//     and an ingest job that has not run.
//
// Every check yields one [Result] per table and partition it looked at,
// passing or not, so ops.dq_results is also the history the row-count
// check learns from. A check grades its observation against its
// [Threshold] (warn, fail, and a severity cap), all of them in [Limits],
// which adlake's configuration embeds. Checks never fail a job by
// themselves; callers decide ([Failed], [ErrFailed]; the daily job holds
// gold back for a date with [Failures]).
package quality

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/advertisex/adlake/jobs/alert"
)

// Status is the outcome of one check on one partition: pass, warn or
// fail, as in ops.dq_results.status. It is the alerter's type, so results
// become alert findings without translation.
type Status = alert.Status

// Statuses, from good to bad.
const (
	Pass = alert.Pass
	Warn = alert.Warn
	Fail = alert.Fail
)

// Check names, as in ops.dq_results.check and docs/quality.md.
const (
	RowCount         = "row_count"
	FreshnessEvent   = "freshness_event"
	FreshnessLanding = "freshness_landing"
	JobNotRun        = "job_not_run"
	SchemaDrift      = "schema_drift"
	NullRate         = "null_rate"
	DuplicateRate    = "duplicate_rate"
	RejectRate       = "reject_rate"
	UnknownCreative  = "unknown_creative"
	OrphanClicks     = "orphan_clicks"
	Reconciliation   = "reconciliation"
)

// Checks lists every check name.
var Checks = []string{RowCount, FreshnessEvent, FreshnessLanding, JobNotRun, SchemaDrift, NullRate,
	DuplicateRate, RejectRate, UnknownCreative, OrphanClicks, Reconciliation}

// runbooks maps each check to its runbook in docs/runbooks.
var runbooks = map[string]string{
	RowCount: "row-count", FreshnessEvent: "freshness", FreshnessLanding: "freshness", JobNotRun: "job-not-run",
	SchemaDrift: "schema-drift", NullRate: "null-rate", DuplicateRate: "duplicate-rate", RejectRate: "reject-rate",
	UnknownCreative: "referential-integrity", OrphanClicks: "referential-integrity", Reconciliation: "reconciliation",
}

// Runbook names the runbook of a check: docs/runbooks/<name>.md.
func Runbook(check string) string {
	if rb, ok := runbooks[check]; ok {
		return rb
	}
	return "README"
}

// Result is one check on one table and partition: one row of
// ops.dq_results. Low and High bound the values that pass (NaN: unbounded).
type Result struct {
	Date      time.Time // the date the check is about (UTC midnight)
	Check     string
	Table     string
	Partition string // e.g. "event_date=2026-11-25/hour=13"; "" for a whole run or feed
	Observed  float64
	Low, High float64
	Expected  string // the passing range in words
	Status    Status
	Detail    string
}

// Key identifies the condition a result is about, across runs: alerts are
// deduplicated by it.
func (r Result) Key() string { return r.Check + "|" + r.Table + "|" + r.Partition }

// Finding is r as the alerter judges it; its Key is r's.
func (r Result) Finding() alert.Finding {
	return alert.Finding{Check: r.Check, Table: r.Table, Partition: r.Partition, Status: r.Status,
		Observed: r.Observed, Expected: r.Expected, Detail: r.Detail, Runbook: Runbook(r.Check)}
}

// findings converts rs for the alerter.
func findings(rs []Result) []alert.Finding {
	out := make([]alert.Finding, len(rs))
	for i, r := range rs {
		out[i] = r.Finding()
	}
	return out
}

// judge grades an observation where more is worse against th: it warns
// from th.Warn and fails from th.Fail (a level of 0 is off), never beyond
// th.Severity.
func judge(x float64, th Threshold) (Status, float64, string) {
	st := Pass
	if th.Warn > 0 && x >= th.Warn {
		st = Warn
	}
	if th.Fail > 0 && x >= th.Fail {
		st = Fail
	}
	st = capped(st, th.Severity)
	high, words := math.NaN(), "any"
	switch {
	case th.Warn > 0 && th.Fail > 0:
		high, words = math.Min(th.Warn, th.Fail), fmt.Sprintf("below %s (warn at %s, fail at %s)", num(th.Warn), num(th.Warn), num(th.Fail))
	case th.Warn > 0:
		high, words = th.Warn, fmt.Sprintf("below %s (warn)", num(th.Warn))
	case th.Fail > 0:
		high, words = th.Fail, fmt.Sprintf("below %s (fail)", num(th.Fail))
	}
	return st, high, words
}

// capped lowers st to severity ("warn" or "fail"; anything else: fail).
func capped(st Status, severity string) Status {
	if severity == string(Warn) && st == Fail {
		return Warn
	}
	return st
}

// num formats a number for people: integers plainly, else 4 significant digits.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
