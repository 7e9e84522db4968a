package alert_test

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/lake/laketest"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// deliverer is a fake Deliverer: it keeps every message and answers as
// two channels, "sns" and "webhook", of which those in down fail.
type deliverer struct {
	msgs []channel.Message
	down map[string]bool
}

var errDown = errors.New("connection refused")

func (d *deliverer) Deliver(_ context.Context, m channel.Message) ([]string, error) {
	d.msgs = append(d.msgs, m)
	var ok []string
	var errs []error
	for _, c := range []string{"sns", "webhook"} {
		if d.down[c] {
			errs = append(errs, &channel.ChannelError{Channel: c, Err: errDown})
			continue
		}
		ok = append(ok, c)
	}
	return ok, errors.Join(errs...)
}

// take returns the messages delivered since the last take.
func (d *deliverer) take() []channel.Message {
	m := d.msgs
	d.msgs = nil
	return m
}

var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

func run(i int) alert.Run {
	return alert.Run{ID: "quality-" + string(rune('a'+i)), Job: schema.JobQuality, At: t0.Add(time.Duration(i) * time.Hour)}
}

func rowCount(st alert.Status, observed float64) alert.Finding {
	return alert.Finding{Check: "row_count", Table: "silver.impressions", Partition: "event_date=2026-11-25/hour=13",
		Status: st, Observed: observed, Expected: "146 to 259 (median 202.5, MAD 5 over 4 weeks)", Runbook: "row-count"}
}

// alertRows reads ops.alerts back.
func alertRows(t *testing.T, l laketest.Lake) []schema.AlertRow {
	t.Helper()
	tbl, err := l.Cat.Load(context.Background(), schema.Alerts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rows.Collect(rows.Scan[schema.AlertRow](context.Background(), tbl, nil))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b schema.AlertRow) int { return a.At.Compare(b.At) })
	return out
}

// TestLifecycle follows one condition through runs, each with a new
// Alerter (the state is ops.alerts, not memory): one firing message, none
// while it persists or improves, one more when it gets worse, none while
// idle, one resolved, none after.
func TestLifecycle(t *testing.T) {
	l := laketest.New(t)
	ctx := context.Background()
	d := &deliverer{}
	key := rowCount("", 0).Key()
	steps := []struct {
		name     string
		findings []alert.Finding
		want     []string     // state/severity of each message
		open     alert.Status // the open alert's status after the step; "" none
	}{
		{"starts to warn", []alert.Finding{rowCount(alert.Warn, 140)}, []string{"firing/warn"}, alert.Warn},
		{"still warns", []alert.Finding{rowCount(alert.Warn, 141)}, nil, alert.Warn},
		{"gets worse", []alert.Finding{rowCount(alert.Fail, 0)}, []string{"firing/fail"}, alert.Fail},
		{"still fails", []alert.Finding{rowCount(alert.Fail, 0)}, nil, alert.Fail},
		{"improves without passing", []alert.Finding{rowCount(alert.Warn, 140)}, nil, alert.Fail},
		{"idle: no finding", nil, nil, alert.Fail},
		{"passes", []alert.Finding{rowCount(alert.Pass, 205)}, []string{"resolved/pass"}, ""},
		{"still passes", []alert.Finding{rowCount(alert.Pass, 206)}, nil, ""},
	}
	for i, s := range steps {
		sent, err := alert.NewAlerter(l.Cat, "docs/runbooks/", d, nil).Alert(ctx, run(i), s.findings)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got []string
		for _, m := range d.take() {
			got = append(got, m.State+"/"+m.Severity)
		}
		if !slices.Equal(got, s.want) || len(sent) != len(s.want) {
			t.Fatalf("%s: delivered %q (%d sent), want %q", s.name, got, len(sent), s.want)
		}
		open, err := alert.Open(ctx, l.Cat)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]alert.Status{}
		if s.open != "" {
			want[key] = s.open
		}
		if !maps.Equal(open, want) {
			t.Fatalf("%s: open alerts %v, want %v", s.name, open, want)
		}
	}
	recs := alertRows(t, l)
	if len(recs) != 3 {
		t.Fatalf("ops.alerts holds %d rows, want 3: %+v", len(recs), recs)
	}
	for i, want := range []struct {
		state, status, run string
		observed           float64
	}{{"firing", "warn", run(0).ID, 140}, {"firing", "fail", run(2).ID, 0}, {"resolved", "pass", run(6).ID, 205}} {
		r := recs[i]
		if r.State != want.state || r.Status != want.status || r.RunID != want.run || r.Observed != want.observed ||
			r.Channels != "sns,webhook" || r.Errors != "" || r.Key != key ||
			r.Runbook != "docs/runbooks/row-count.md" || r.Expected != rowCount("", 0).Expected {
			t.Errorf("ops.alerts row %d = %+v, want %s/%s of %s observed %v", i, r, want.state, want.status, want.run, want.observed)
		}
	}
}

