package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advertisex/adlake/schema"
)

func runCLI(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, streams{out: &out, err: &errb, getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func TestCLIExitCodesAndHelp(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		code  int
		inOut string
		inErr string
	}{
		{name: "no command", args: nil, code: exitUsage, inOut: "Commands:"},
		{name: "help", args: []string{"help"}, code: exitOK, inOut: "Exit codes:"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, inErr: `unknown command "frobnicate"`},
		{name: "command help", args: []string{"ingest", "--help"}, code: exitOK, inOut: "-max-files-per-commit"},
		{name: "bad flag", args: []string{"ingest", "--nope"}, code: exitUsage, inErr: "nope"},
		{name: "bad env", args: []string{"ingest"}, env: map[string]string{"ADLAKE_INGEST_BATCH_ROWS": "x"}, code: exitUsage, inErr: "ADLAKE_INGEST_BATCH_ROWS"},
		{name: "unknown feed", args: []string{"ingest", "--feed", "videos"}, code: exitUsage, inErr: `unknown feed "videos"`},
		{name: "bad log format", args: []string{"status", "--log-format", "xml"}, code: exitUsage, inErr: "log.format"},
		{name: "config reference", args: []string{"config", "--reference"}, code: exitOK, inOut: "`ADLAKE_LANDING`"},
		{name: "config shows env", args: []string{"config"}, env: map[string]string{"ADLAKE_LANDING": "s3://x/y"}, code: exitOK, inOut: "landing: s3://x/y"},
		{name: "version", args: []string{"version"}, code: exitOK, inOut: "adlake "},
		{name: "empty lake ingests nothing", args: []string{"ingest"}, code: exitOK, inOut: "impressions"},
		{name: "status of an empty lake", args: []string{"status"}, code: exitOK, inOut: "(none yet)"},
		{name: "rebuild needs a layer", args: []string{"rebuild", "--from", "2026-11-25"}, code: exitUsage, inErr: "first argument must be one of [silver]"},
		{name: "rebuild of an unknown layer", args: []string{"rebuild", "gold"}, code: exitUsage, inErr: "[silver]"},
		{name: "rebuild needs --from", args: []string{"rebuild", "silver"}, code: exitUsage, inErr: "--from"},
		{name: "rebuild of an empty lake", args: []string{"rebuild", "silver", "--from", "2026-11-25", "--to", "2026-11-26"}, code: exitOK, inOut: "impressions"},
		{name: "replay of an unknown feed", args: []string{"replay", "--feed", "videos"}, code: exitUsage, inErr: "videos"},
		{name: "replay of an empty lake", args: []string{"replay"}, code: exitOK, inOut: "0 open quarantine rows"},
		{name: "compact of an empty lake", args: []string{"compact", "--from", "2026-11-25"}, code: exitOK, inOut: "silver.impressions"},
		{name: "sweep of an empty lake", args: []string{"sweep", "--dry-run"}, code: exitOK, inOut: fmt.Sprintf("swept %d tables", len(schema.All()))},
		{name: "sweep too young", args: []string{"sweep", "--older-than", "5m"}, code: exitUsage, inErr: "at least 1h"},
		{name: "bad severity", args: []string{"quality"}, env: map[string]string{"ADLAKE_QUALITY_REJECT_RATE_SEVERITY": "loud"}, code: exitUsage, inErr: "quality.reject_rate.severity"},
		{name: "unknown check", args: []string{"quality", "--checks", "vibes"}, code: exitUsage, inErr: `unknown check "vibes"`},
		{name: "unknown anomaly", args: []string{"gen", "--anomaly", "meteor"}, code: exitUsage, inErr: "meteor"},
		{name: "quality of an empty lake", args: []string{"quality", "--date", "2026-11-25", "--no-alerts"}, code: exitOK, inOut: "passed:"},
		{name: "daily of an empty lake", args: []string{"run", "daily", "--date", "2026-11-25"}, code: exitOK, inOut: "2026-11-25  built"},
		{name: "backfill needs --from", args: []string{"backfill"}, code: exitUsage, inErr: "--from"},
		{name: "bad memory limit", args: []string{"status", "--memory-limit-mib", "1"}, code: exitUsage, inErr: "memory_limit_mib"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, t.TempDir(), c.env, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errs)
			}
			if !strings.Contains(out, c.inOut) || !strings.Contains(errs, c.inErr) {
				t.Fatalf("stdout %q\nstderr %q\nwant %q / %q", out, errs, c.inOut, c.inErr)
			}
		})
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "my.yaml"), []byte("landing: elsewhere/landing\n"), 0o644)
	code, out, errs := runCLI(t, dir, nil, "config", "--config", "my.yaml")
	if code != exitOK || !strings.Contains(out, "landing: elsewhere/landing") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, _, errs = runCLI(t, dir, nil, "config", "--config", "missing.yaml")
	if code != exitUsage || !strings.Contains(errs, "missing.yaml") {
		t.Fatalf("missing file: exit %d: %s", code, errs)
	}
}

func TestStatusShowsSilverLag(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ADLAKE_LOG_LEVEL": "warn"}
	if code, _, errs := runCLI(t, dir, env, "gen", "--impressions-per-day", "2000", "--defects", "--manifest", "m.json"); code != exitOK {
		t.Fatalf("gen: %d %s", code, errs)
	}
	var m struct {
		Feeds map[string]struct{ Valid int64 } `json:"feeds"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "m.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	status := func() map[string][2]int64 {
		code, out, errs := runCLI(t, dir, env, "status", "--json")
		if code != exitOK {
			t.Fatalf("status: %d %s", code, errs)
		}
		var s struct {
			Feeds []struct {
				Feed   string `json:"feed"`
				Rows   int64  `json:"silver_rows"`
				Behind int64  `json:"silver_behind_snapshots"`
			} `json:"feeds"`
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("status output: %v\n%s", err, out)
		}
		got := map[string][2]int64{}
		for _, f := range s.Feeds {
			got[f.Feed] = [2]int64{f.Rows, f.Behind}
		}
		return got
	}
	if code, _, errs := runCLI(t, dir, env, "ingest", "--silver=false"); code != exitPartial {
		t.Fatalf("bronze-only ingest: exit %d %s", code, errs)
	}
	if s := status()["impressions"]; s[0] != 0 || s[1] != 1 {
		t.Fatalf("after bronze only: impressions silver rows %d, behind %d; want 0, 1", s[0], s[1])
	}
	if code, _, errs := runCLI(t, dir, env, "ingest"); code != exitOK {
		t.Fatalf("ingest: exit %d %s", code, errs)
	}
	if s := status()["impressions"]; s[0] != m.Feeds["impressions"].Valid || s[1] != 0 {
		t.Fatalf("after ingest: impressions silver rows %d, behind %d; want %d, 0", s[0], s[1], m.Feeds["impressions"].Valid)
	}
}
