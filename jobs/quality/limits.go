package quality

import (
	"errors"
	"fmt"
)

// The limits are declared here and embedded in adlake's configuration
// (package config): their struct tags name the YAML keys, flags,
// environment variables and help texts of the settings, so they are part
// of docs/configuration.md and must not change without it.

// Threshold is one data-quality check's limits: the check warns when its
// observation reaches Warn and fails when it reaches Fail; 0 switches a
// level off. Severity caps what the check may raise: "warn" or "fail"
// (see [Limits.Validate]).
type Threshold struct {
	Warn     float64 `yaml:"warn" flag:"warn" env:"WARN" help:"warn at"`
	Fail     float64 `yaml:"fail" flag:"fail" env:"FAIL" help:"fail at"`
	Severity string  `yaml:"severity" flag:"severity" env:"SEVERITY" help:"the most it raises: warn or fail"`
}

// RowCountLimits configures the row-count check: hourly counts against the same
// hour of the week in earlier weeks (median and MAD). Warn and Fail are
// robust deviations from the median; 0 switches a level off.
type RowCountLimits struct {
	Weeks      int     `yaml:"weeks" flag:"weeks" env:"WEEKS" help:"weeks of history compared"`
	MinHistory int     `yaml:"min_history" flag:"min-history" env:"MIN_HISTORY" help:"weeks of history needed before it judges"`
	MinMedian  float64 `yaml:"min_median" flag:"min-median" env:"MIN_MEDIAN" help:"hours whose historical median is below this are not judged"`
	Warn       float64 `yaml:"warn" flag:"warn" env:"WARN" help:"warn beyond this many robust deviations"`
	Fail       float64 `yaml:"fail" flag:"fail" env:"FAIL" help:"fail beyond this many robust deviations"`
	SettleMin  int     `yaml:"settle_minutes" flag:"settle-minutes" env:"SETTLE_MINUTES" help:"an hour is judged once it ended this long ago"`
	Severity   string  `yaml:"severity" flag:"severity" env:"SEVERITY" help:"the most it raises: warn or fail"`
}

// Limits configures the data-quality checks (docs/quality.md): whether
// the jobs run them, and every check's limits. The zero value is not
// useful; start from [DefaultLimits].
type Limits struct {
	Enabled         bool           `yaml:"enabled" flag:"quality" env:"ADLAKE_QUALITY_ENABLED" help:"run the per-run checks after every ingest and the partition checks in the daily job"`
	HoldGold        bool           `yaml:"hold_gold" flag:"quality-hold-gold" env:"ADLAKE_QUALITY_HOLD_GOLD" help:"a failed partition check on a date holds back gold for that date"`
	RowCount        RowCountLimits `yaml:"row_count" flag:"quality-row-count" env:"ADLAKE_QUALITY_ROW_COUNT" help:"row count per event hour"`
	FreshEvents     Threshold      `yaml:"freshness_event" flag:"quality-freshness-event" env:"ADLAKE_QUALITY_FRESHNESS_EVENT" help:"minutes since the newest event of a feed"`
	FreshLanding    Threshold      `yaml:"freshness_landing" flag:"quality-freshness-landing" env:"ADLAKE_QUALITY_FRESHNESS_LANDING" help:"minutes since the end of the newest landing hour of a feed"`
	JobNotRun       Threshold      `yaml:"job_not_run" flag:"quality-job-not-run" env:"ADLAKE_QUALITY_JOB_NOT_RUN" help:"minutes since the last successful ingest run"`
	AcceptedFields  string         `yaml:"accepted_fields" flag:"quality-accepted-fields" env:"ADLAKE_QUALITY_ACCEPTED_FIELDS" help:"comma-separated feed:field names the schema-drift check accepts besides the contract, e.g. impressions:viewability"`
	SchemaDrift     Threshold      `yaml:"schema_drift" flag:"quality-schema-drift" env:"ADLAKE_QUALITY_SCHEMA_DRIFT" help:"landing files of a run whose fields differ from the contract"`
	NullRate        Threshold      `yaml:"null_rate" flag:"quality-null-rate" env:"ADLAKE_QUALITY_NULL_RATE" help:"share of nulls in a monitored silver column per date"`
	DuplicateRate   Threshold      `yaml:"duplicate_rate" flag:"quality-duplicate-rate" env:"ADLAKE_QUALITY_DUPLICATE_RATE" help:"share of a run's records dropped as duplicates"`
	RejectRate      Threshold      `yaml:"reject_rate" flag:"quality-reject-rate" env:"ADLAKE_QUALITY_REJECT_RATE" help:"share of a run's records quarantined"`
	UnknownCreative Threshold      `yaml:"unknown_creative" flag:"quality-unknown-creative" env:"ADLAKE_QUALITY_UNKNOWN_CREATIVE" help:"share of a date's impressions whose creative is not in ref.creatives"`
	OrphanClicks    Threshold      `yaml:"orphan_clicks" flag:"quality-orphan-clicks" env:"ADLAKE_QUALITY_ORPHAN_CLICKS" help:"share of a date's clicks with no impression of the user and campaign in the 24 h before"`
	Reconciliation  Threshold      `yaml:"reconciliation" flag:"quality-reconciliation" env:"ADLAKE_QUALITY_RECONCILIATION" help:"records of a run not accounted for (landing = bronze + rejected; bronze read = silver + rejected + duplicates)"`
}

// DefaultLimits returns the built-in limits (docs/quality.md).
func DefaultLimits() Limits {
	fail := func(w, f float64) Threshold { return Threshold{Warn: w, Fail: f, Severity: "fail"} }
	return Limits{
		Enabled: true, HoldGold: true,
		RowCount:        RowCountLimits{Weeks: 4, MinHistory: 3, MinMedian: 20, Warn: 4, Fail: 6, SettleMin: 60, Severity: "fail"},
		FreshEvents:     fail(90, 240),
		FreshLanding:    fail(60, 180),
		JobNotRun:       fail(30, 120),
		SchemaDrift:     Threshold{Warn: 1, Severity: "warn"},
		NullRate:        fail(0.3, 0.6),
		DuplicateRate:   fail(0.05, 0.2),
		RejectRate:      fail(0.02, 0.1),
		UnknownCreative: fail(0.005, 0.05),
		OrphanClicks:    fail(0.01, 0.05),
		Reconciliation:  fail(1, 1),
	}
}

// Validate reports every severity that is neither "warn" nor "fail", as
// "quality.<check>.severity ...", in declaration order.
func (l Limits) Validate() error {
	var errs []error
	for _, s := range []struct{ name, sev string }{
		{"row_count", l.RowCount.Severity}, {"freshness_event", l.FreshEvents.Severity},
		{"freshness_landing", l.FreshLanding.Severity}, {"job_not_run", l.JobNotRun.Severity},
		{"schema_drift", l.SchemaDrift.Severity}, {"null_rate", l.NullRate.Severity},
		{"duplicate_rate", l.DuplicateRate.Severity}, {"reject_rate", l.RejectRate.Severity},
		{"unknown_creative", l.UnknownCreative.Severity}, {"orphan_clicks", l.OrphanClicks.Severity},
		{"reconciliation", l.Reconciliation.Severity},
	} {
		if s.sev != string(Warn) && s.sev != string(Fail) {
			errs = append(errs, fmt.Errorf("quality.%s.severity %q: want warn or fail", s.name, s.sev))
		}
	}
	return errors.Join(errs...)
}
