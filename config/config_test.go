package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestPrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "adlake.yaml")
	os.WriteFile(path, []byte("landing: /file/landing\nwarehouse: /file/wh\ningest:\n  batch_rows: 100\ns3:\n  region: eu-west-1\n"), 0o644)
	env := map[string]string{"ADLAKE_WAREHOUSE": "s3://env/wh", "ADLAKE_INGEST_BATCH_ROWS": "200"}
	c, err := Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	Register(fs, &c, Groups...)
	if err := fs.Parse([]string{"--batch-rows", "300", "--s3-path-style"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ got, want any }{
		{c.Landing, "/file/landing"},          // file over default
		{c.Warehouse, "s3://env/wh"},          // env over file
		{c.Ingest.BatchRows, 300},             // flag over env over file
		{c.S3.Region, "eu-west-1"},            // nested key from the file
		{c.S3.PathStyle, true},                // bare bool flag
		{c.Catalog, "./lakehouse/catalog.db"}, // default
		{c.Ingest.MaxFilesPerCommit, 500},
	}
	for i, cs := range cases {
		if cs.got != cs.want {
			t.Errorf("case %d: got %v, want %v", i, cs.got, cs.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("landin: typo\n"), 0o644)
	if _, err := Load(bad, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "landin") {
		t.Fatalf("unknown key: err = %v", err)
	}
	if _, err := Load("", func(k string) string { return map[string]string{"ADLAKE_INGEST_BATCH_ROWS": "many"}[k] }); err == nil {
		t.Fatal("bad integer in env accepted")
	}
	c := Default("x")
	c.Log.Format = "xml"
	c.Ingest.BatchRows = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "xml") || !strings.Contains(err.Error(), "positive") {
		t.Fatalf("validate: %v", err)
	}
}

func TestEverySettingIsReachable(t *testing.T) {
	c := Default(DefaultDir)
	seen := map[string]bool{}
	for _, s := range Settings(&c) {
		if s.Flag == "" || !strings.HasPrefix(s.Env, "ADLAKE_") || s.Help == "" {
			t.Errorf("setting %s lacks a flag, env or help: %+v", s.Key, s)
		}
		if seen[s.Flag] {
			t.Errorf("flag --%s declared twice", s.Flag)
		}
		seen[s.Flag] = true
	}
}

func TestRedact(t *testing.T) {
	c := Default(".")
	c.Catalog = "postgres://u:pw@h/db"
	c.Silver.PseudonymKey = "sekrit"
	if y := c.YAML(); strings.Contains(y, "pw") || strings.Contains(y, "sekrit") {
		t.Fatalf("secret in YAML output:\n%s", y)
	}
	c.Silver.ExtraConversionTypes = " refund, ,Trial "
	if got := c.Silver.ConversionTypes(); len(got) != 2 || got[0] != "refund" || got[1] != "Trial" {
		t.Fatalf("conversion types %q", got)
	}
}

// TestConfigurationDocIsCurrent keeps docs/configuration.md in step with
// the declaration: regenerate the table with `adlake config --reference`.
func TestConfigurationDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), Reference()) {
		t.Fatal("docs/configuration.md does not contain the current settings table; paste `adlake config --reference` into it")
	}
}

// TestExampleConfigLoads keeps adlake.yaml.example valid.
func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../adlake.yaml.example", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Quality.AcceptedFields != "impressions:viewability" || c.Gold.MemoryBudgetMiB != 512 || c.Alerts.SMTPPasswordEnv != "ADLAKE_SMTP_PASSWORD" {
		t.Fatalf("example not read as written: %+v %+v", c.Quality, c.Alerts)
	}
}

// TestQualitySeverity: the limits embedded from jobs/quality are validated
// with the configuration, and their settings keep their names.
func TestQualitySeverity(t *testing.T) {
	c, err := Load("", func(k string) string {
		return map[string]string{"ADLAKE_QUALITY_REJECT_RATE_SEVERITY": "loud", "ADLAKE_QUALITY_ROW_COUNT_WARN": "3.5"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Quality.RowCount.Warn != 3.5 {
		t.Fatalf("quality.row_count.warn = %v, want 3.5 from the environment", c.Quality.RowCount.Warn)
	}
	err = c.Validate()
	if want := `quality.reject_rate.severity "loud": want warn or fail`; err == nil || err.Error() != want {
		t.Fatalf("validate: %v, want %q", err, want)
	}
}

// TestRegisterTakesOnlyTheGroupsAsked: a command's flags are the settings
// of its groups, plus logging and memory, plus S3 with landing or lake;
// --help shows built-in defaults, never values from the environment.
func TestRegisterTakesOnlyTheGroupsAsked(t *testing.T) {
	c, err := Load("", func(k string) string {
		return map[string]string{"ADLAKE_SILVER_PSEUDONYM_KEY": "s3cret", "ADLAKE_CATALOG": "postgres://u:pw@h/db"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	Register(fs, &c, GroupLanding)
	for flag, want := range map[string]bool{"landing": true, "s3-endpoint": true, "log-level": true, "memory-limit-mib": true,
		"catalog": false, "batch-rows": false, "pseudonym-key": false, "alert-webhook-url": false} {
		if got := fs.Lookup(flag) != nil; got != want {
			t.Errorf("flag --%s registered = %v, want %v", flag, got, want)
		}
	}
	all := pflag.NewFlagSet("y", pflag.ContinueOnError)
	Register(all, &c, Groups...)
	usage := all.FlagUsages()
	if strings.Contains(usage, "s3cret") || strings.Contains(usage, "pw@") {
		t.Fatalf("--help shows a secret:\n%s", usage)
	}
	if !strings.Contains(usage, "./lakehouse/catalog.db") {
		t.Fatalf("--help does not show the built-in default of --catalog:\n%s", usage)
	}
}
