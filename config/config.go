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
	Landing     string `yaml:"landing" flag:"landing" env:"ADLAKE_LANDING" help:"landing zone root: a folder or s3://bucket/prefix"`
	Warehouse   string `yaml:"warehouse" flag:"warehouse" env:"ADLAKE_WAREHOUSE" help:"Iceberg warehouse root: a folder or s3://bucket/prefix"`
	Catalog     string `yaml:"catalog" flag:"catalog" env:"ADLAKE_CATALOG" help:"Iceberg SQL catalog: a SQLite file path, or postgres://user:pass@host:5432/db"`
	CatalogName string `yaml:"catalog_name" flag:"catalog-name" env:"ADLAKE_CATALOG_NAME" help:"catalog name (Trino's and pyiceberg's catalog-name must match)"`
	S3          S3     `yaml:"s3"`
	Ingest      Ingest `yaml:"ingest"`
	Silver      Silver `yaml:"silver"`
	Log         Log    `yaml:"log"`
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
		Log:            Log{Format: "json", Level: "info"},
		MemoryLimitMiB: 512,
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
func Settings(c *Config) []Setting {
	var out []Setting
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := prefix + f.Tag.Get("yaml")
			if f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), key+".")
				continue
			}
			out = append(out, Setting{Key: key, Flag: f.Tag.Get("flag"), Env: f.Tag.Get("env"), Help: f.Tag.Get("help"), value: v.Field(i)})
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
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
