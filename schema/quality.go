package schema

// The operations layer's data-quality tables: what every check found, and
// every alert sent about it.

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

// Quality lists the data-quality tables.
func Quality() []Table { return []Table{DQResults, Alerts} }
