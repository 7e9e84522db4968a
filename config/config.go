// Package config is adlake's configuration: one YAML file (adlake.yaml),
// every setting also as a command-line flag and an ADLAKE_* environment
// variable. Precedence, lowest first: built-in defaults, the file, the
// environment, flags.
//
// The Config struct is the single declaration: its tags name the YAML key,
// the flag, the environment variable and the help text, and drive parsing,
// `adlake config` and docs/configuration.md alike.
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/advertisex/adlake/lake/catalog"
)

// Config is every setting. With no file, no environment and no flags,
// everything lives under ./lakehouse/ and no service is needed.
type Config struct {
	Landing     string  `yaml:"landing" flag:"landing" env:"ADLAKE_LANDING" help:"landing zone root: a folder or s3://bucket/prefix"`
	Warehouse   string  `yaml:"warehouse" flag:"warehouse" env:"ADLAKE_WAREHOUSE" help:"Iceberg warehouse root: a folder or s3://bucket/prefix"`
	Catalog     string  `yaml:"catalog" flag:"catalog" env:"ADLAKE_CATALOG" help:"Iceberg SQL catalog: a SQLite file path, or postgres://user:pass@host:5432/db"`
	CatalogName string  `yaml:"catalog_name" flag:"catalog-name" env:"ADLAKE_CATALOG_NAME" help:"catalog name (Trino's and pyiceberg's catalog-name must match)"`
	S3          S3      `yaml:"s3"`
	Ingest      Ingest  `yaml:"ingest"`
	Silver      Silver  `yaml:"silver"`
	Gold        Gold    `yaml:"gold"`
	Quality     Quality `yaml:"quality"`
	Alerts      Alerts  `yaml:"alerts"`
	Log         Log     `yaml:"log"`
	// MemoryLimitMiB is the Go runtime's soft memory limit; the garbage
	// collector works harder as the heap nears it.
	MemoryLimitMiB int64 `yaml:"memory_limit_mib" flag:"memory-limit-mib" env:"ADLAKE_MEMORY_LIMIT_MIB" help:"soft memory limit of the process in MiB (GOMEMLIMIT, if set, wins)"`
}

// S3 configures S3 access for landing and warehouse. Credentials come from
// the standard AWS chain (environment, shared files, SSO, roles), never
// from this file.
type S3 struct {
	Endpoint  string `yaml:"endpoint" flag:"s3-endpoint" env:"ADLAKE_S3_ENDPOINT" help:"S3-compatible endpoint URL; empty for AWS"`
	Region    string `yaml:"region" flag:"s3-region" env:"ADLAKE_S3_REGION" help:"S3 region; empty uses the AWS chain's, else us-east-1"`
	PathStyle bool   `yaml:"path_style" flag:"s3-path-style" env:"ADLAKE_S3_PATH_STYLE" help:"path-style addressing (implied by a custom endpoint)"`
}

// Ingest tunes landing -> bronze.
type Ingest struct {
	MaxFilesPerCommit int   `yaml:"max_files_per_commit" flag:"max-files-per-commit" env:"ADLAKE_INGEST_MAX_FILES_PER_COMMIT" help:"landing files per Iceberg commit"`
	MaxBytesPerCommit int64 `yaml:"max_bytes_per_commit" flag:"max-bytes-per-commit" env:"ADLAKE_INGEST_MAX_BYTES_PER_COMMIT" help:"landing bytes per Iceberg commit"`
	BatchRows         int   `yaml:"batch_rows" flag:"batch-rows" env:"ADLAKE_INGEST_BATCH_ROWS" help:"rows per Arrow record batch"`
}

// Silver tunes bronze -> silver.
type Silver struct {
	Enabled              bool   `yaml:"enabled" flag:"silver" env:"ADLAKE_SILVER_ENABLED" help:"derive silver in the same micro-batch as bronze (--silver=false: bronze only)"`
	PseudonymKey         string `yaml:"pseudonym_key" flag:"pseudonym-key" env:"ADLAKE_SILVER_PSEUDONYM_KEY" help:"key of the user id hash (HMAC-SHA256); prefer the environment variable; never logged"`
	ExtraConversionTypes string `yaml:"extra_conversion_types" flag:"extra-conversion-types" env:"ADLAKE_SILVER_EXTRA_CONVERSION_TYPES" help:"comma-separated conversion types accepted besides the contract's five"`
	MaxRowsPerPass       int64  `yaml:"max_rows_per_pass" flag:"max-rows-per-pass" env:"ADLAKE_SILVER_MAX_ROWS_PER_PASS" help:"bronze rows one silver pass reads before committing"`
}

