package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebhookOptions configure a [Webhook] sender.
type WebhookOptions struct {
	// URL receives the POSTs, http or https. Required. Treated as a
	// secret (Slack's incoming webhooks carry their token in the path):
	// errors name only its scheme and host.
	URL string
	// Headers are added to every request, e.g. an Authorization header.
	Headers map[string]string
	// Timeout bounds one Send; 0 means 10 s. The context's deadline
	// applies as well.
	Timeout time.Duration
	// Client sends the requests; nil means a new http.Client.
	Client *http.Client
}

// Webhook POSTs each message as Slack-compatible JSON: "text" holds the
// subject and body (the fallback every receiver shows), "blocks" a header
// with the subject, a section with observed and expected, a section of
// fields (check, table, partition, severity, state, run), the detail when
// there is one, and a context line linking the runbook. Any 2xx status is
// success; anything else is an error quoting the start of the response
// body.
type Webhook struct {
	url      string
	redacted string // scheme://host, for errors
	headers  map[string]string
	timeout  time.Duration
	client   *http.Client
}

var _ Sender = (*Webhook)(nil)

// maxExcerpt is how much of an error response's body an error quotes.
const maxExcerpt = 512

// NewWebhook checks opts and returns a Webhook sender; it does not contact
// the URL.
func NewWebhook(opts WebhookOptions) (*Webhook, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: URL is not an http(s)://host/... URL")
	}
	w := &Webhook{url: opts.URL, redacted: u.Scheme + "://" + u.Host, headers: map[string]string{},
		timeout: opts.Timeout, client: opts.Client}
	for k, v := range opts.Headers {
		w.headers[k] = v
	}
	if w.timeout <= 0 {
		w.timeout = 10 * time.Second
	}
	if w.client == nil {
		w.client = &http.Client{}
	}
	return w, nil
}

// Send POSTs m once.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("webhook %s: %w", w.redacted, err)
	}
	body, err := json.Marshal(SlackPayload(m))
	if err != nil {
		return fmt.Errorf("webhook %s: encode %s: %w", w.redacted, m.Key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: request: %w", w.redacted, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "adlake-alert")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = w.redacted // keep the secret path out of the error
		}
		return fmt.Errorf("webhook POST %s to %s: %w", m.Key, w.redacted, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook POST %s to %s: %w", m.Key, w.redacted,
			&StatusError{Code: resp.StatusCode, Body: excerptOf(excerpt)})
	}
	return nil
}

// StatusError is a webhook's answer other than 2xx.
type StatusError struct {
	Code int    // the HTTP status code
	Body string // the start of the response body, on one line
}

// Error is "status <code> <text>", then ": <body>" when there is one.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("status %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("status %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

func excerptOf(b []byte) string {
	s := strings.TrimSpace(oneLine(string(b)))
	return truncate(s, maxExcerpt)
}

// Slack limits on block text, in characters.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
)

// Slack is the JSON a [Webhook] posts: Slack's message payload.
type Slack struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is one Slack layout block: header, section or context.
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Fields   []SlackText `json:"fields,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a Slack text object: "plain_text" or "mrkdwn".
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SlackPayload is the payload [Webhook] posts for m. Every text is within
// Slack's limits for its block; user-supplied values are escaped for
// mrkdwn (&, <, >).
func SlackPayload(m Message) Slack {
	md := func(s string, max int) SlackText { return SlackText{Type: "mrkdwn", Text: truncate(s, max)} }
	p := Slack{Text: m.Subject() + "\n" + m.Body()}
	p.Blocks = append(p.Blocks, SlackBlock{Type: "header",
		Text: &SlackText{Type: "plain_text", Text: truncate(m.Subject(), slackHeaderMax)}})
	p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Text: ptr(md(
		fmt.Sprintf("*Observed:* %s\n*Expected:* %s", slackEscape(dash(m.Observed)), slackEscape(dash(m.Expected))), slackSectionMax))})
	var fields []SlackText
	for _, f := range [][2]string{{"Check", m.Check}, {"Table", m.Table}, {"Partition", m.Partition},
		{"Severity", m.Severity}, {"State", m.State}, {"Run", m.RunID}} {
		if f[1] != "" {
			fields = append(fields, md("*"+f[0]+":*\n"+slackEscape(f[1]), slackFieldMax))
		}
	}
	p.Blocks = append(p.Blocks, SlackBlock{Type: "section", Fields: fields})
	if d := strings.TrimSpace(m.Detail); d != "" {
		p.Blocks = append(p.Blocks, SlackBlock{Type: "section",
			Text: ptr(md("```"+truncate(slackEscape(d), slackSectionMax-6)+"```", slackSectionMax))})
	}
	var ctx []SlackText
	if m.Runbook != "" {
		ctx = append(ctx, md("Runbook: <"+m.Runbook+">", slackSectionMax))
	}
	if m.Key != "" {
		ctx = append(ctx, md("Alert key: "+slackEscape(m.Key), slackSectionMax))
	}
	if len(ctx) > 0 {
		p.Blocks = append(p.Blocks, SlackBlock{Type: "context", Elements: ctx})
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
