package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"

	"github.com/advertisex/adlake/jobs/alert/channel"
	"github.com/advertisex/adlake/lake/catalog"
	"github.com/advertisex/adlake/lake/ledger"
	"github.com/advertisex/adlake/lake/rows"
	"github.com/advertisex/adlake/schema"
)

// Status is how a check graded a condition, as in ops.dq_results.status
// and ops.alerts.status.
type Status string

// Statuses, from good to bad.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

func (s Status) rank() int {
	switch s {
	case Warn:
		return 1
	case Fail:
		return 2
	}
	return 0
}

// Worse reports whether s is worse than o (fail is worse than warn, warn
// than pass; any other value ranks as pass).
func (s Status) Worse(o Status) bool { return s.rank() > o.rank() }

// Finding is one check's verdict on one table and partition: what the
// [Alerter] judges. Observed is NaN when nothing was observed.
type Finding struct {
	Check     string
	Table     string
	Partition string // "" for a whole run or feed
	Status    Status
	Observed  float64
	Expected  string // the passing range in words
	Detail    string
	// Runbook names the check's runbook, docs/runbooks/<Runbook>.md; ""
	// is the runbooks' README.
	Runbook string
}

// Key identifies the condition f is about across runs,
// "check|table|partition": alerts are deduplicated by it.
func (f Finding) Key() string { return f.Check + "|" + f.Table + "|" + f.Partition }

// Run identifies the job run that raised the findings: ID and Job go into
// every message and ops.alerts row (and its commit's properties), At is
// the messages' time.
type Run struct {
	ID  string
	Job string
	At  time.Time
}

// Deliverer delivers one message to every channel and names the channels
// that took it (a [channel.Fanout]).
type Deliverer interface {
	Deliver(ctx context.Context, m channel.Message) ([]string, error)
}

// Alerter turns findings into alert messages (see the package doc for the
// guarantees), delivers them and records them in ops.alerts. It holds no
// state between calls; it is safe for concurrent use as far as its
// catalog and deliverer are, but two concurrent calls about the same
// condition may both send.
type Alerter struct {
	cat      catalog.Tables
	out      Deliverer // nil: record only
	runbooks string    // base URL or path of docs/runbooks
	log      *slog.Logger
}

