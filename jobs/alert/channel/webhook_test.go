package channel_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// hook is an HTTP server recording the requests it gets and answering
// with status and body.
type hook struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []*http.Request
	posts [][]byte
}

func newHook(t *testing.T, status int, body string, delay time.Duration) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs, h.posts = append(h.reqs, r), append(h.posts, b)
		h.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) != 1 {
		t.Fatalf("webhook got %d requests, want 1", len(h.reqs))
	}
	return h.reqs[0], h.posts[0]
}

func TestWebhookDelivers(t *testing.T) {
	h := newHook(t, http.StatusOK, "ok", 0)
	w, err := channel.NewWebhook(channel.WebhookOptions{URL: h.URL + "/services/T000/B000/secret",
		Headers: map[string]string{"Authorization": "Bearer t0ken", "X-Team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	m := sample("hook")
	m.Detail = `{"new":["deal_id"]} <b>`
	if err := w.Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	r, body := h.got(t)
	if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/secret" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	for k, v := range map[string]string{"Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer t0ken", "X-Team": "data"} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	var p channel.Slack
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	if p.Text != m.Subject()+"\n"+m.Body() {
		t.Errorf("text %q", p.Text)
	}
	var types []string
	for _, b := range p.Blocks {
		types = append(types, b.Type)
	}
	if got := strings.Join(types, ","); got != "header,section,section,section,context" {
		t.Fatalf("blocks %s\n%s", got, body)
	}
	if p.Blocks[0].Text.Type != "plain_text" || p.Blocks[0].Text.Text != m.Subject() {
		t.Errorf("header %+v", p.Blocks[0].Text)
	}
	if got, want := p.Blocks[1].Text.Text, "*Observed:* 1234\n*Expected:* "+m.Expected; got != want {
		t.Errorf("observed/expected %q, want %q", got, want)
	}
	var fields []string
	for _, f := range p.Blocks[2].Fields {
		fields = append(fields, f.Text)
	}
	if got, want := strings.Join(fields, "|"), "*Check:*\nrow_count|*Table:*\nsilver.impressions|*Partition:*\n"+m.Partition+
		"|*Severity:*\nfail|*State:*\nfiring|*Run:*\n"+m.RunID; got != want {
		t.Errorf("fields %q, want %q", got, want)
	}
	if got, want := p.Blocks[3].Text.Text, "```{\"new\":[\"deal_id\"]} &lt;b&gt;```"; got != want {
		t.Errorf("detail %q, want %q", got, want)
	}
	if got, want := p.Blocks[4].Elements[0].Text, "Runbook: <"+m.Runbook+">"; got != want {
		t.Errorf("runbook %q, want %q", got, want)
	}
}

func TestWebhookErrors(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		delay   time.Duration
		want    []string // in the error
		code    int      // the StatusError's code; 0: none
		timeout bool
	}{
		{"500", http.StatusInternalServerError, "internal boom\nstack...", 0, []string{"webhook POST", "status 500 Internal Server Error: internal boom stack..."}, 500, false},
		{"404 empty", http.StatusNotFound, "", 0, []string{"status 404 Not Found"}, 404, false},
		{"long body cut", http.StatusBadRequest, strings.Repeat("x", 5000), 0, []string{"status 400", "... (truncated)"}, 400, false},
		{"redirect is not success", http.StatusNotModified, "", 0, []string{"status 304"}, 304, false},
		{"timeout", http.StatusOK, "", 5 * time.Second, []string{"webhook POST", "deadline exceeded"}, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHook(t, c.status, c.body, c.delay)
			w, err := channel.NewWebhook(channel.WebhookOptions{URL: h.URL + "/hook/secret-token?sig=abc", Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Send(ctx(t), sample("err"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "secret-token") || strings.Contains(err.Error(), "sig=") {
				t.Errorf("error reveals the URL: %v", err)
			}
			var se *channel.StatusError
			if errors.As(err, &se) != (c.code != 0) || c.code != 0 && se.Code != c.code {
				t.Errorf("StatusError %v, want code %d", se, c.code)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestNewWebhookInvalid(t *testing.T) {
	for _, u := range []string{"", "hooks.slack.com/services/x", "ftp://example.com/x", "http://"} {
		if _, err := channel.NewWebhook(channel.WebhookOptions{URL: u}); err == nil {
			t.Errorf("NewWebhook(%q) succeeded", u)
		}
	}
}
