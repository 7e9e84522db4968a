package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/advertisex/adlake/jobs/alert"
	"github.com/advertisex/adlake/lake/laketest"
)

func TestNewChannels(t *testing.T) {
	tests := []struct {
		name string
		o    alert.ChannelOptions
		want []string // channel names; nil: no Fanout
	}{
		{"none", alert.ChannelOptions{}, nil},
		{"settings without an address build nothing", alert.ChannelOptions{EmailFrom: "adlake@example.com", EmailTo: []string{"oncall@example.com"}, SNSEndpoint: "http://127.0.0.1:1"}, nil},
		{"webhook", alert.ChannelOptions{WebhookURL: "https://hooks.example.com/services/T0/B0/secret"}, []string{"webhook"}},
		{"email", alert.ChannelOptions{SMTPAddr: "127.0.0.1:25", EmailFrom: "adlake@example.com", EmailTo: []string{"a@example.com", "b@example.com"}}, []string{"email"}},
		{"all, in order", alert.ChannelOptions{
			SNSTopicARN: "arn:aws:sns:us-east-1:000000000000:adlake", SNSEndpoint: "http://127.0.0.1:1",
			SMTPAddr: "127.0.0.1:25", EmailFrom: "adlake@example.com", EmailTo: []string{"oncall@example.com"},
			WebhookURL: "http://127.0.0.1:1/hook",
		}, []string{"sns", "email", "webhook"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := alert.NewChannels(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if f != nil {
					t.Fatalf("got channels %v, want none", f.Channels())
				}
				return
			}
			if f == nil || !slices.Equal(f.Channels(), tc.want) {
				t.Fatalf("got %v, want %v", f, tc.want)
			}
		})
	}
}

func TestNewChannelsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		o       alert.ChannelOptions
		want    string // in the error
		secrets []string
	}{
		{"email without recipients", alert.ChannelOptions{SMTPAddr: "127.0.0.1:25", EmailFrom: "adlake@example.com"}, "email: no recipients", nil},
		{"email without sender", alert.ChannelOptions{SMTPAddr: "127.0.0.1:25", EmailTo: []string{"oncall@example.com"}}, "email: sender", nil},
		{"SMTP address without port", alert.ChannelOptions{SMTPAddr: "mail.example.com", EmailFrom: "adlake@example.com", EmailTo: []string{"oncall@example.com"}}, "not host:port", nil},
		{"SMTP user without password variable", alert.ChannelOptions{SMTPAddr: "127.0.0.1:25", EmailFrom: "adlake@example.com",
			EmailTo: []string{"oncall@example.com"}, SMTPUsername: "adlake"}, "no password_env", nil},
		{"webhook not http", alert.ChannelOptions{WebhookURL: "ftp://hooks.example.com/T0/s3cr3t-token"}, "webhook:", []string{"s3cr3t-token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := alert.NewChannels(context.Background(), tc.o)
			if err == nil || f != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", f, err, tc.want)
			}
			for _, s := range tc.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the secret %q", err, s)
				}
			}
		})
	}
}

// TestAlerterThroughChannels: the channels NewChannels builds carry an
// Alerter's messages, one POST per message.
func TestAlerterThroughChannels(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		texts = append(texts, body.Text)
		mu.Unlock()
	}))
	defer hook.Close()
	f, err := alert.NewChannels(context.Background(), alert.ChannelOptions{WebhookURL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	l := laketest.New(t)
	for i, st := range []alert.Status{alert.Fail, alert.Fail, alert.Pass} {
		if _, err := alert.NewAlerter(l.Cat, "docs/runbooks", f, nil).Alert(context.Background(), run(i), []alert.Finding{rowCount(st, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 2 || !strings.HasPrefix(texts[0], "[FAIL] row_count on silver.impressions event_date=2026-11-25/hour=13") ||
		!strings.HasPrefix(texts[1], "[RESOLVED] row_count on silver.impressions event_date=2026-11-25/hour=13 passes again") {
		t.Fatalf("webhook got %d posts: %q", len(texts), texts)
	}
	if recs := alertRows(t, l); len(recs) != 2 || recs[0].Channels != "webhook" || recs[1].Channels != "webhook" {
		t.Fatalf("ops.alerts %+v", recs)
	}
}