// TestMessage checks what one firing message says.
func TestMessage(t *testing.T) {
	l := laketest.New(t)
	d := &deliverer{}
	f := alert.Finding{Check: "reject_rate", Table: "bronze.impressions", Status: alert.Warn, Observed: 0.03,
		Expected: "below 0.02 (warn at 0.02, fail at 0.1)", Detail: "30 of 1000 records quarantined", Runbook: "reject-rate"}
	r := alert.Run{ID: "ingest-1", Job: schema.JobIngest, At: t0}
	sent, err := alert.NewAlerter(l.Cat, "https://example.com/runbooks", d, nil).Alert(context.Background(), r, []alert.Finding{f})
	if err != nil {
		t.Fatal(err)
	}
	want := channel.Message{Key: "reject_rate|bronze.impressions|", State: "firing", Severity: "warn", Check: "reject_rate",
		Table: "bronze.impressions", Observed: "0.03", Expected: "below 0.02 (warn at 0.02, fail at 0.1)", RunID: "ingest-1",
		Runbook: "https://example.com/runbooks/reject-rate.md", Detail: "30 of 1000 records quarantined", At: t0}
	if msgs := d.take(); len(msgs) != 1 || msgs[0] != want {
		t.Fatalf("delivered %+v\nwant %+v", msgs, want)
	}
	if len(sent) != 1 || sent[0].Message != want || sent[0].Finding != f || !slices.Equal(sent[0].Channels, []string{"sns", "webhook"}) || sent[0].Error != "" {
		t.Fatalf("sent %+v", sent)
	}
}

// TestFailingChannel: a channel that is down gets the message attempted
// once, the failure is recorded and returned, and the state advances all
// the same: no second message while the condition persists.
func TestFailingChannel(t *testing.T) {
	l := laketest.New(t)
	ctx := context.Background()
	d := &deliverer{down: map[string]bool{"sns": true}}
	sent, err := alert.NewAlerter(l.Cat, "docs/runbooks", d, nil).Alert(ctx, run(0), []alert.Finding{rowCount(alert.Fail, 0)})
	if !errors.Is(err, errDown) {
		t.Fatalf("error %v, want the channel's error", err)
	}
	if got := len(d.take()); got != 1 || len(sent) != 1 || sent[0].Error == "" || !slices.Equal(sent[0].Channels, []string{"webhook"}) {
		t.Fatalf("%d delivered, sent %+v", got, sent)
	}
	for i := 1; i <= 2; i++ {
		sent, err := alert.NewAlerter(l.Cat, "docs/runbooks", d, nil).Alert(ctx, run(i), []alert.Finding{rowCount(alert.Fail, 0)})
		if err != nil || len(sent) != 0 || len(d.take()) != 0 {
			t.Fatalf("run %d: sent %+v, err %v; want nothing while the condition persists", i, sent, err)
		}
	}
	d.down = nil
	if sent, err := alert.NewAlerter(l.Cat, "docs/runbooks", d, nil).Alert(ctx, run(3), []alert.Finding{rowCount(alert.Pass, 200)}); err != nil || len(sent) != 1 || len(d.take()) != 1 {
		t.Fatalf("resolved: sent %+v, err %v", sent, err)
	}
	recs := alertRows(t, l)
	if len(recs) != 2 {
		t.Fatalf("ops.alerts holds %d rows, want 2", len(recs))
	}
	if r := recs[0]; r.State != "firing" || r.Channels != "webhook" || r.Errors != "sns: connection refused" {
		t.Fatalf("firing row %+v: want delivered to webhook, sns's error recorded", r)
	}
	if r := recs[1]; r.State != "resolved" || r.Channels != "sns,webhook" || r.Errors != "" {
		t.Fatalf("resolved row %+v", r)
	}
}

