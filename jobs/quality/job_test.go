package quality

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/schema"
)

// deliverer is a fake alert Deliverer keeping the messages; it fails
// when err is set.
type deliverer struct {
	msgs []channel.Message
	err  error
}

func (d *deliverer) Deliver(_ context.Context, m channel.Message) ([]string, error) {
	d.msgs = append(d.msgs, m)
	if d.err != nil {
		return nil, d.err
	}
	return []string{"fake"}, nil
}

// take returns "state severity key" of the messages since the last take.
func (d *deliverer) take() []string {
	var out []string
	for _, m := range d.msgs {
		out = append(out, m.State+" "+m.Severity+" "+m.Key)
	}
	d.msgs = nil
	return out
}

// failingCommits fails every commit to ops.dq_results after the first ok.
type failingCommits struct {
	*catalog.Catalog
	ok int
}

var errInjected = errors.New("injected commit failure")

func (f *failingCommits) Commit(ctx context.Context, t schema.Table, build func(*table.Table, *table.Transaction) error) (*table.Table, error) {
	if t.String() == schema.DQResults.String() {
		if f.ok == 0 {
			return nil, errInjected
		}
		f.ok--
	}
	return f.Catalog.Commit(ctx, t, build)
}

var runAt = time.Date(2026, 11, 26, 0, 31, 0, 0, time.UTC)

func deps(l lake, d *deliverer, log *bytes.Buffer) Deps {
	return Deps{Catalog: l.Cat, Alerter: alert.NewAlerter(l.Cat, "docs/runbooks", d, nil),
		Log: slog.New(slog.NewTextHandler(log, nil)), Now: func() time.Time { return runAt }}
}

// TestRun: the dates' partition checks and the present's, one commit
// each, then one alert per condition that started to fail.
func TestRun(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	d1 := dqDay.AddDate(0, 0, -1)
	appendRows(l, schema.SilverImpressions, []impressionRow{impression(dqDay.Add(time.Hour), "u", "c1"), impression(dqDay.Add(time.Hour), "u", "")})
	fake := &deliverer{}
	var log bytes.Buffer
	req := Request{Dates: []time.Time{d1, dqDay}, Now: true, AsOf: asOf, Only: []string{UnknownCreative, JobNotRun}, Job: schema.JobQuality, RunID: "quality-1"}
	rs, err := Run(ctx, deps(l, fake, &log), limits(), req)
	if err != nil {
		t.Fatal(err)
	}
	unknown := func(d time.Time, obs float64, st Status, detail string) Result {
		return Result{Date: d, Check: UnknownCreative, Table: "silver.impressions", Partition: "event_date=" + d.Format(time.DateOnly),
			Observed: obs, Low: 0, High: 0.005, Status: st, Expected: "below 0.005 (warn at 0.005, fail at 0.05)", Detail: detail}
	}
	expectResults(t, rs, []Result{
		unknown(d1, 0, Pass, "0 of 0 impressions with a creative unknown to ref.creatives"),
		unknown(dqDay, 0.5, Fail, "1 of 2 impressions with a creative unknown to ref.creatives"),
		lagResult(JobNotRun, "ops.runs", "job=ingest", nan, 30, Fail, jobLimits, "no successful ingest run finished yet"),
	})
	if n := l.commits(schema.DQResults); n != 3 {
		t.Errorf("%d commits to ops.dq_results, want 3 (one per date, one for the present)", n)
	}
	for _, r := range l.dqRows() {
		if r.Job != "quality" || r.RunID != "quality-1" || !r.At.Equal(runAt) {
			t.Errorf("row %+v: want job quality, run quality-1, checked at %s", r, runAt)
		}
	}
	want := []string{"firing fail unknown_creative|silver.impressions|event_date=2026-11-25", "firing fail job_not_run|ops.runs|job=ingest"}
	if got := fake.take(); !slices.Equal(got, want) {
		t.Fatalf("alerts %q, want %q", got, want)
	}
	// The same conditions again: recorded, not alerted.
	req.RunID = "quality-2"
	if _, err := Run(ctx, deps(l, fake, &log), limits(), req); err != nil {
		t.Fatal(err)
	}
	if got := fake.take(); len(got) != 0 || len(l.dqRows()) != 6 {
		t.Fatalf("second run alerted %q, recorded %d rows", got, len(l.dqRows()))
	}
	if strings.Contains(log.String(), "alert delivery failed") {
		t.Fatalf("logged a failure:\n%s", log.String())
	}
}

// TestRunAlertFailureIsNotFatal: a channel that is down is logged; the
// job succeeds and its results are recorded.
func TestRunAlertFailureIsNotFatal(t *testing.T) {
	l := newLake(t)
	fake := &deliverer{err: errors.New("webhook: status 500")}
	var log bytes.Buffer
	req := Request{Now: true, AsOf: asOf, Only: []string{JobNotRun}, Job: schema.JobQuality, RunID: "quality-1"}
	rs, err := Run(context.Background(), deps(l, fake, &log), limits(), req)
	if err != nil || len(rs) != 1 || rs[0].Status != Fail {
		t.Fatalf("Run = %+v, %v", rs, err)
	}
	if len(fake.take()) != 1 || len(l.dqRows()) != 1 || l.commits(schema.Alerts) != 1 {
		t.Fatal("the alert was not attempted once and recorded")
	}
	if !strings.Contains(log.String(), "alert delivery failed") || !strings.Contains(log.String(), "webhook: status 500") {
		t.Fatalf("log lacks the failure:\n%s", log.String())
	}
}

