package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/jobs/gen"
	"github.com/advertisex/adlake/jobs/quality"
	"github.com/advertisex/adlake/lake/objstore"
	"github.com/advertisex/adlake/schema"
)

// The data-quality scenario: the day under test is 2026-11-25, a
// Wednesday; its history is the same weekday of the three weeks before
// (what the row-count check compares with, min_history 3).
var (
	dqDay     = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	dqHistory = []time.Time{dqDay.AddDate(0, 0, -21), dqDay.AddDate(0, 0, -14), dqDay.AddDate(0, 0, -7)}
	// As of 45 minutes after the day: its landing hours are fresh, every
	// hour but the last is settled (the row-count check waits 60 minutes).
	dqAsOf = "2026-11-26T00:45:00Z"
)

const dqVolume = 2400 // impressions per day

// dqLake is one lakehouse with the history ingested and the row-count
// history seeded, alerting to s. Its landing folder is a copy of a
// template generated once per test binary.
type dqLake struct {
	dir      string
	env      map[string]string
	s        *sinks
	manifest *gen.Manifest // of the day under test
}

var dqTemplate struct {
	dir string
}

func newDQLake(t *testing.T) *dqLake {
	t.Helper()
	s := newSinks(t)
	if dqTemplate.dir == "" {
		dir, err := os.MkdirTemp("", "adlake-dq")
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range dqHistory {
			generate(t, dir, gen.Options{Seed: uint64(11 + i), Start: d, ImpressionsPerDay: dqVolume})
		}
		dqTemplate.dir = dir
	}
	l := &dqLake{dir: t.TempDir(), s: s, env: s.env()}
	l.env["ADLAKE_QUALITY_ACCEPTED_FIELDS"] = "impressions:viewability" // the ad servers' long-standing extra
	// At 2400 impressions a day clicks come about twice an hour: the
	// event-freshness warning is tuned to that volume, as an operator would.
	l.env["ADLAKE_QUALITY_FRESHNESS_EVENT_WARN"] = "150"
	if err := os.CopyFS(l.landing(), os.DirFS(dqTemplate.dir)); err != nil {
		t.Fatal(err)
	}
	l.cli(t, exitOK, "ingest")
	for _, d := range dqHistory {
		l.cli(t, exitOK, "quality", "--date", d.Format(time.DateOnly), "--no-alerts")
	}
	if d := s.take(t); len(d.SNS)+len(d.Email)+len(d.Webhook) != 0 {
		t.Fatalf("clean history raised alerts: %+v", d)
	}
	return l
}

func (l *dqLake) landing() string { return filepath.Join(l.dir, "lakehouse", "landing") }

// gen writes one more stretch of landing data and returns its manifest.
func (l *dqLake) gen(t *testing.T, o gen.Options) *gen.Manifest {
	t.Helper()
	return generate(t, l.landing(), o)
}