// ConversionTypes returns ExtraConversionTypes as a list.
func (s Silver) ConversionTypes() []string {
	var out []string
	for _, t := range strings.Split(s.ExtraConversionTypes, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Gold tunes silver -> gold (docs/gold.md).
type Gold struct {
	ClickWindowHours  int    `yaml:"click_window_hours" flag:"click-window-hours" env:"ADLAKE_GOLD_CLICK_WINDOW_HOURS" help:"a click is matched to the latest impression at most this many hours before it"`
	ClickLookbackDays int    `yaml:"click_lookback_days" flag:"click-lookback-days" env:"ADLAKE_GOLD_CLICK_LOOKBACK_DAYS" help:"a conversion is credited to the latest click at most this many days before it"`
	ViewLookbackHours int    `yaml:"view_lookback_hours" flag:"view-lookback-hours" env:"ADLAKE_GOLD_VIEW_LOOKBACK_HOURS" help:"else to the latest impression at most this many hours before it"`
	MemoryBudgetMiB   int64  `yaml:"memory_budget_mib" flag:"gold-memory-budget-mib" env:"ADLAKE_GOLD_MEMORY_BUDGET_MIB" help:"rows the attribution sort holds in memory before spilling sorted runs to disk, in MiB"`
	SpillDir          string `yaml:"spill_dir" flag:"spill-dir" env:"ADLAKE_GOLD_SPILL_DIR" help:"folder for spill files (default: the system temp folder)"`
}

// Threshold is one data-quality check's limits: the check warns when its
// observation reaches Warn and fails when it reaches Fail; 0 switches a
// level off. Severity caps what the check may raise.
type Threshold struct {
	Warn     float64 `yaml:"warn" flag:"warn" env:"WARN" help:"warn at"`
	Fail     float64 `yaml:"fail" flag:"fail" env:"FAIL" help:"fail at"`
	Severity string  `yaml:"severity" flag:"severity" env:"SEVERITY" help:"the most it raises: warn or fail"`
}

// RowCount configures the row-count check: hourly counts against the same
// hour of the week in earlier weeks (median and MAD).
type RowCount struct {
	Weeks      int     `yaml:"weeks" flag:"weeks" env:"WEEKS" help:"weeks of history compared"`
	MinHistory int     `yaml:"min_history" flag:"min-history" env:"MIN_HISTORY" help:"weeks of history needed before it judges"`
	MinMedian  float64 `yaml:"min_median" flag:"min-median" env:"MIN_MEDIAN" help:"hours whose historical median is below this are not judged"`
	Warn       float64 `yaml:"warn" flag:"warn" env:"WARN" help:"warn beyond this many robust deviations"`
	Fail       float64 `yaml:"fail" flag:"fail" env:"FAIL" help:"fail beyond this many robust deviations"`
	SettleMin  int     `yaml:"settle_minutes" flag:"settle-minutes" env:"SETTLE_MINUTES" help:"an hour is judged once it ended this long ago"`
	Severity   string  `yaml:"severity" flag:"severity" env:"SEVERITY" help:"the most it raises: warn or fail"`
}

// Quality configures the data-quality checks (docs/quality.md).
type Quality struct {
	Enabled         bool      `yaml:"enabled" flag:"quality" env:"ADLAKE_QUALITY_ENABLED" help:"run the per-run checks after every ingest and the partition checks in the daily job"`
	HoldGold        bool      `yaml:"hold_gold" flag:"quality-hold-gold" env:"ADLAKE_QUALITY_HOLD_GOLD" help:"a failed partition check on a date holds back gold for that date"`
	RowCount        RowCount  `yaml:"row_count" flag:"quality-row-count" env:"ADLAKE_QUALITY_ROW_COUNT" help:"row count per event hour"`
	FreshEvents     Threshold `yaml:"freshness_event" flag:"quality-freshness-event" env:"ADLAKE_QUALITY_FRESHNESS_EVENT" help:"minutes since the newest event of a feed"`
	FreshLanding    Threshold `yaml:"freshness_landing" flag:"quality-freshness-landing" env:"ADLAKE_QUALITY_FRESHNESS_LANDING" help:"minutes since the end of the newest landing hour of a feed"`
	JobNotRun       Threshold `yaml:"job_not_run" flag:"quality-job-not-run" env:"ADLAKE_QUALITY_JOB_NOT_RUN" help:"minutes since the last successful ingest run"`
	AcceptedFields  string    `yaml:"accepted_fields" flag:"quality-accepted-fields" env:"ADLAKE_QUALITY_ACCEPTED_FIELDS" help:"comma-separated feed:field names the schema-drift check accepts besides the contract, e.g. impressions:viewability"`
	SchemaDrift     Threshold `yaml:"schema_drift" flag:"quality-schema-drift" env:"ADLAKE_QUALITY_SCHEMA_DRIFT" help:"landing files of a run whose fields differ from the contract"`
	NullRate        Threshold `yaml:"null_rate" flag:"quality-null-rate" env:"ADLAKE_QUALITY_NULL_RATE" help:"share of nulls in a monitored silver column per date"`
	DuplicateRate   Threshold `yaml:"duplicate_rate" flag:"quality-duplicate-rate" env:"ADLAKE_QUALITY_DUPLICATE_RATE" help:"share of a run's records dropped as duplicates"`
	RejectRate      Threshold `yaml:"reject_rate" flag:"quality-reject-rate" env:"ADLAKE_QUALITY_REJECT_RATE" help:"share of a run's records quarantined"`
	UnknownCreative Threshold `yaml:"unknown_creative" flag:"quality-unknown-creative" env:"ADLAKE_QUALITY_UNKNOWN_CREATIVE" help:"share of a date's impressions whose creative is not in ref.creatives"`
	OrphanClicks    Threshold `yaml:"orphan_clicks" flag:"quality-orphan-clicks" env:"ADLAKE_QUALITY_ORPHAN_CLICKS" help:"share of a date's clicks with no impression of the user and campaign in the 24 h before"`
	Reconciliation  Threshold `yaml:"reconciliation" flag:"quality-reconciliation" env:"ADLAKE_QUALITY_RECONCILIATION" help:"records of a run not accounted for (landing = bronze + rejected; bronze read = silver + rejected + duplicates)"`
}

// Alerts configures where warn and fail results are sent (docs/alerts.md).
// Credentials come from the AWS chain and the environment, never from here.
type Alerts struct {
	SNSTopicARN     string `yaml:"sns_topic_arn" flag:"alert-sns-topic-arn" env:"ADLAKE_ALERTS_SNS_TOPIC_ARN" help:"SNS topic to publish alerts to (empty: no SNS)"`
	SNSEndpoint     string `yaml:"sns_endpoint" flag:"alert-sns-endpoint" env:"ADLAKE_ALERTS_SNS_ENDPOINT" help:"SNS endpoint URL; empty for AWS"`
	SMTPAddr        string `yaml:"smtp_addr" flag:"alert-smtp-addr" env:"ADLAKE_ALERTS_SMTP_ADDR" help:"SMTP server host:port (empty: no email)"`
	EmailFrom       string `yaml:"email_from" flag:"alert-email-from" env:"ADLAKE_ALERTS_EMAIL_FROM" help:"sender address of alert emails"`
	EmailTo         string `yaml:"email_to" flag:"alert-email-to" env:"ADLAKE_ALERTS_EMAIL_TO" help:"comma-separated recipients of alert emails"`
	SMTPUsername    string `yaml:"smtp_username" flag:"alert-smtp-username" env:"ADLAKE_ALERTS_SMTP_USERNAME" help:"SMTP user (PLAIN auth); empty: no auth"`
	SMTPPasswordEnv string `yaml:"smtp_password_env" flag:"alert-smtp-password-env" env:"ADLAKE_ALERTS_SMTP_PASSWORD_ENV" help:"name of the environment variable holding the SMTP password"`
	WebhookURL      string `yaml:"webhook_url" flag:"alert-webhook-url" env:"ADLAKE_ALERTS_WEBHOOK_URL" help:"URL receiving Slack-compatible JSON alerts (empty: no webhook); a secret, prefer the environment"`
	RunbookBase     string `yaml:"runbook_base" flag:"alert-runbook-base" env:"ADLAKE_ALERTS_RUNBOOK_BASE" help:"base URL or path of the runbooks (docs/runbooks)"`
}

// Log configures logging (to stderr).
type Log struct {
	Format string `yaml:"format" flag:"log-format" env:"ADLAKE_LOG_FORMAT" help:"json or text"`
	Level  string `yaml:"level" flag:"log-level" env:"ADLAKE_LOG_LEVEL" help:"debug, info, warn or error"`
}

// Default returns the built-in defaults: the embedded lakehouse under dir.
func Default(dir string) Config {
	return Config{
		Landing: dir + "/landing", Warehouse: dir + "/warehouse", Catalog: dir + "/catalog.db", CatalogName: "adlake",
		Ingest:         Ingest{MaxFilesPerCommit: 500, MaxBytesPerCommit: 1 << 30, BatchRows: 8192},
		Silver:         Silver{Enabled: true, MaxRowsPerPass: 2_000_000},
		Gold:           Gold{ClickWindowHours: 24, ClickLookbackDays: 7, ViewLookbackHours: 24, MemoryBudgetMiB: 512},
		Quality:        defaultQuality(),
		Alerts:         Alerts{RunbookBase: "https://github.com/advertisex/adlake/blob/main/docs/runbooks/"},
		Log:            Log{Format: "json", Level: "info"},
		MemoryLimitMiB: 512,
	}
}

func defaultQuality() Quality {
	fail := func(w, f float64) Threshold { return Threshold{Warn: w, Fail: f, Severity: "fail"} }
	return Quality{
		Enabled: true, HoldGold: true,
		RowCount:        RowCount{Weeks: 4, MinHistory: 3, MinMedian: 20, Warn: 4, Fail: 6, SettleMin: 60, Severity: "fail"},
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

// DefaultDir is where everything lives with no configuration.
const DefaultDir = "./lakehouse"

// ConfigEnv names the environment variable holding the config file path.
const ConfigEnv = "ADLAKE_CONFIG"

// Setting is one configurable value.
type Setting struct {
	Key, Flag, Env, Help string
	value                reflect.Value
}

// Settings lists every setting of c, in declaration order; setting one
// writes through to c.
//
// A struct field that itself carries flag, env and help tags (such as a
// [Threshold]) prefixes its fields' tags: flag "quality-reject-rate" and
// inner flag "warn" make --quality-reject-rate-warn, env
// ADLAKE_QUALITY_REJECT_RATE + "WARN" makes ADLAKE_QUALITY_REJECT_RATE_WARN,
// and the help texts are joined.
func Settings(c *Config) []Setting {
	var out []Setting
	var walk func(v reflect.Value, prefix string, parent Setting)
	walk = func(v reflect.Value, prefix string, parent Setting) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			s := Setting{Key: prefix + f.Tag.Get("yaml"), Flag: f.Tag.Get("flag"), Env: f.Tag.Get("env"), Help: f.Tag.Get("help"), value: v.Field(i)}
			if parent.Flag != "" {
				s.Flag, s.Env, s.Help = parent.Flag+"-"+s.Flag, parent.Env+"_"+s.Env, parent.Help+": "+s.Help
			}
			if f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), s.Key+".", Setting{Flag: s.Flag, Env: s.Env, Help: s.Help})
				continue
			}
			out = append(out, s)
		}
	}
	walk(reflect.ValueOf(c).Elem(), "", Setting{})
	return out
}

