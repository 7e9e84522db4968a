package quality

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/lake/alert"
	"github.com/advertisex/adlake/schema"
)

// Alert states, as in ops.alerts.state.
const (
	Firing   = alert.Firing
	Resolved = alert.Resolved
)

// Deliverer delivers one message to every channel and names the channels
// that took it (an [alert.Fanout]).
type Deliverer interface {
	Deliver(ctx context.Context, m alert.Message) ([]string, error)
}

// Alerter turns results into alert messages: one "firing" message when a
// condition (a [Result.Key]) starts to warn or fail or gets worse, nothing
// while it persists, one "resolved" message when it passes again. The
// state is ops.alerts itself, so it holds across runs and processes; every
// message is recorded there, delivered or not.
type Alerter struct {
	cat      Committer
	out      Deliverer // nil: record only
	runbooks string    // base URL or path of docs/runbooks
}

// NewAlerter returns an Alerter delivering through out (nil: messages are
// only recorded); runbooks is the base the runbook links are built on.
func NewAlerter(cat Committer, runbooks string, out Deliverer) *Alerter {
	return &Alerter{cat: cat, out: out, runbooks: runbooks}
}

// Sent is one message the Alerter sent.
type Sent struct {
	Result   Result
	Message  alert.Message
	Channels []string // delivered to
	Error    string   // the other channels' errors
}

// Alert sends the messages results call for, records them in ops.alerts
// and returns them. Delivery failures are recorded and returned joined,
// after every channel was tried; the state still advances (a channel that
// is down does not make the others repeat themselves).
func (a *Alerter) Alert(ctx context.Context, run Run, rs []Result) ([]Sent, error) {
	open, err := OpenAlerts(ctx, a.cat)
	if err != nil {
		return nil, err
	}
	var sent []Sent
	var errs []error
	for _, r := range rs {
		state, ok := transition(open[r.Key()], r.Status)
		if !ok {
			continue
		}
		m := a.message(run, r, state)
		s := Sent{Result: r, Message: m}
		if a.out != nil {
			var err error
			if s.Channels, err = a.out.Deliver(ctx, m); err != nil {
				s.Error = err.Error()
				errs = append(errs, fmt.Errorf("alert %s: %w", r.Key(), err))
			}
		}
		sent = append(sent, s)
		open[r.Key()] = r.Status
	}
	if err := a.record(ctx, run, sent); err != nil {
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// transition decides the message for a condition whose open alert has
// status prev ("" when none is open) and whose check now has status now.
func transition(prev, now Status) (string, bool) {
	switch {
	case now == Pass && prev != "":
		return Resolved, true
	case now != Pass && (prev == "" || now.Worse(prev)):
		return Firing, true
	}
	return "", false
}

func (a *Alerter) message(run Run, r Result, state string) alert.Message {
	sev := string(r.Status)
	if state == Resolved {
		sev = string(Pass)
	}
	return alert.Message{
		Key: r.Key(), State: state, Severity: sev, Check: r.Check, Table: r.Table, Partition: r.Partition,
		Observed: num(r.Observed), Expected: r.Expected, RunID: run.ID,
		Runbook: strings.TrimSuffix(a.runbooks, "/") + "/" + Runbook(r.Check) + ".md",
		Detail:  r.Detail, At: run.At,
	}
}

// OpenAlerts returns the status of every open alert (its last message was
// "firing") by condition key, check|table|partition.
func OpenAlerts(ctx context.Context, cat Catalog) (map[string]Status, error) {
	recs, err := batches(ctx, cat, schema.Alerts, iceberg.AlwaysTrue{}, "alert_key", "state", "status", "sent_at")
	if err != nil {
		return nil, err
	}
	type last struct {
		at            int64
		state, status string
	}
	latest := map[string]last{}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("scan ops.alerts: %w", err)
		}
		key, state, status := column[*array.String](rec, "alert_key"), column[*array.String](rec, "state"), column[*array.String](rec, "status")
		at := column[*array.Timestamp](rec, "sent_at")
		for i := 0; i < int(rec.NumRows()); i++ {
			if t := int64(at.Value(i)); t >= latest[key.Value(i)].at {
				latest[key.Value(i)] = last{t, state.Value(i), status.Value(i)}
			}
		}
		rec.Release()
	}
	out := map[string]Status{}
	for k, l := range latest {
		if l.state == Firing {
			out[k] = Status(l.status)
		}
	}
	return out, nil
}

func (a *Alerter) record(ctx context.Context, run Run, sent []Sent) error {
	if len(sent) == 0 {
		return nil
	}
	return appendRows(ctx, a.cat, schema.Alerts, run, len(sent), func(b *rowBuilder, i int) {
		m := sent[i].Message
		b.str(m.Key)
		b.str(m.State)
		b.str(m.Severity)
		b.str(m.Check)
		b.str(m.Table)
		b.str(m.Partition)
		b.f64(sent[i].Result.Observed)
		b.str(m.Expected)
		b.str(m.Runbook)
		b.str(strings.Join(sent[i].Channels, ","))
		b.opt(sent[i].Error)
		b.str(run.ID)
		b.ts(run.At.Add(time.Duration(i))) // distinct times keep the order of messages of one run
	})
}
