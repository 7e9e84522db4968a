package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sinks are the three real alert endpoints of one test: an SNS topic (moto)
// with an SQS queue subscribed, a mailbox (mailpit) and a webhook server.
type sinks struct {
	sqs      *sqs.Client
	topicARN string
	queueURL string
	mailpit  string
	mailTo   string
	mailSeen map[string]bool
	hook     *httptest.Server
	mu       sync.Mutex
	hooks    []string // texts posted, not yet taken
	endpoint string
}

// newSinks sets up the endpoints; under CI they are mandatory.
func newSinks(t *testing.T) *sinks {
	t.Helper()
	endpoint, mailpit := os.Getenv("ADLAKE_TEST_SNS_ENDPOINT"), os.Getenv("ADLAKE_TEST_MAILPIT_URL")
	if endpoint == "" || mailpit == "" || os.Getenv("ADLAKE_TEST_SMTP_ADDR") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI: ADLAKE_TEST_SNS_ENDPOINT, ADLAKE_TEST_SMTP_ADDR and ADLAKE_TEST_MAILPIT_URL must be set by localstack/up.sh")
		}
		t.Skip(`alert endpoints not running; run eval "$(localstack/up.sh)"`)
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	s := &sinks{endpoint: endpoint, mailpit: mailpit, mailSeen: map[string]bool{}}
	s.sqs = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	snsc := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := fmt.Sprintf("adlake-%d", time.Now().UnixNano())
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	s.topicARN, s.queueURL, s.mailTo = *topic.TopicArn, *q.QueueUrl, name+"@ops.example.com"
	s.hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.hooks = append(s.hooks, body.Text)
		s.mu.Unlock()
	}))
	t.Cleanup(s.hook.Close)
	return s
}

// env configures adlake to alert to the sinks.
func (s *sinks) env() map[string]string {
	return map[string]string{
		"ADLAKE_ALERTS_SNS_TOPIC_ARN": s.topicARN, "ADLAKE_ALERTS_SNS_ENDPOINT": s.endpoint,
		"ADLAKE_ALERTS_SMTP_ADDR": os.Getenv("ADLAKE_TEST_SMTP_ADDR"), "ADLAKE_ALERTS_EMAIL_FROM": "adlake@advertisex.example",
		"ADLAKE_ALERTS_EMAIL_TO": s.mailTo, "ADLAKE_ALERTS_WEBHOOK_URL": s.hook.URL,
		"ADLAKE_ALERTS_RUNBOOK_BASE": "docs/runbooks",
	}
}

// delivered is what each channel received since the last take.
type delivered struct {
	SNS, Email, Webhook []string // SNS and email: subjects; webhook: texts
}

// take collects what arrived since the last call (SNS and mail arrive
// asynchronously: it polls until two rounds bring nothing new).
func (s *sinks) take(t *testing.T) delivered {
	t.Helper()
	var d delivered
	for quiet := 0; quiet < 2; {
		n := len(d.SNS) + len(d.Email)
		d.SNS = append(d.SNS, s.snsSubjects(t)...)
		d.Email = append(d.Email, s.mailSubjects(t)...)
		if len(d.SNS)+len(d.Email) == n {
			quiet++
		} else {
			quiet = 0
		}
	}
	s.mu.Lock()
	d.Webhook, s.hooks = s.hooks, nil
	s.mu.Unlock()
	slices.Sort(d.SNS)
	slices.Sort(d.Email)
	slices.Sort(d.Webhook)
	return d
}

func (s *sinks) snsSubjects(t *testing.T) []string {
	ctx := context.Background()
	out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range out.Messages {
		var env struct{ Subject, Message string }
		if err := json.Unmarshal([]byte(*m.Body), &env); err != nil {
			t.Fatalf("SNS envelope: %v: %s", err, *m.Body)
		}
		subjects = append(subjects, env.Subject)
		if _, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	return subjects
}

func (s *sinks) mailSubjects(t *testing.T) []string {
	resp, err := http.Get(s.mailpit + "/api/v1/search?limit=500&query=" + url.QueryEscape("to:"+s.mailTo))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Messages []struct{ ID, Subject string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range list.Messages {
		if !s.mailSeen[m.ID] {
			s.mailSeen[m.ID] = true
			subjects = append(subjects, m.Subject)
		}
	}
	time.Sleep(200 * time.Millisecond)
	return subjects
}
