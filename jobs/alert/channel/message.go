package channel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// States of a message: a condition started (or got worse), or it passes
// again.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// MaxDetail is the most bytes of [Message.Detail] a rendered body carries;
// longer details are cut at a rune boundary and marked as truncated, which
// keeps every body well inside SNS's 256 KiB and chat message limits.
const MaxDetail = 4096

// Message is one alert about one condition: a check on a table and
// partition. Senders read it and never change it.
type Message struct {
	// Key identifies the condition across runs, "check|table|partition";
	// the firing and resolved messages of one condition share it.
	Key string
	// State is [Firing] or [Resolved].
	State string
	// Severity is the check's status: "warn" or "fail" while firing; a
	// resolved message carries "pass" (or the severity that resolved).
	Severity string
	// Check is the check's name, e.g. "row_count". Required.
	Check string
	// Table is the table (or bronze feed) checked, e.g. "silver.impressions".
	Table string
	// Partition is the partition checked, e.g.
	// "event_date=2026-11-25/hour=13"; empty for a whole run or feed.
	Partition string
	// Observed is the value observed, already formatted.
	Observed string
	// Expected is the passing range in words, e.g. "below 0.01 (warn at
	// 0.01, fail at 0.05)".
	Expected string
	// RunID is the run that raised the message.
	RunID string
	// Runbook is the URL or path of the check's runbook (docs/runbooks).
	Runbook string
	// Summary, when set, replaces the generated headline of the subject
	// and body.
	Summary string
	// Detail is more about the observation (free text or JSON); rendered
	// up to [MaxDetail] bytes.
	Detail string
	// At is when the check ran; the zero time is left out of the body.
	At time.Time
}

// Sender delivers one message to one channel. Send returns nil only when
// the channel's server accepted the message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Validate reports whether m can be delivered: State is Firing or
// Resolved and Check is set.
func (m Message) Validate() error {
	var errs []error
	if m.State != Firing && m.State != Resolved {
		errs = append(errs, fmt.Errorf("state %q is neither %q nor %q", m.State, Firing, Resolved))
	}
	if m.Check == "" {
		errs = append(errs, errors.New("no check"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid alert message %q: %w", m.Key, err)
	}
	return nil
}

// tag is the subject's bracketed prefix: the severity while firing,
// RESOLVED once resolved.
func (m Message) tag() string {
	if m.State == Resolved {
		return "RESOLVED"
	}
	if m.Severity == "" {
		return "ALERT"
	}
	return strings.ToUpper(m.Severity)
}

// headline says what happened in one line, without the tag.
func (m Message) headline() string {
	if m.Summary != "" {
		return oneLine(m.Summary)
	}
	var b strings.Builder
	b.WriteString(m.Check)
	if m.Table != "" {
		b.WriteString(" on " + m.Table)
	}
	if m.Partition != "" {
		b.WriteString(" " + m.Partition)
	}
	if m.State == Resolved {
		b.WriteString(" passes again")
	}
	return oneLine(b.String())
}

// Subject is a one-line summary, e.g. "[FAIL] row_count on
// silver.impressions event_date=2026-11-25/hour=13" or "[RESOLVED]
// row_count on ... passes again". It has no line breaks or control
// characters; channels with a length limit shorten it ([SNS] to
// [MaxSNSSubject]).
func (m Message) Subject() string {
	return "[" + m.tag() + "] " + m.headline()
}

// Body is the plain-text message: the headline, then observed vs
// expected, check, table, partition, severity, state, run, time, runbook,
// the detail and the dedup key, one "Name: value" per line (empty fields
// left out). Lines end with "\n".
func (m Message) Body() string {
	var b strings.Builder
	if m.State == Resolved {
		fmt.Fprintf(&b, "RESOLVED: %s\n\n", m.headline())
	} else {
		fmt.Fprintf(&b, "%s: %s\n\n", m.tag(), m.headline())
	}
	line := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", name+":", oneLine(v))
		}
	}
	line("Observed", m.Observed)
	line("Expected", m.Expected)
	line("Check", m.Check)
	line("Table", m.Table)
	line("Partition", m.Partition)
	line("Severity", m.Severity)
	line("State", m.State)
	line("Run", m.RunID)
	if !m.At.IsZero() {
		line("At", m.At.UTC().Format(time.RFC3339))
	}
	line("Runbook", m.Runbook)
	if d := strings.TrimSpace(m.Detail); d != "" {
		fmt.Fprintf(&b, "\nDetail:\n%s\n", truncate(d, MaxDetail))
	}
	if m.Key != "" {
		fmt.Fprintf(&b, "\nAlert key: %s\n", oneLine(m.Key))
	}
	return b.String()
}

// oneLine replaces line breaks, tabs and other control characters by
// spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// truncate cuts s to at most n bytes at a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "... (truncated)"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