// TestOneCallManyConditions: each condition is judged on its own, the
// messages of one call go out in the order of the findings and are
// recorded in one commit, stamped in that order.
func TestOneCallManyConditions(t *testing.T) {
	l := laketest.New(t)
	ctx := context.Background()
	d := &deliverer{}
	a := alert.NewAlerter(l.Cat, "docs/runbooks", d, nil)
	fresh := alert.Finding{Check: "freshness_event", Table: "silver.impressions", Status: alert.Fail, Observed: math.NaN(), Expected: "below 90 minutes"}
	drift := alert.Finding{Check: "schema_drift", Table: "bronze.impressions", Status: alert.Warn, Observed: 3}
	ok := alert.Finding{Check: "reconciliation", Table: "bronze.impressions", Status: alert.Pass}
	if _, err := a.Alert(ctx, run(0), []alert.Finding{fresh, ok, drift}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range d.take() {
		keys = append(keys, m.Key)
	}
	if want := []string{fresh.Key(), drift.Key()}; !slices.Equal(keys, want) {
		t.Fatalf("delivered %q, want %q", keys, want)
	}
	tbl, err := l.Cat.Load(ctx, schema.Alerts)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 1 {
		t.Fatalf("%d commits to ops.alerts, want 1", n)
	}
	recs := alertRows(t, l)
	if len(recs) != 2 || recs[0].Key != fresh.Key() || recs[1].Key != drift.Key() ||
		!recs[0].At.Equal(t0) || !recs[1].At.Equal(t0.Add(time.Microsecond)) || !math.IsNaN(recs[0].Observed) || recs[1].Observed != 3 {
		t.Fatalf("ops.alerts rows %+v", recs)
	}
	// The drift clears, the freshness persists: one resolved message.
	fresh.Observed = 500
	drift.Status, drift.Observed = alert.Pass, 0
	if _, err := a.Alert(ctx, run(1), []alert.Finding{fresh, drift}); err != nil {
		t.Fatal(err)
	}
	if msgs := d.take(); len(msgs) != 1 || msgs[0].Key != drift.Key() || msgs[0].State != "resolved" {
		t.Fatalf("delivered %+v, want the drift resolved only", msgs)
	}
	open, err := alert.Open(ctx, l.Cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[fresh.Key()] != alert.Fail {
		t.Fatalf("open %v", open)
	}
}

// TestRecordOnly: without channels (nil, or the nil Fanout NewChannels
// returns when none is configured) messages are recorded, not delivered.
func TestRecordOnly(t *testing.T) {
	for name, out := range map[string]alert.Deliverer{"nil": nil, "nil fanout": (*channel.Fanout)(nil)} {
		t.Run(name, func(t *testing.T) {
			l := laketest.New(t)
			sent, err := alert.NewAlerter(l.Cat, "docs/runbooks", out, nil).Alert(context.Background(), run(0), []alert.Finding{rowCount(alert.Fail, 0)})
			if err != nil || len(sent) != 1 || sent[0].Channels != nil {
				t.Fatalf("sent %+v, err %v", sent, err)
			}
			if recs := alertRows(t, l); len(recs) != 1 || recs[0].Channels != "" || recs[0].State != "firing" {
				t.Fatalf("ops.alerts %+v", recs)
			}
		})
	}
}

// TestOpenEmpty: a lake with no alerts has none open.
func TestOpenEmpty(t *testing.T) {
	open, err := alert.Open(context.Background(), laketest.New(t).Cat)
	if err != nil || len(open) != 0 {
		t.Fatalf("open %v, err %v", open, err)
	}
}

// TestSameConditionTwiceInOneCall: findings about one condition are
// judged in order against the state the earlier ones left.
func TestSameConditionTwiceInOneCall(t *testing.T) {
	l := laketest.New(t)
	d := &deliverer{}
	fs := []alert.Finding{rowCount(alert.Warn, 140), rowCount(alert.Fail, 0), rowCount(alert.Fail, 0), rowCount(alert.Pass, 200), rowCount(alert.Pass, 201)}
	if _, err := alert.NewAlerter(l.Cat, "docs/runbooks", d, nil).Alert(context.Background(), run(0), fs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range d.take() {
		got = append(got, m.State+"/"+m.Severity)
	}
	if want := []string{"firing/warn", "firing/fail", "resolved/pass"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	open, err := alert.Open(context.Background(), l.Cat)
	if err != nil || len(open) != 0 {
		t.Fatalf("open %v, %v; want none (the resolved message is the latest)", open, err)
	}
}
