// Package orchestration_test loads the Airflow DAGs of this folder with the
// real Airflow (localstack/airflow.sh installs it) and runs one of their
// tasks against a freshly built adlake.
package orchestration_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/schema"
)

// airflowEnv returns the venv's python and an environment with a private
// AIRFLOW_HOME (SQLite metadata database) whose DAG folder is airflow/.
func airflowEnv(t *testing.T) (python string, env []string) {
	t.Helper()
	python = os.Getenv("ADLAKE_TEST_AIRFLOW_PYTHON")
	if python == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_AIRFLOW_PYTHON not set; localstack/airflow.sh must install Airflow")
		}
		t.Skip("no Airflow: install it with eval \"$(localstack/airflow.sh)\"")
	}
	dags, err := filepath.Abs("airflow")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	return python, append(os.Environ(), "AIRFLOW_HOME="+home, "AIRFLOW__CORE__DAGS_FOLDER="+dags,
		"AIRFLOW__CORE__LOAD_EXAMPLES=False", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///"+filepath.Join(home, "airflow.db"))
}

type task struct {
	Upstream       []string `json:"upstream"`
	Retries        int      `json:"retries"`
	TimeoutSeconds *float64 `json:"timeout_seconds"`
	Operator       string   `json:"operator"`
	BashCommand    string   `json:"bash_command"`
}

type dag struct {
	Schedule      string          `json:"schedule"`
	Catchup       bool            `json:"catchup"`
	MaxActiveRuns int             `json:"max_active_runs"`
	Tasks         map[string]task `json:"tasks"`
}