func generate(t *testing.T, dir string, o gen.Options) *gen.Manifest {
	t.Helper()
	b, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gen.Run(context.Background(), b, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cli runs adlake in the lake and checks its exit code.
func (l *dqLake) cli(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, l.dir, l.env, args...)
	if code != want {
		t.Fatalf("adlake %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, out, lastLines(errs, 15))
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// dqRow is one row of ops.dq_results.
type dqRow struct {
	Observed, Low, High float64
	Expected, Status    string
	Detail, Job         string
	at                  int64
}

// result returns the latest ops.dq_results row of a check on a table and
// partition.
func (l *dqLake) result(t *testing.T, check, table, partition string) dqRow {
	t.Helper()
	tbl, err := openCatalog(t, l.dir).Load(context.Background(), schema.DQResults)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := tbl.Scan().ToArrowRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var best dqRow
	found := false
	for rec, err := range recs {
		if err != nil {
			t.Fatal(err)
		}
		str := func(name string, i int) string {
			c := rec.Column(rec.Schema().FieldIndices(name)[0]).(*array.String)
			if c.IsNull(i) {
				return ""
			}
			return c.Value(i)
		}
		f64 := func(name string, i int) float64 {
			c := rec.Column(rec.Schema().FieldIndices(name)[0]).(*array.Float64)
			if c.IsNull(i) {
				return math.NaN()
			}
			return c.Value(i)
		}
		at := rec.Column(rec.Schema().FieldIndices("checked_at")[0]).(*array.Timestamp)
		for i := 0; i < int(rec.NumRows()); i++ {
			if str("check", i) != check || str("table", i) != table || str("partition", i) != partition {
				continue
			}
			if ts := int64(at.Value(i)); !found || ts >= best.at {
				found = true
				best = dqRow{f64("observed", i), f64("expected_low", i), f64("expected_high", i), str("expected", i),
					str("status", i), str("detail", i), str("job", i), ts}
			}
		}
		rec.Release()
	}
	if !found {
		t.Fatalf("no ops.dq_results row for %s %s %q", check, table, partition)
	}
	return best
}

// subject is the subject adlake's alerts carry for a condition.
func subject(state string, status quality.Status, check, table, partition string) string {
	return channel.Message{State: state, Severity: string(status), Check: check, Table: table, Partition: partition}.Subject()
}

// expectAlerts asserts each channel got exactly the subjects given.
func (l *dqLake) expectAlerts(t *testing.T, subjects ...string) {
	t.Helper()
	slices.Sort(subjects)
	d := l.s.take(t)
	if !slices.Equal(d.SNS, subjects) || !slices.Equal(d.Email, subjects) {
		t.Errorf("alerts:\n sns   %q\n email %q\nwant   %q", d.SNS, d.Email, subjects)
	}
	if len(d.Webhook) != len(subjects) {
		t.Errorf("webhook got %d messages, want %d: %q", len(d.Webhook), len(subjects), d.Webhook)
	}
	for i, text := range d.Webhook {
		if i < len(subjects) && !strings.Contains(text, subjects[i]) {
			t.Errorf("webhook text %q does not carry %q", text, subjects[i])
		}
	}
}

func TestQualityCleanDayRaisesNothing(t *testing.T) {
	l := newDQLake(t)
	m := l.gen(t, gen.Options{Seed: 5, Start: dqDay, ImpressionsPerDay: dqVolume})
	out := l.cli(t, exitOK, "ingest")
	if strings.Contains(out, "data quality") {
		t.Fatalf("ingest of a clean day reported data-quality findings:\n%s", out)
	}
	out = l.cli(t, exitOK, "quality", "--date", "2026-11-25", "--as-of", dqAsOf, "--all")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "WARN") || strings.HasPrefix(line, "FAIL") {
			t.Errorf("clean day: %s", line)
		}
	}
	l.expectAlerts(t)
	imp := m.Feeds["impressions"]
	r := l.result(t, quality.Reconciliation, "bronze.impressions", "")
	want := fmt.Sprintf("landing %d = bronze %d + rejected 0; bronze read %d = silver %d + rejected 0 + duplicates 0", imp.Records, imp.BronzeRows, imp.BronzeRows, imp.Valid)
	if r.Status != "pass" || r.Observed != 0 || r.Detail != want {
		t.Errorf("reconciliation = %+v, want pass 0 %q", r, want)
	}
	if r := l.result(t, quality.UnknownCreative, "silver.impressions", "event_date=2026-11-25"); r.Observed != 0 || r.Status != "pass" {
		t.Errorf("unknown creatives on a clean day: %+v", r)
	}
	if r := l.result(t, quality.RowCount, "silver.impressions", "event_date=2026-11-25/hour=13"); r.Status != "pass" || math.IsNaN(r.Low) {
		t.Errorf("row count of a clean hour not judged as pass: %+v", r)
	}
}

func TestQualityJobNotRun(t *testing.T) {
	l := newDQLake(t)
	late := time.Now().UTC().Add(3 * time.Hour).Format(time.RFC3339)
	l.cli(t, exitChecks, "quality", "--checks", "job_not_run", "--as-of", late)
	r := l.result(t, quality.JobNotRun, "ops.runs", "job=ingest")
	if r.Status != "fail" || r.Observed < 179 || r.Observed > 185 {
		t.Errorf("job_not_run = %+v, want fail after about 180 minutes", r)
	}
	l.expectAlerts(t, subject(channel.Firing, quality.Fail, quality.JobNotRun, "ops.runs", "job=ingest"))
	if out := l.cli(t, exitOK, "status"); !strings.Contains(out, "open alerts: 1") || !strings.Contains(out, "FAIL  job_not_run|ops.runs|job=ingest") {
		t.Errorf("status does not show the open alert:\n%s", out)
	}
	// Still not run: deduplicated.
	l.cli(t, exitChecks, "quality", "--checks", "job_not_run", "--as-of", late)
	l.expectAlerts(t)
	l.cli(t, exitOK, "quality", "--checks", "job_not_run", "--as-of", time.Now().UTC().Format(time.RFC3339))
	l.expectAlerts(t, subject(channel.Resolved, quality.Pass, quality.JobNotRun, "ops.runs", "job=ingest"))
	if out := l.cli(t, exitOK, "status"); !strings.Contains(out, "open alerts: 0") {
		t.Errorf("status after the resolve:\n%s", out)
	}
}
