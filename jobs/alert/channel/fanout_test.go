package channel_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// failedChannels returns the channels named by the ChannelErrors in err.
func failedChannels(t *testing.T, err error) []string {
	t.Helper()
	var names []string
	var walk func(error)
	walk = func(e error) {
		var ce *channel.ChannelError
		if errors.As(e, &ce) && e == error(ce) {
			names = append(names, ce.Channel)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return names
}

func mustWebhook(t *testing.T, url string) *channel.Webhook {
	t.Helper()
	w, err := channel.NewWebhook(channel.WebhookOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestFanoutLocal needs no service: two failing channels (webhook 500,
// SMTP refused) and a working webhook.
func TestFanoutLocal(t *testing.T) {
	bad, good := newHook(t, http.StatusInternalServerError, "boom", 0), newHook(t, http.StatusNoContent, "", 0)
	refused, err := channel.NewEmail(channel.EmailOptions{Addr: closedAddr(t), From: "adlake@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := channel.NewFanout(
		channel.Channel{Name: "webhook-bad", Sender: mustWebhook(t, bad.URL)},
		channel.Channel{Name: "email", Sender: refused},
		channel.Channel{Name: "webhook", Sender: mustWebhook(t, good.URL)},
	)
	if err != nil {
		t.Fatal(err)
	}
	m := sample("fanout")
	delivered, err := f.Deliver(ctx(t), m)
	if !slices.Equal(delivered, []string{"webhook"}) {
		t.Errorf("delivered to %v, want [webhook]", delivered)
	}
	if got := failedChannels(t, err); !slices.Equal(got, []string{"webhook-bad", "email"}) {
		t.Errorf("failed %v, want [webhook-bad email]: %v", got, err)
	}
	var se *channel.StatusError
	if !errors.As(err, &se) || se.Code != 500 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("joined error lost a cause: %v", err)
	}
	for _, s := range []string{"alert " + m.Key, "webhook-bad: webhook POST", "status 500", "email: email", "connection refused"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
	good.got(t) // exactly one request
	bad.got(t)
	if err := f.Send(ctx(t), m); err == nil {
		t.Error("Send hid the failures")
	}
}

// TestFanoutServers runs every sender against the real servers, one good
// and one broken of each kind: the good ones all deliver.
func TestFanoutServers(t *testing.T) {
	srv, mp := newSNSServer(t), newMailpit(t)
	goodSNS, err := channel.NewSNS(ctx(t), channel.SNSOptions{TopicARN: srv.topicARN, Endpoint: srv.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	badSNS, err := channel.NewSNS(ctx(t), channel.SNSOptions{TopicARN: srv.topicARN + "-missing", Endpoint: srv.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	goodMail, err := channel.NewEmail(channel.EmailOptions{Addr: mp.smtpAddr, From: "adlake@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	badMail, err := channel.NewEmail(channel.EmailOptions{Addr: closedAddr(t), From: "adlake@example.com", To: []string{"oncall@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	badHook, goodHook := newHook(t, http.StatusInternalServerError, "boom", 0), newHook(t, http.StatusOK, "ok", 0)
	f, err := channel.NewFanout(
		channel.Channel{Name: "sns-bad", Sender: badSNS}, channel.Channel{Name: "sns", Sender: goodSNS},
		channel.Channel{Name: "email-bad", Sender: badMail}, channel.Channel{Name: "email", Sender: goodMail},
		channel.Channel{Name: "webhook-bad", Sender: mustWebhook(t, badHook.URL)}, channel.Channel{Name: "webhook", Sender: mustWebhook(t, goodHook.URL)},
	)
	if err != nil {
		t.Fatal(err)
	}
	m := sample(unique("fanout"))
	delivered, err := f.Deliver(ctx(t), m)
	if !slices.Equal(delivered, []string{"sns", "email", "webhook"}) {
		t.Errorf("delivered to %v", delivered)
	}
	if got := failedChannels(t, err); !slices.Equal(got, []string{"sns-bad", "email-bad", "webhook-bad"}) {
		t.Errorf("failed %v: %v", got, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotFound" {
		t.Errorf("the SNS cause is lost: %v", err)
	}
	if env := srv.receive(t); env.Subject != m.Subject() || env.Message != m.Body() {
		t.Errorf("SNS got %q", env.Subject)
	}
	if got, _ := mp.find(t, m.Subject()); !strings.Contains(got.Text, "Observed:  1234") {
		t.Errorf("email body %q", got.Text)
	}
	goodHook.got(t)
}

func TestNewFanoutInvalid(t *testing.T) {
	w := mustWebhook(t, "http://127.0.0.1:1/")
	cases := map[string][]channel.Channel{
		"no name":   {{Sender: w}},
		"no sender": {{Name: "webhook"}},
		"twice":     {{Name: "webhook", Sender: w}, {Name: "webhook", Sender: w}},
	}
	for name, chs := range cases {
		if _, err := channel.NewFanout(chs...); err == nil {
			t.Errorf("%s: NewFanout succeeded", name)
		}
	}
	f, err := channel.NewFanout()
	if err != nil || f.Send(ctx(t), sample("none")) != nil || len(f.Channels()) != 0 {
		t.Errorf("empty fanout: %v", err)
	}
}
