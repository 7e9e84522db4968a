package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/runs"
	"github.com/advertisex/adlake/schema"
)

// TestDailyRestatesLateConversions: the daily job builds a day, a re-run
// changes nothing, and a conversion arriving late for an already built day
// is picked up by the next daily run, which re-states that day only.
func TestDailyRestatesLateConversions(t *testing.T) {
	dir := t.TempDir()
	landing := filepath.Join(dir, "lakehouse", "landing")
	m := generate(t, landing, gen.Options{Seed: 3, Days: 2, ImpressionsPerDay: 3000})
	env := map[string]string{}
	cli := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, dir, env, args...)
		if code != want {
			t.Fatalf("adlake %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, lastLines(errs, 10))
		}
		return out
	}
	cli(exitOK, "ingest")
	out := cli(exitOK, "run", "daily", "--date", "2026-11-26")
	if !strings.Contains(out, "2026-11-25  built") || !strings.Contains(out, "2026-11-26  built") {
		t.Fatalf("first daily run did not build both days:\n%s", out)
	}
	lake := laketest.Open(t, filepath.Join(dir, "lakehouse"))
	conv := lake.Rows(t, schema.GoldAttributedConversions)
	if want := m.Feeds["clicks_conversions"].Kinds["conversion"]; conv != want {
		t.Fatalf("gold.attributed_conversions has %d rows, want the %d valid conversions", conv, want)
	}
	if out := cli(exitOK, "run", "daily", "--date", "2026-11-26"); !strings.Contains(out, "up to date") {
		t.Fatalf("a re-run built again:\n%s", out)
	}

	// A conversion of 11-25 arrives on 11-27.
	late := filepath.Join(landing, "clicks_conversions", "dt=2026-11-27", "hr=03", "late.csv")
	if err := os.MkdirAll(filepath.Dir(late), 0o755); err != nil {
		t.Fatal(err)
	}
	csv := strings.Join(schema.ClicksConversionsColumns, ",") + "\n" +
		"cv-late-1,conversion,2026-11-25T20:00:00Z,u-late,cmp-001,,purchase,12.50,USD,ord-late-1,,,\n"
	if err := os.WriteFile(late, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cli(exitOK, "ingest")
	out = cli(exitOK, "run", "daily", "--date", "2026-11-26")
	if !strings.Contains(out, "2026-11-25  built") || strings.Count(out, "built") != 1 || !strings.Contains(out, "input changed: silver.conversions") {
		t.Fatalf("the late conversion did not re-state exactly 2026-11-25:\n%s", out)
	}
	if got := lake.Rows(t, schema.GoldAttributedConversions); got != conv+1 {
		t.Fatalf("gold.attributed_conversions has %d rows after the late conversion, want %d", got, conv+1)
	}
	recent, err := runs.Recent(context.Background(), lake.Cat, 100)
	if err != nil {
		t.Fatal(err)
	}
	gold := 0
	for _, r := range recent {
		if r.Job == schema.JobGold {
			gold++
			if !strings.Contains(r.Inputs, `"silver.conversions":`) || r.Status != schema.RunOK {
				t.Errorf("ops.runs gold row without its inputs: %+v", r)
			}
		}
	}
	if gold != 10 { // 9 days of the first run (11-18..11-26), then 11-25 again
		t.Errorf("%d gold rows in ops.runs, want 10", gold)
	}
}

// TestBackfillParallel: a parallel backfill builds each date once, with
// the rows of a sequential one, and a second run finds nothing to do.
func TestBackfillParallel(t *testing.T) {
	dir := t.TempDir()
	m := generate(t, filepath.Join(dir, "lakehouse", "landing"), gen.Options{Seed: 9, Days: 3, ImpressionsPerDay: 2000})
	if code, out, errs := runCLI(t, dir, nil, "ingest"); code != exitOK {
		t.Fatalf("ingest: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := runCLI(t, dir, nil, "backfill", "--from", "2026-11-25", "--to", "2026-11-27", "--parallel", "3")
	if code != exitOK || strings.Count(out, " built ") != 3 {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, lastLines(errs, 10))
	}
	lake := laketest.Open(t, filepath.Join(dir, "lakehouse"))
	if got, want := lake.Rows(t, schema.GoldAttributedConversions), m.Feeds["clicks_conversions"].Kinds["conversion"]; got != want {
		t.Fatalf("gold.attributed_conversions: %d rows, want %d", got, want)
	}
	if code, out, _ := runCLI(t, dir, nil, "backfill", "--from", "2026-11-25", "--to", "2026-11-27"); code != exitOK || !strings.Contains(out, "up to date") {
		t.Fatalf("second backfill: exit %d\n%s", code, out)
	}
}

// TestBackfillSurvivesKills: a backfill killed (SIGKILL) right after its
// Nth gold commit, between the tables of one date or between dates, and
// then run again, publishes exactly what an uninterrupted one does.
func TestBackfillSurvivesKills(t *testing.T) {
	template := t.TempDir()
	generate(t, template, gen.Options{Seed: 8, Days: 3, ImpressionsPerDay: 2000})
	fresh := func() string {
		dir := t.TempDir()
		if err := os.CopyFS(filepath.Join(dir, "lakehouse", "landing"), os.DirFS(template)); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "ingest")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ingest: %v\n%s", err, out)
		}
		return dir
	}
	backfill := func(dir string, env ...string) error {
		cmd := exec.Command(binary, "backfill", "--from", "2026-11-25", "--to", "2026-11-27", "--parallel", "2")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		return cmd.Run()
	}
	counts := func(dir string) [3]int64 {
		lake := laketest.Open(t, filepath.Join(dir, "lakehouse"))
		var n [3]int64
		for i, tb := range schema.Gold() {
			n[i] = lake.Rows(t, tb)
		}
		return n
	}
	clean := fresh()
	if err := backfill(clean); err != nil {
		t.Fatalf("clean backfill: %v", err)
	}
	want := counts(clean)
	if want[0] == 0 || want[1] == 0 || want[2] == 0 {
		t.Fatalf("a clean backfill published %v rows", want)
	}
	for _, kill := range []int{1, 2, 4, 8} { // 3 dates x 3 tables = 9 commits
		t.Run(fmt.Sprint(kill), func(t *testing.T) {
			dir := fresh()
			if err := backfill(dir, fmt.Sprintf("ADLAKE_TEST_KILL_AFTER_COMMIT=%d", kill)); !killedBySIGKILL(err) {
				t.Fatalf("backfill was not killed: %v", err)
			}
			if err := backfill(dir); err != nil {
				t.Fatalf("backfill after the kill: %v", err)
			}
			if got := counts(dir); got != want {
				t.Fatalf("gold rows %v after a kill at commit %d, want %v", got, kill, want)
			}
		})
	}
}
