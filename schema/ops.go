package schema

import (
	"encoding/base64"
	"time"
)

// The operations layer: ops.quarantine, ops.runs, ops.replays,
// ops.dq_results and ops.alerts. Each table is declared with the Go type of
// its rows; the `col` tags name the columns, and package lake/rows writes
// and reads rows by those names against the table's actual schema, so a
// column added at the end of a table never breaks a writer or a reader.
//
// Null conventions of lake/rows: in an optional column, an empty string, a
// zero time, a NaN float and a nil pointer are null.

// Job names, as in ops.runs.job, ops.dq_results.job and the adlake.job
// property of every commit.
const (
	JobIngest    = "ingest"    // landing -> bronze (and ops.quarantine)
	JobSilver    = "silver"    // bronze -> silver, in an ingest run
	JobReference = "reference" // reference snapshots -> ref.*
	JobReplay    = "replay"    // quarantined records re-submitted to silver
	JobRebuild   = "rebuild"   // silver re-derived for event dates
	JobCompact   = "compact"   // small data files rewritten
	JobGold      = "gold"      // one event date of gold built
	JobQuality   = "quality"   // data-quality checks run on their own
	JobDaily     = "daily"     // the daily job: checks, then gold
	JobBackfill  = "backfill"  // gold for a range of dates
	JobMaintain  = "maintain"  // snapshot expiry, metadata and file clean-up
)

// Quarantine stages: where a record was rejected.
const (
	StageBronze = "bronze" // it could not be parsed
	StageSilver = "silver" // it broke a rule
)

// Quarantine is ops.quarantine: one row per rejected record, or per landing
// file that could not be read at all (then source_offset is null).
var Quarantine = Table{
	Namespace: "ops", Name: "quarantine",
	Doc: "rejected records and unreadable files, replayable",
	Schema: fresh(
		required(str("feed", "")),
		required(str("source_file", "landing object key, relative to the landing root")),
		i64("source_offset", "as bronze._source_offset; null when the whole file was quarantined"),
		i64("records", "landing records this row stands for: 1 for a record, the block's count for an Avro block; null when unknown (an unreadable file)"),
		required(str("stage", "bronze (could not be parsed) or silver (failed a rule)")),
		required(str("reason", "reason code, see docs/quarantine.md")),
		str("detail", "human-readable explanation"),
		str("raw", "the raw record (text feeds) or base64 of the raw bytes (see raw_encoding)"),
		required(str("raw_encoding", "text or base64")),
		required(date("landing_dt", "arrival date of the landing object")),
		required(str("run_id", "")),
		required(tstz("quarantined_at", "")),
	),
}

// Runs is ops.runs, the run ledger: one row per finished job run and feed.
var Runs = Table{
	Namespace: "ops", Name: "runs",
	Doc: "one row per job run and feed",
	Schema: fresh(
		required(str("run_id", "")),
		required(str("job", "ingest, ...")),
		required(str("feed", "")),
		required(str("status", "ok, partial (some files quarantined whole), failed")),
		required(tstz("started_at", "")),
		required(tstz("finished_at", "")),
		tstz("window_start", "earliest landing hour processed"),
		tstz("window_end", "end of the latest landing hour processed"),
		required(i64("files", "landing files committed")),
		required(i64("files_unreadable", "files quarantined whole")),
		required(i64("bytes_in", "landing bytes read (compressed size)")),
		required(i64("rows_in", "records read")),
		required(i64("rows_out", "rows written to the target table")),
		required(i64("rows_rejected", "records quarantined")),
		required(i64("rows_duplicate", "duplicates dropped")),
		required(i64("commits", "Iceberg commits made")),
		str("error", ""),
		str("version", "adlake version"),
		str("inputs", "what the run read, as JSON: table -> snapshot id (gold runs: the silver snapshots)"),
	),
}

// Replays is ops.replays: one row per quarantined record that `adlake
// replay` re-submitted, with what became of it. A quarantine row with a
// replays row is no longer open.
var Replays = Table{
	Namespace: "ops", Name: "replays",
	Doc: "outcomes of re-submitted quarantine rows",
	Schema: fresh(
		required(str("feed", "")),
		required(str("source_file", "as ops.quarantine.source_file")),
		required(i64("source_offset", "as ops.quarantine.source_offset")),
		required(str("reason", "the quarantine reason that was replayed")),
		required(str("outcome", "accepted (now in silver), rejected (new_reason), or duplicate (already in silver)")),
		str("new_reason", "why it was rejected again"),
		required(str("run_id", "")),
		required(tstz("replayed_at", "")),
	),
}

// QuarantineRow is one row of ops.quarantine.
type QuarantineRow struct {
	Feed       string `col:"feed"`
	SourceFile string `col:"source_file"`
	// Offset is as bronze._source_offset; nil for a whole file.
	Offset *int64 `col:"source_offset"`
	// Records is how many landing records the row stands for; nil when
	// unknown (an unreadable file).
	Records     *int64    `col:"records"`
	Stage       string    `col:"stage"`
	Reason      string    `col:"reason"`
	Detail      string    `col:"detail"`
	Raw         string    `col:"raw"`
	RawEncoding string    `col:"raw_encoding"`
	LandingDate time.Time `col:"landing_dt"`
	RunID       string    `col:"run_id"`
	At          time.Time `col:"quarantined_at"`
}

// SetRaw stores raw in the row: as it is (text feeds) or, binary, as
// base64; nil raw is null.
func (r *QuarantineRow) SetRaw(raw []byte, binary bool) {
	r.RawEncoding = "text"
	switch {
	case raw == nil:
		r.Raw = ""
	case binary:
		r.Raw, r.RawEncoding = base64.StdEncoding.EncodeToString(raw), "base64"
	default:
		r.Raw = string(raw)
	}
}