// NewAlerter returns an Alerter recording in cat and delivering through
// out; a nil out (or a nil *channel.Fanout, which [NewChannels] returns
// when no channel is configured) only records. runbooks is the base URL or
// path the runbook links are built on. Every message sent is logged to log
// (nil: discarded).
func NewAlerter(cat catalog.Tables, runbooks string, out Deliverer, log *slog.Logger) *Alerter {
	if f, ok := out.(*channel.Fanout); ok && f == nil {
		out = nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Alerter{cat: cat, out: out, runbooks: runbooks, log: log}
}

// Sent is one message the Alerter sent.
type Sent struct {
	Finding  Finding
	Message  channel.Message
	Channels []string // the channels that took it
	Error    string   // the other channels' errors; "" when none failed
}

// Alert sends the messages findings call for, in the order of findings,
// records them in ops.alerts (one commit, none when there is no message)
// and returns them. Delivery failures are recorded and returned joined,
// after every channel was tried; the state still advances. An error
// reading or recording ops.alerts is returned too (wrapped).
func (a *Alerter) Alert(ctx context.Context, run Run, findings []Finding) ([]Sent, error) {
	open, err := Open(ctx, a.cat)
	if err != nil {
		return nil, err
	}
	var sent []Sent
	var errs []error
	for _, f := range findings {
		state, ok := transition(open[f.Key()], f.Status)
		if !ok {
			continue
		}
		s := Sent{Finding: f, Message: a.message(run, f, state)}
		if a.out != nil {
			var err error
			if s.Channels, err = a.out.Deliver(ctx, s.Message); err != nil {
				s.Error = err.Error()
				errs = append(errs, fmt.Errorf("alert %s: %w", f.Key(), err))
			}
		}
		a.log.Warn("alert", "state", s.Message.State, "status", s.Message.Severity, "check", f.Check,
			"table", f.Table, "partition", f.Partition, "observed", s.Message.Observed,
			"expected", f.Expected, "channels", strings.Join(s.Channels, ","))
		sent = append(sent, s)
		if state == schema.AlertResolved {
			delete(open, f.Key())
		} else {
			open[f.Key()] = f.Status
		}
	}
	if err := a.record(ctx, run, sent); err != nil {
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// transition decides the message for a condition whose open alert has
// status prev ("" when none is open) and whose check now has status now:
// firing when it starts to warn or fail or gets worse, resolved when it
// passes with an alert open, else none.
func transition(prev, now Status) (string, bool) {
	switch {
	case now == Pass && prev != "":
		return schema.AlertResolved, true
	case now != Pass && (prev == "" || now.Worse(prev)):
		return schema.AlertFiring, true
	}
	return "", false
}

// message renders the message of f in state.
func (a *Alerter) message(run Run, f Finding, state string) channel.Message {
	sev := string(f.Status)
	if state == schema.AlertResolved {
		sev = string(Pass)
	}
	rb := f.Runbook
	if rb == "" {
		rb = "README"
	}
	return channel.Message{
		Key: f.Key(), State: state, Severity: sev, Check: f.Check, Table: f.Table, Partition: f.Partition,
		Observed: formatNum(f.Observed), Expected: f.Expected, RunID: run.ID,
		Runbook: strings.TrimSuffix(a.runbooks, "/") + "/" + rb + ".md",
		Detail:  f.Detail, At: run.At,
	}
}

// Open returns the status of every open alert (the latest ops.alerts row
// of its key is "firing") by condition key, check|table|partition. Rows
// are ordered by sent_at; of rows sent at the same time, the one scanned
// last wins.
func Open(ctx context.Context, cat catalog.Loader) (map[string]Status, error) {
	tbl, err := cat.Load(ctx, schema.Alerts)
	if err != nil {
		return nil, fmt.Errorf("ops.alerts: %w", err)
	}
	latest := map[string]schema.AlertRow{}
	for r, err := range rows.Scan[schema.AlertRow](ctx, tbl, nil) {
		if err != nil {
			return nil, fmt.Errorf("ops.alerts: %w", err)
		}
		if l, ok := latest[r.Key]; !ok || !r.At.Before(l.At) {
			latest[r.Key] = r
		}
	}
	out := map[string]Status{}
	for k, r := range latest {
		if r.State == schema.AlertFiring {
			out[k] = Status(r.Status)
		}
	}
	return out, nil
}

// record appends the messages sent to ops.alerts in one commit. The i-th
// message of a run is stamped i microseconds after run.At, so the order
// of one run's messages about one condition survives in sent_at.
func (a *Alerter) record(ctx context.Context, run Run, sent []Sent) error {
	if len(sent) == 0 {
		return nil
	}
	out := make([]schema.AlertRow, len(sent))
	for i, s := range sent {
		m := s.Message
		out[i] = schema.AlertRow{
			Key: m.Key, State: m.State, Status: m.Severity, Check: m.Check, Table: m.Table, Partition: m.Partition,
			Observed: s.Finding.Observed, Expected: m.Expected, Runbook: m.Runbook,
			Channels: strings.Join(s.Channels, ","), Errors: s.Error, RunID: run.ID,
			At: run.At.Add(time.Duration(i) * time.Microsecond),
		}
	}
	props := iceberg.Properties{ledger.PropJob: run.Job, ledger.PropRunID: run.ID}
	if err := rows.Append(ctx, a.cat, schema.Alerts, out, props); err != nil {
		return fmt.Errorf("record alerts: %w", err)
	}
	return nil
}

// formatNum formats a number for people: integers plainly, else 4
// significant digits ("NaN" for nothing observed).
func formatNum(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