// String returns the value as text ("" for the zero Setting, which the
// flag package creates to find default values).
func (s Setting) String() string {
	if !s.value.IsValid() {
		return ""
	}
	return fmt.Sprint(s.value.Interface())
}

// Set parses text into the setting.
func (s Setting) Set(text string) error {
	switch s.value.Kind() {
	case reflect.String:
		s.value.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%s: want true or false, got %q", s.Key, text)
		}
		s.value.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: want an integer, got %q", s.Key, text)
		}
		s.value.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("%s: want a number, got %q", s.Key, text)
		}
		s.value.SetFloat(x)
	default:
		return fmt.Errorf("%s: unsupported type %s", s.Key, s.value.Kind())
	}
	return nil
}

// IsBoolFlag lets `--s3-path-style` stand alone.
func (s Setting) IsBoolFlag() bool { return s.value.IsValid() && s.value.Kind() == reflect.Bool }

// Register adds a flag for every setting to fs; parsing fs then overrides c.
func Register(fs *flag.FlagSet, c *Config) {
	for _, s := range Settings(c) {
		fs.Var(s, s.Flag, fmt.Sprintf("%s (%s, env %s)", s.Help, s.Key, s.Env))
	}
}

// Load returns the defaults overridden by the file at path (if path is not
// empty) and then by the environment (getenv). Flags registered with
// Register apply on top when their FlagSet is parsed afterwards.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default(DefaultDir)
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, s := range Settings(&c) {
		if v := getenv(s.Env); v != "" {
			if err := s.Set(v); err != nil {
				return c, fmt.Errorf("config: %s: %w", s.Env, err)
			}
		}
	}
	return c, nil
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, s := range []struct{ name, v string }{{"landing", c.Landing}, {"warehouse", c.Warehouse}, {"catalog", c.Catalog}, {"catalog_name", c.CatalogName}} {
		if s.v == "" {
			errs = append(errs, fmt.Errorf("%s must be set", s.name))
		}
	}
	if c.Ingest.MaxFilesPerCommit <= 0 || c.Ingest.MaxBytesPerCommit <= 0 || c.Ingest.BatchRows <= 0 || c.Silver.MaxRowsPerPass <= 0 {
		errs = append(errs, errors.New("ingest limits must be positive"))
	}
	if c.MemoryLimitMiB < 64 {
		errs = append(errs, fmt.Errorf("memory_limit_mib %d: want at least 64", c.MemoryLimitMiB))
	}
	q := c.Quality
	for name, sev := range map[string]string{"row_count": q.RowCount.Severity, "freshness_event": q.FreshEvents.Severity,
		"freshness_landing": q.FreshLanding.Severity, "job_not_run": q.JobNotRun.Severity, "schema_drift": q.SchemaDrift.Severity,
		"null_rate": q.NullRate.Severity, "duplicate_rate": q.DuplicateRate.Severity, "reject_rate": q.RejectRate.Severity,
		"unknown_creative": q.UnknownCreative.Severity, "orphan_clicks": q.OrphanClicks.Severity, "reconciliation": q.Reconciliation.Severity} {
		if sev != "warn" && sev != "fail" {
			errs = append(errs, fmt.Errorf("quality.%s.severity %q: want warn or fail", name, sev))
		}
	}
	if c.Gold.MemoryBudgetMiB < 16 {
		errs = append(errs, fmt.Errorf("gold.memory_budget_mib %d: want at least 16", c.Gold.MemoryBudgetMiB))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format %q: want json or text", c.Log.Format))
	}
	return errors.Join(errs...)
}

// YAML renders c as a config file, with the catalog password and the
// pseudonymization key hidden.
func (c Config) YAML() string {
	c.Catalog = catalog.Redact(c.Catalog)
	if c.Silver.PseudonymKey != "" {
		c.Silver.PseudonymKey = "***"
	}
	b, _ := yaml.Marshal(c) // a struct of strings and numbers always marshals
	return string(b)
}

// Reference renders the settings as a Markdown table (docs/configuration.md).
func Reference() string {
	c := Default(DefaultDir)
	var b strings.Builder
	b.WriteString("| YAML key | flag | environment | default | meaning |\n|---|---|---|---|---|\n")
	for _, s := range Settings(&c) {
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | `%s` | %s |\n", s.Key, s.Flag, s.Env, s.String(), s.Help)
	}
	return b.String()
}
