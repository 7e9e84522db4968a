package channel_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// mailpit reads back what the SMTP server of localstack/up.sh received.
type mailpit struct{ smtpAddr, api string }

func newMailpit(t *testing.T) mailpit {
	t.Helper()
	return mailpit{
		smtpAddr: endpoint(t, "ADLAKE_TEST_SMTP_ADDR", "the SMTP server (mailpit)"),
		api:      endpoint(t, "ADLAKE_TEST_MAILPIT_URL", "mailpit's HTTP API"),
	}
}

type mailAddr struct{ Name, Address string }

// mailpitMessage is what GET /api/v1/message/{ID} returns (the fields used).
type mailpitMessage struct {
	ID, MessageID, Subject, Text string
	From                         mailAddr
	To                           []mailAddr
}

func (mp mailpit) get(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(mp.api, "/") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// find returns the message with this subject, its headers and its count
// (to catch duplicates), waiting a little for it to be stored.
func (mp mailpit) find(t *testing.T, subject string) (mailpitMessage, map[string][]string) {
	t.Helper()
	for try := 0; ; try++ {
		var list struct {
			Messages []struct{ ID, Subject string }
		}
		mp.get(t, "/api/v1/messages?limit=200", &list)
		var ids []string
		for _, m := range list.Messages {
			if m.Subject == subject {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) > 1 {
			t.Fatalf("%d messages with subject %q, want 1", len(ids), subject)
		}
		if len(ids) == 1 {
			var m mailpitMessage
			mp.get(t, "/api/v1/message/"+url.PathEscape(ids[0]), &m)
			var h map[string][]string
			mp.get(t, "/api/v1/message/"+url.PathEscape(ids[0])+"/headers", &h)
			return m, h
		}
		if try == 50 {
			t.Fatalf("no message with subject %q in mailpit", subject)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEmailDelivers(t *testing.T) {
	mp := newMailpit(t)
	t.Setenv("ADLAKE_TEST_ALERT_SMTP_PASSWORD", "any") // mailpit accepts any login
	cases := []struct {
		name string
		opts channel.EmailOptions
		edit func(*channel.Message)
	}{
		{"plain", channel.EmailOptions{From: "adlake <adlake@example.com>", To: []string{"oncall@example.com"}}, func(*channel.Message) {}},
		{"auth, two recipients, non-ASCII", channel.EmailOptions{From: "adlake@example.com", To: []string{"Data On-Call <oncall@example.com>", "lead@example.com"},
			Username: "adlake", PasswordEnv: "ADLAKE_TEST_ALERT_SMTP_PASSWORD"},
			func(m *channel.Message) { m.Table = "silver.impressions_é" }},
		{"resolved", channel.EmailOptions{From: "adlake@example.com", To: []string{"oncall@example.com"}},
			func(m *channel.Message) { m.State, m.Severity = channel.Resolved, "pass" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Addr = mp.smtpAddr
			e, err := channel.NewEmail(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			m := sample(unique("mail"))
			c.edit(&m)
			if err := e.Send(ctx(t), m); err != nil {
				t.Fatal(err)
			}
			got, headers := mp.find(t, m.Subject())
			var to []string
			for _, a := range got.To {
				to = append(to, a.Address)
			}
			var want []string
			for _, s := range c.opts.To {
				want = append(want, strings.TrimSuffix(s[strings.LastIndexByte(s, '<')+1:], ">"))
			}
			if strings.Join(to, ",") != strings.Join(want, ",") {
				t.Errorf("to %v, want %v", to, want)
			}
			if !strings.HasSuffix(got.MessageID, "@example.com") {
				t.Errorf("Message-ID %q", got.MessageID)
			}
			for _, s := range []string{"Observed:  1234", "Expected:  " + m.Expected, "Table:     " + m.Table,
				"Partition: " + m.Partition, "Run:       " + m.RunID, "Runbook:   " + m.Runbook} {
				if !strings.Contains(got.Text, s) {
					t.Errorf("body lacks %q:\n%s", s, got.Text)
				}
			}
			if strings.TrimRight(strings.ReplaceAll(got.Text, "\r\n", "\n"), "\n") != strings.TrimRight(m.Body(), "\n") {
				t.Errorf("body:\n%s\nwant:\n%s", got.Text, m.Body())
			}
			for _, h := range []string{"Date", "Message-Id", "Subject", "From", "To", "Mime-Version", "Content-Type", "References", "X-Adlake-Alert-Key"} {
				if len(headers[h]) != 1 {
					t.Errorf("header %s: %q", h, headers[h])
				}
			}
			if d, err := time.Parse(time.RFC1123Z, first(headers["Date"])); err != nil || time.Since(d) > time.Minute {
				t.Errorf("Date %q: %v", first(headers["Date"]), err)
			}
			if got := first(headers["X-Adlake-State"]); got != m.State {
				t.Errorf("X-Adlake-State %q, want %q", got, m.State)
			}
		})
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// closedAddr is a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestEmailRefused(t *testing.T) {
	addr := closedAddr(t)
	e, err := channel.NewEmail(channel.EmailOptions{Addr: addr, From: "adlake@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Send(ctx(t), sample("refused"))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error does not wrap ECONNREFUSED: %v", err)
	}
	if !strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connect") {
		t.Errorf("error %q does not say what failed where", err)
	}
}

func TestNewEmailInvalid(t *testing.T) {
	t.Setenv("ADLAKE_TEST_ALERT_EMPTY", "")
	ok := channel.EmailOptions{Addr: "127.0.0.1:25", From: "adlake@example.com", To: []string{"oncall@example.com"}}
	cases := []struct {
		name string
		edit func(*channel.EmailOptions)
		err  string
	}{
		{"no port", func(o *channel.EmailOptions) { o.Addr = "mail.example.com" }, "not host:port"},
		{"bad from", func(o *channel.EmailOptions) { o.From = "adlake" }, "sender"},
		{"no recipients", func(o *channel.EmailOptions) { o.To = nil }, "no recipients"},
		{"bad recipient", func(o *channel.EmailOptions) { o.To = []string{"oncall@example.com", "x"} }, `recipient "x"`},
		{"user without password_env", func(o *channel.EmailOptions) { o.Username = "u" }, "password_env"},
		{"password variable empty", func(o *channel.EmailOptions) { o.Username, o.PasswordEnv = "u", "ADLAKE_TEST_ALERT_EMPTY" },
			"ADLAKE_TEST_ALERT_EMPTY is unset or empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			if _, err := channel.NewEmail(o); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("NewEmail: %v, want an error with %q", err, c.err)
			}
		})
	}
}
