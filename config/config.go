// Package config is adlake's configuration: one YAML file (adlake.yaml),
// every setting also as a command-line flag and an ADLAKE_* environment
// variable. Precedence, lowest first: built-in defaults, the file, the
// environment, flags.
//
// The Config struct is the single declaration: its tags (and those of the
// types it embeds from the jobs, such as quality.Limits) name the YAML
// key, the flag, the environment variable and the help text, and drive
// parsing, `adlake config` and docs/configuration.md alike.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/bronze"
	"github.com/advertisex/adlake/jobs/gold"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/jobs/silver"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/lake/secret"
)

// Config is every setting. With no file, no environment and no flags,
// everything lives under ./lakehouse/ and no service is needed.
type Config struct {
	Landing     string         `group:"landing" yaml:"landing" flag:"landing" env:"ADLAKE_LANDING" help:"landing zone root: a folder or s3://bucket/prefix"`
	Warehouse   string         `group:"lake" yaml:"warehouse" flag:"warehouse" env:"ADLAKE_WAREHOUSE" help:"Iceberg warehouse root: a folder or s3://bucket/prefix"`
	Catalog     string         `group:"lake" yaml:"catalog" flag:"catalog" env:"ADLAKE_CATALOG" help:"Iceberg SQL catalog: a SQLite file path, or postgres://user:pass@host:5432/db"`
	CatalogName string         `group:"lake" yaml:"catalog_name" flag:"catalog-name" env:"ADLAKE_CATALOG_NAME" help:"catalog name (Trino's and pyiceberg's catalog-name must match)"`
	S3          S3             `group:"s3" yaml:"s3"`
	Ingest      Ingest         `group:"ingest" yaml:"ingest"`
	Silver      Silver         `group:"silver" yaml:"silver"`
	Gold        Gold           `group:"gold" yaml:"gold"`
	Quality     quality.Limits `group:"quality" yaml:"quality"` // declared with the checks (docs/quality.md)
	Alerts      Alerts         `group:"alerts" yaml:"alerts"`
	Log         Log            `group:"process" yaml:"log"`
	// MemoryLimitMiB is the Go runtime's soft memory limit; the garbage
	// collector works harder as the heap nears it.
	MemoryLimitMiB int64 `group:"process" yaml:"memory_limit_mib" flag:"memory-limit-mib" env:"ADLAKE_MEMORY_LIMIT_MIB" help:"soft memory limit of the process in MiB (GOMEMLIMIT, if set, wins)"`
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
		Quality:        quality.DefaultLimits(),
		Alerts:         Alerts{RunbookBase: "https://github.com/advertisex/adlake/blob/main/docs/runbooks/"},
		Log:            Log{Format: "json", Level: "info"},
		MemoryLimitMiB: 512,
	}
}

// DefaultDir is where everything lives with no configuration.
const DefaultDir = "./lakehouse"

// ConfigEnv names the environment variable holding the config file path.
const ConfigEnv = "ADLAKE_CONFIG"

// Groups of settings: each command takes, as flags, the settings of the
// groups it uses (its --help lists only those); GroupProcess (logging,
// memory) is always taken, and GroupS3 with GroupLanding or GroupLake.
// The file and the environment set every setting whatever the command.
const (
	GroupLanding = "landing" // the landing zone
	GroupLake    = "lake"    // warehouse and catalog
	GroupS3      = "s3"      // S3 access for landing and warehouse
	GroupIngest  = "ingest"  // landing -> bronze tuning
	GroupSilver  = "silver"  // silver rules
	GroupGold    = "gold"    // attribution and marts
	GroupQuality = "quality" // data-quality checks
	GroupAlerts  = "alerts"  // alert channels
	GroupProcess = "process" // logging, memory
)

// Groups lists every group.
var Groups = []string{GroupLanding, GroupLake, GroupS3, GroupIngest, GroupSilver, GroupGold, GroupQuality, GroupAlerts, GroupProcess}

// Setting is one configurable value.
type Setting struct {
	Key, Flag, Env, Help string
	// Group is the group of the top-level field it belongs to.
	Group string
	value reflect.Value
}

// Settings lists every setting of c, in declaration order; setting one
// writes through to c.
//
// A struct field that itself carries flag, env and help tags (such as a
// [quality.Threshold]) prefixes its fields' tags: flag
// "quality-reject-rate" and inner flag "warn" make
// --quality-reject-rate-warn, env
// ADLAKE_QUALITY_REJECT_RATE + "WARN" makes ADLAKE_QUALITY_REJECT_RATE_WARN,
// and the help texts are joined.
func Settings(c *Config) []Setting {
	var out []Setting
	var walk func(v reflect.Value, prefix string, parent Setting)
	walk = func(v reflect.Value, prefix string, parent Setting) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			s := Setting{Key: prefix + f.Tag.Get("yaml"), Flag: f.Tag.Get("flag"), Env: f.Tag.Get("env"), Help: f.Tag.Get("help"),
				Group: cmp.Or(parent.Group, f.Tag.Get("group")), value: v.Field(i)}
			if parent.Flag != "" {
				s.Flag, s.Env, s.Help = parent.Flag+"-"+s.Flag, parent.Env+"_"+s.Env, parent.Help+": "+s.Help
			}
			if f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), s.Key+".", Setting{Flag: s.Flag, Env: s.Env, Help: s.Help, Group: s.Group})
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