// Run statuses, as in ops.runs.status.
const (
	RunOK      = "ok"
	RunPartial = "partial" // finished, but some files were quarantined whole
	RunFailed  = "failed"
	RunHeld    = "held" // gold: held back by a failed data-quality check
)

// RunRow is one row of ops.runs: one job run and feed ("*" for a job of
// no feed).
type RunRow struct {
	RunID           string    `col:"run_id"`
	Job             string    `col:"job"`
	Feed            string    `col:"feed"`
	Status          string    `col:"status"`
	Started         time.Time `col:"started_at"`
	Finished        time.Time `col:"finished_at"`
	WindowStart     time.Time `col:"window_start"`
	WindowEnd       time.Time `col:"window_end"`
	Files           int64     `col:"files"`
	FilesUnreadable int64     `col:"files_unreadable"`
	BytesIn         int64     `col:"bytes_in"`
	RowsIn          int64     `col:"rows_in"`
	RowsOut         int64     `col:"rows_out"`
	RowsRejected    int64     `col:"rows_rejected"`
	RowsDuplicate   int64     `col:"rows_duplicate"`
	Commits         int64     `col:"commits"`
	Error           string    `col:"error"`
	Version         string    `col:"version"`
	// Inputs is what the run read, as JSON (gold: silver table ->
	// snapshot id); "" for none.
	Inputs string `col:"inputs"`
}

// Replay outcomes, as in ops.replays.outcome.
const (
	OutcomeAccepted  = "accepted"
	OutcomeRejected  = "rejected"
	OutcomeDuplicate = "duplicate"
)

// ReplayRow is one row of ops.replays.
type ReplayRow struct {
	Feed       string    `col:"feed"`
	SourceFile string    `col:"source_file"`
	Offset     int64     `col:"source_offset"`
	Reason     string    `col:"reason"`
	Outcome    string    `col:"outcome"`
	NewReason  string    `col:"new_reason"`
	RunID      string    `col:"run_id"`
	At         time.Time `col:"replayed_at"`
}

// DQResults is ops.dq_results: one row per check evaluated on one
// partition (or on one run, for the per-run checks). Partitioned by the
// date the check is about, so the history of a check is a partition scan.
var DQResults = Table{
	Namespace: "ops", Name: "dq_results",
	Doc: "data-quality results: one check on one partition or run",
	Schema: fresh(
		required(date("dq_date", "the date the check is about: the event date checked, or the run's date")),
		required(str("check", "check name, see docs/quality.md")),
		required(str("table", "the table (or bronze feed table) checked")),
		required(str("partition", "the partition checked, e.g. event_date=2026-11-25/hour=13; empty for a whole run")),
		f64("observed", "the value observed"),
		f64("expected_low", "lowest value that passes; null when unbounded"),
		f64("expected_high", "highest value that passes; null when unbounded"),
		required(str("expected", "the expected range in words")),
		required(str("status", "pass, warn or fail")),
		str("detail", "more about the observation (JSON for schema drift)"),
		required(str("job", "the job that ran the check: ingest, quality, daily or backfill")),
		required(str("run_id", "")),
		required(tstz("checked_at", "")),
	),
	PartitionBy: []string{"dq_date"},
}

// Alerts is ops.alerts: one row per alert message sent (or attempted), a
// "firing" message when a check starts to warn or fail and a "resolved"
// message when it passes again.
var Alerts = Table{
	Namespace: "ops", Name: "alerts",
	Doc: "alerts sent: firing and resolved messages per check, table and partition",
	Schema: fresh(
		required(str("alert_key", "check|table|partition: one condition")),
		required(str("state", "firing or resolved")),
		required(str("status", "the check's status: warn or fail (pass for resolved)")),
		required(str("check", "")),
		required(str("table", "")),
		required(str("partition", "")),
		f64("observed", ""),
		required(str("expected", "")),
		required(str("runbook", "link to the runbook in docs/runbooks")),
		required(str("channels", "channels it was delivered to, comma-separated")),
		str("errors", "delivery errors, if any"),
		required(str("run_id", "")),
		required(tstz("sent_at", "")),
	),
}

// DQResultRow is one row of ops.dq_results. Low and High are NaN when
// unbounded, Observed when nothing was observed.
type DQResultRow struct {
	Date      time.Time `col:"dq_date"`
	Check     string    `col:"check"`
	Table     string    `col:"table"`
	Partition string    `col:"partition"`
	Observed  float64   `col:"observed"`
	Low       float64   `col:"expected_low"`
	High      float64   `col:"expected_high"`
	Expected  string    `col:"expected"`
	Status    string    `col:"status"`
	Detail    string    `col:"detail"`
	Job       string    `col:"job"`
	RunID     string    `col:"run_id"`
	At        time.Time `col:"checked_at"`
}

// Alert states, as in ops.alerts.state.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertRow is one row of ops.alerts.
type AlertRow struct {
	Key       string    `col:"alert_key"`
	State     string    `col:"state"`
	Status    string    `col:"status"`
	Check     string    `col:"check"`
	Table     string    `col:"table"`
	Partition string    `col:"partition"`
	Observed  float64   `col:"observed"`
	Expected  string    `col:"expected"`
	Runbook   string    `col:"runbook"`
	Channels  string    `col:"channels"`
	Errors    string    `col:"errors"`
	RunID     string    `col:"run_id"`
	At        time.Time `col:"sent_at"`
}