// TestAirflowLoadsTheDAGs has Airflow's DagBag parse airflow/adlake_dag.py
// and checks the DAGs' ids, schedules, tasks, dependencies, retries,
// timeouts and the adlake command of each task.
func TestAirflowLoadsTheDAGs(t *testing.T) {
	python, env := airflowEnv(t)
	outFile := filepath.Join(t.TempDir(), "dagbag.json")
	cmd := exec.Command(python, "testdata/airflow_dagbag.py", "airflow", outFile)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("DagBag: %v\n%s", err, out)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		LoadSeconds  float64           `json:"load_seconds"`
		ImportErrors map[string]string `json:"import_errors"`
		DAGs         map[string]dag    `json:"dags"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("DagBag loaded in %.2f s", got.LoadSeconds)
	if len(got.ImportErrors) != 0 {
		t.Fatalf("import errors: %v", got.ImportErrors)
	}
	if len(got.DAGs) != 2 {
		t.Errorf("DAGs %v, want adlake_ingest and adlake_daily", keys(got.DAGs))
	}
	ingest, daily := got.DAGs["adlake_ingest"], got.DAGs["adlake_daily"]
	if ingest.Schedule != "*/5 * * * *" || ingest.Catchup || ingest.MaxActiveRuns != 1 {
		t.Errorf("adlake_ingest: schedule %q, catchup %v, max_active_runs %d; want */5 * * * *, no catchup, 1", ingest.Schedule, ingest.Catchup, ingest.MaxActiveRuns)
	}
	if daily.Schedule != "0 2 * * *" || daily.Catchup || daily.MaxActiveRuns != 1 {
		t.Errorf("adlake_daily: schedule %q, catchup %v, max_active_runs %d; want 0 2 * * *, no catchup, 1", daily.Schedule, daily.Catchup, daily.MaxActiveRuns)
	}
	if !reflect.DeepEqual(keys(ingest.Tasks), []string{"ingest"}) {
		t.Errorf("adlake_ingest tasks %v, want [ingest]", keys(ingest.Tasks))
	}
	wantUp := map[string][]string{"ingest": {}, "quality": {"ingest"}, "gold": {"quality"}, "compact": {"gold"}, "sweep": {}}
	if !reflect.DeepEqual(keys(daily.Tasks), keys(wantUp)) {
		t.Errorf("adlake_daily tasks %v, want %v", keys(daily.Tasks), keys(wantUp))
	}
	for id, up := range wantUp {
		if tk := daily.Tasks[id]; !reflect.DeepEqual(tk.Upstream, up) {
			t.Errorf("adlake_daily.%s upstream %v, want %v", id, tk.Upstream, up)
		}
	}
	wantCmd := map[string]string{
		"adlake_ingest.ingest": `"$bin" ingest`, "adlake_daily.ingest": `"$bin" ingest`,
		"adlake_daily.quality": `"$bin" quality --date {{ ds }}`, "adlake_daily.gold": `"$bin" run daily --date {{ ds }}`,
		"adlake_daily.compact": `"$bin" compact --from {{ ds }} --to {{ ds }}`, "adlake_daily.sweep": `"$bin" sweep --older-than 24h`,
	}
	for id, d := range got.DAGs {
		for tid, tk := range d.Tasks {
			name := id + "." + tid
			if tk.Operator != "airflow.providers.standard.operators.bash.BashOperator" {
				t.Errorf("%s is a %s, want the standard provider's BashOperator", name, tk.Operator)
			}
			if tk.Retries < 1 || tk.TimeoutSeconds == nil || *tk.TimeoutSeconds <= 0 {
				t.Errorf("%s: retries %d, timeout %v; want retries and an execution timeout", name, tk.Retries, tk.TimeoutSeconds)
			}
			if !strings.Contains(tk.BashCommand, wantCmd[name]+"\n") {
				t.Errorf("%s runs\n%s\nwant the command %s", name, tk.BashCommand, wantCmd[name])
			}
		}
	}
	// On a held feed lock (exit 4) the micro-batch is skipped (99 is
	// BashOperator's skip code) but the daily tasks fail and retry.
	if c := ingest.Tasks["ingest"].BashCommand; !strings.Contains(c, "exit 99") {
		t.Errorf("adlake_ingest.ingest does not skip on exit 4:\n%s", c)
	}
	if c := daily.Tasks["gold"].BashCommand; strings.Contains(c, "exit 99") {
		t.Errorf("adlake_daily.gold skips on exit 4; it must retry:\n%s", c)
	}
}

// TestAirflowRunsIngest runs the micro-batch task for real (`airflow tasks
// test`) with ADLAKE_BIN set to a freshly built adlake on the embedded
// default (local folders, SQLite catalog) over generated defect data, whose
// unreadable files make adlake exit 3: the task must succeed with a
// warning, and silver must hold exactly the generator's valid events.
func TestAirflowRunsIngest(t *testing.T) {
	python, env := airflowEnv(t)
	airflow := filepath.Join(filepath.Dir(python), "airflow")
	bin := filepath.Join(t.TempDir(), "adlake")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/adlake").CombinedOutput(); err != nil {
		t.Fatalf("build adlake: %v\n%s", err, out)
	}
	work := t.TempDir()
	manifest := filepath.Join(work, "gen.json")
	g := exec.Command(bin, "gen", "--seed", "17", "--days", "1", "--impressions-per-day", "2000", "--defects", "--manifest", manifest, "--log-level", "warn")
	g.Dir = work
	if out, err := g.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	var m gen.Manifest
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Feeds["impressions"].UnreadableFiles+m.Feeds["clicks_conversions"].UnreadableFiles+m.Feeds["bid_requests"].UnreadableFiles == 0 {
		t.Fatal("the generated data has no unreadable file: exit 3 goes untested")
	}

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(airflow, args...)
		cmd.Env = append(env, "ADLAKE_BIN="+bin, "ADLAKE_WORKDIR="+work, "ADLAKE_SILVER_PSEUDONYM_KEY=airflow-test", "ADLAKE_LOG_LEVEL=warn")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("airflow %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("db", "migrate")
	out := run("tasks", "test", "adlake_ingest", "ingest", "2026-11-26T00:00:00+00:00")
	if !strings.Contains(out, "WARNING: adlake exited 3") {
		t.Errorf("the task did not report adlake's exit 3 as a warning:\n%s", out)
	}
	if !strings.Contains(out, "new_state=success") || !strings.Contains(out, "Command exited with return code 0") {
		t.Errorf("the task did not succeed:\n%s", out)
	}
	lake := laketest.Open(t, filepath.Join(work, "lakehouse"))
	if got, want := lake.Rows(t, schema.SilverImpressions), m.Feeds["impressions"].Valid; got != want {
		t.Errorf("silver.impressions after the Airflow task: %d rows, want %d", got, want)
	}
	if got, want := lake.Rows(t, schema.BronzeBidRequests), m.Feeds["bid_requests"].BronzeRows; got != want {
		t.Errorf("bronze.bid_requests after the Airflow task: %d rows, want %d", got, want)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