// Type names the setting's kind in flag help (pflag.Value).
func (s Setting) Type() string {
	if !s.value.IsValid() {
		return "string"
	}
	switch s.value.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "float"
	}
	return "string"
}

// Register adds a flag to fs for every setting of groups (see Groups);
// parsing fs then overrides c. The defaults --help shows are the built-in
// ones, never c's values: those may come from the environment or a file
// and hold secrets.
func Register(fs *pflag.FlagSet, c *Config, groups ...string) {
	want := map[string]bool{GroupProcess: true}
	for _, g := range groups {
		want[g] = true
	}
	want[GroupS3] = want[GroupS3] || want[GroupLanding] || want[GroupLake]
	builtin := Default(DefaultDir)
	defaults := map[string]string{}
	for _, d := range Settings(&builtin) {
		defaults[d.Key] = d.String()
	}
	for _, s := range Settings(c) {
		if !want[s.Group] {
			continue
		}
		f := fs.VarPF(s, s.Flag, "", fmt.Sprintf("%s (%s, env %s)", s.Help, s.Key, s.Env))
		f.DefValue = defaults[s.Key]
		if s.Type() == "bool" {
			f.NoOptDefVal = "true"
		}
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
	if err := c.Quality.Validate(); err != nil {
		errs = append(errs, err)
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
	c.Catalog = secret.Redact(c.Catalog)
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

// Path finds the configuration file, before flags are parsed (the file's
// values must be in place before flags override them): --config in args,
// else $ADLAKE_CONFIG, else ./adlake.yaml when it exists; "" for none.
func Path(args []string, getenv func(string) string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	if p := getenv(ConfigEnv); p != "" {
		return p
	}
	if _, err := os.Stat("adlake.yaml"); err == nil {
		return "adlake.yaml"
	}
	return ""
}

// S3Options are the object stores' S3 settings.
func (c Config) S3Options() objstore.S3Options {
	return objstore.S3Options{Endpoint: c.S3.Endpoint, Region: c.S3.Region, PathStyle: c.S3.PathStyle}
}

// CatalogOptions open the configured catalog.
func (c Config) CatalogOptions(log *slog.Logger) catalog.Options {
	return catalog.Options{Name: c.CatalogName, URI: c.Catalog, Warehouse: c.Warehouse, S3: c.S3Options(), Logger: log}
}

// BronzeOptions tune landing -> bronze.
func (c Config) BronzeOptions() bronze.Options {
	return bronze.Options{MaxFilesPerCommit: c.Ingest.MaxFilesPerCommit, MaxBytesPerCommit: c.Ingest.MaxBytesPerCommit, BatchRows: c.Ingest.BatchRows}
}

// SilverOptions configure the silver rules for run runID.
func (c Config) SilverOptions(runID string, log *slog.Logger) silver.Options {
	return silver.Options{RunID: runID, PseudonymKey: c.Silver.PseudonymKey, ExtraConversionTypes: c.Silver.ConversionTypes(),
		MaxRowsPerPass: c.Silver.MaxRowsPerPass, BatchRows: c.Ingest.BatchRows, Logger: log}
}

// GoldOptions configure gold builds.
func (c Config) GoldOptions() gold.Options {
	g := c.Gold
	return gold.Options{Windows: gold.Windows{ClickToImpression: time.Duration(g.ClickWindowHours) * time.Hour,
		ConversionToClick: time.Duration(g.ClickLookbackDays) * 24 * time.Hour,
		ConversionToView:  time.Duration(g.ViewLookbackHours) * time.Hour},
		MemoryBudget: g.MemoryBudgetMiB << 20, SpillDir: g.SpillDir, BatchRows: c.Ingest.BatchRows}
}

// ChannelOptions are the configured alert channels.
func (a Alerts) ChannelOptions() alert.ChannelOptions {
	var to []string
	for _, x := range strings.Split(a.EmailTo, ",") {
		if x = strings.TrimSpace(x); x != "" {
			to = append(to, x)
		}
	}
	return alert.ChannelOptions{SNSTopicARN: a.SNSTopicARN, SNSEndpoint: a.SNSEndpoint, SMTPAddr: a.SMTPAddr, EmailFrom: a.EmailFrom,
		EmailTo: to, SMTPUsername: a.SMTPUsername, SMTPPasswordEnv: a.SMTPPasswordEnv, WebhookURL: a.WebhookURL}
}

// TuneRuntime sets the garbage collector for batch work: collect at 200 %
// heap growth instead of 100 % (measured: 10-15 % faster ingest), under the
// soft memory limit memory_limit_mib, which makes it collect harder near
// the limit. GOGC and GOMEMLIMIT, when set in the environment, win.
func (c Config) TuneRuntime(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" && c.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(c.MemoryLimitMiB << 20)
	}
}

// Logger returns a logger writing to w as JSON (default) or text, at the
// configured level. It also routes the standard log package (iceberg-go
// writes its rare warnings there) into the logger, as warnings.
func (l Log) Logger(w io.Writer) *slog.Logger {
	lg := l.logger(w)
	log.SetFlags(0)
	log.SetOutput(stdLog{lg})
	return lg
}

type stdLog struct{ l *slog.Logger }

func (w stdLog) Write(p []byte) (int, error) {
	w.l.Warn(strings.TrimSpace(string(p)), "source", "iceberg-go")
	return len(p), nil
}

func (l Log) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