// TestRunWithoutAlerter records and alerts nobody.
func TestRunWithoutAlerter(t *testing.T) {
	l := newLake(t)
	req := Request{Now: true, Only: []string{JobNotRun}, Job: schema.JobBackfill, RunID: "backfill-1"}
	rs, err := Run(context.Background(), Deps{Catalog: l.Cat}, limits(), req)
	if err != nil || len(rs) != 1 || rs[0].Status != Fail {
		t.Fatalf("Run = %+v, %v", rs, err)
	}
	if len(l.dqRows()) != 1 || l.commits(schema.Alerts) != 0 {
		t.Fatalf("recorded %d results, %d alert commits", len(l.dqRows()), l.commits(schema.Alerts))
	}
}

// TestRunStopsAtAFailedRecord: the results recorded before are returned
// with the error, and no alert is raised.
func TestRunStopsAtAFailedRecord(t *testing.T) {
	l := newLake(t)
	appendRows(l, schema.SilverImpressions, []impressionRow{impression(dqDay.Add(time.Hour), "u", "")})
	fake := &deliverer{}
	var log bytes.Buffer
	d := deps(l, fake, &log)
	d.Catalog = &failingCommits{Catalog: l.Cat, ok: 1}
	req := Request{Dates: []time.Time{dqDay, dqDay.AddDate(0, 0, 1)}, Now: true, AsOf: asOf, Only: []string{UnknownCreative}, Job: schema.JobQuality, RunID: "q"}
	rs, err := Run(context.Background(), d, limits(), req)
	if !errors.Is(err, errInjected) || len(rs) != 1 || rs[0].Status != Fail || rs[0].Date != dqDay {
		t.Fatalf("Run = %+v, %v; want the first date's result and the commit error", rs, err)
	}
	if got := fake.take(); len(got) != 0 {
		t.Fatalf("alerted %q after a failure", got)
	}
}

// TestRecordRun: the per-run checks of an ingest run, recorded and
// alerted; an idle run neither records nor resolves.
func TestRecordRun(t *testing.T) {
	l := newLake(t)
	ctx := context.Background()
	fake := &deliverer{}
	var log bytes.Buffer
	d := deps(l, fake, &log)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	lost := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 100, Bronze: 100, Silver: true, SilverIn: 100, SilverOut: 98}
	rs := RecordRun(ctx, d, JobRun{ID: "ingest-1", Job: schema.JobIngest, At: at}, limits(), []FeedRun{lost})
	if len(rs) != 4 || rs[0].Check != Reconciliation || rs[0].Status != Fail || rs[0].Observed != 2 {
		t.Fatalf("results %+v", rs)
	}
	if got, want := fake.take(), []string{"firing fail reconciliation|bronze.impressions|"}; !slices.Equal(got, want) {
		t.Fatalf("alerts %q, want %q", got, want)
	}
	rows := l.dqRows()
	if len(rows) != 4 || l.commits(schema.DQResults) != 1 || rows[0].Job != "ingest" || rows[0].RunID != "ingest-1" || !rows[0].At.Equal(at) {
		t.Fatalf("recorded %+v in %d commits", rows, l.commits(schema.DQResults))
	}

	idle := FeedRun{Feed: "impressions", Table: "bronze.impressions", Silver: true}
	if rs := RecordRun(ctx, d, JobRun{ID: "ingest-2", Job: schema.JobIngest, At: at.Add(time.Hour)}, limits(), []FeedRun{idle}); len(rs) != 0 {
		t.Fatalf("an idle run yields %+v", rs)
	}
	if got := fake.take(); len(got) != 0 || l.commits(schema.DQResults) != 1 {
		t.Fatalf("an idle run alerted %q or committed", got)
	}
	open, err := alert.Open(ctx, l.Cat)
	if err != nil || open["reconciliation|bronze.impressions|"] != alert.Fail {
		t.Fatalf("open alerts %v, %v: an idle run must not resolve", open, err)
	}

	clean := lost
	clean.SilverOut = 100
	RecordRun(ctx, d, JobRun{ID: "ingest-3", Job: schema.JobIngest, At: at.Add(2 * time.Hour)}, limits(), []FeedRun{clean})
	if got, want := fake.take(), []string{"resolved pass reconciliation|bronze.impressions|"}; !slices.Equal(got, want) {
		t.Fatalf("alerts %q, want %q", got, want)
	}
}

// TestRecordRunCannotRecord: the failure is logged, the results returned,
// no alert raised.
func TestRecordRunCannotRecord(t *testing.T) {
	l := newLake(t)
	fake := &deliverer{}
	var log bytes.Buffer
	d := deps(l, fake, &log)
	d.Catalog = &failingCommits{Catalog: l.Cat}
	lost := FeedRun{Feed: "impressions", Table: "bronze.impressions", Landing: 100, Bronze: 90}
	rs := RecordRun(context.Background(), d, JobRun{ID: "ingest-1", Job: schema.JobIngest, At: runAt}, limits(), []FeedRun{lost})
	if len(rs) != 3 || rs[0].Status != Fail {
		t.Fatalf("results %+v", rs)
	}
	if got := fake.take(); len(got) != 0 {
		t.Fatalf("alerted %q for results not recorded", got)
	}
	if !strings.Contains(log.String(), "cannot record data-quality results") || !strings.Contains(log.String(), errInjected.Error()) {
		t.Fatalf("log:\n%s", log.String())
	}
}
