package channel_test

import (
	"strings"
	"testing"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

func TestMessageRender(t *testing.T) {
	m := sample("x")
	if got, want := m.Subject(), "[FAIL] row_count on silver.impressions event_date=2026-11-25/hour=13/x"; got != want {
		t.Errorf("subject %q, want %q", got, want)
	}
	want := `FAIL: row_count on silver.impressions event_date=2026-11-25/hour=13/x

Observed:  1234
Expected:  between 9000 and 11000 (same hour in the last 4 weeks)
Check:     row_count
Table:     silver.impressions
Partition: event_date=2026-11-25/hour=13/x
Severity:  fail
State:     firing
Run:       quality-20261125T140000Z-ab12
At:        2026-11-25T14:00:00Z
Runbook:   https://github.com/advertisex/adlake/blob/main/docs/runbooks/row-count.md

Detail:
hour-of-week median 10020, MAD 310

Alert key: row_count|silver.impressions|event_date=2026-11-25/hour=13/x
`
	if got := m.Body(); got != want {
		t.Errorf("body:\n%s\nwant:\n%s", got, want)
	}
}

func TestMessageSubjects(t *testing.T) {
	cases := []struct {
		name string
		edit func(*channel.Message)
		want string
	}{
		{"warn", func(m *channel.Message) { m.Severity = "warn" }, "[WARN] row_count on silver.impressions event_date=2026-11-25/hour=13/x"},
		{"resolved", func(m *channel.Message) { m.State, m.Severity = channel.Resolved, "pass" },
			"[RESOLVED] row_count on silver.impressions event_date=2026-11-25/hour=13/x passes again"},
		{"no partition", func(m *channel.Message) { m.Partition = "" }, "[FAIL] row_count on silver.impressions"},
		{"summary", func(m *channel.Message) { m.Summary = "ingest has not run\nfor 3 h" }, "[FAIL] ingest has not run for 3 h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sample("x")
			c.edit(&m)
			if got := m.Subject(); got != c.want {
				t.Errorf("subject %q, want %q", got, c.want)
			}
			// The body opens with the subject as "TAG: headline".
			tag, headline, _ := strings.Cut(strings.TrimPrefix(c.want, "["), "] ")
			if first, _, _ := strings.Cut(m.Body(), "\n"); first != tag+": "+headline {
				t.Errorf("body opens with %q, want %q", first, tag+": "+headline)
			}
		})
	}
}

func TestMessageValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*channel.Message)
		err  string // "" means valid
	}{
		{"firing", func(*channel.Message) {}, ""},
		{"resolved", func(m *channel.Message) { m.State = channel.Resolved }, ""},
		{"bad state", func(m *channel.Message) { m.State = "open" }, `state "open" is neither`},
		{"no check", func(m *channel.Message) { m.Check = "" }, "no check"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sample("x")
			c.edit(&m)
			err := m.Validate()
			if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("Validate() = %v, want %q", err, c.err)
			}
		})
	}
}

func TestBodyTruncatesDetail(t *testing.T) {
	m := sample("x")
	m.Detail = strings.Repeat("é", channel.MaxDetail)
	b := m.Body()
	if !strings.Contains(b, "... (truncated)") || len(b) > channel.MaxDetail+2000 {
		t.Fatalf("detail not truncated: %d bytes", len(b))
	}
	if !strings.Contains(b, "Runbook:") {
		t.Fatal("runbook lost")
	}
}
