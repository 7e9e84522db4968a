package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// snsServer is an SNS topic on the moto server localstack/up.sh starts,
// with an SQS queue subscribed to it (raw delivery off, so the queue
// receives SNS's JSON envelope: subject, message and attributes).
type snsServer struct {
	endpoint, topicARN, queueURL string
	sqs                          *sqs.Client
}

func newSNSServer(t *testing.T) snsServer {
	t.Helper()
	endpoint := endpoint(t, "ADLAKE_TEST_SNS_ENDPOINT", "the SNS server (moto)")
	// moto takes any credentials; the sender finds them through the
	// standard AWS chain like in production.
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "adlaketest")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "adlaketestsecret")
	}
	c := ctx(t)
	cfg, err := awsconfig.LoadDefaultConfig(c, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	snsc := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := unique("adlake-alert-test")
	topic, err := snsc.CreateTopic(c, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	q, err := sqsc.CreateQueue(c, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	qa, err := sqsc.GetQueueAttributes(c, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	if _, err := snsc.Subscribe(c, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() {
		bg := context.Background()
		_, _ = snsc.DeleteTopic(bg, &sns.DeleteTopicInput{TopicArn: topic.TopicArn})
		_, _ = sqsc.DeleteQueue(bg, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	})
	return snsServer{endpoint: endpoint, topicARN: aws.ToString(topic.TopicArn), queueURL: aws.ToString(q.QueueUrl), sqs: sqsc}
}

// snsEnvelope is the JSON SNS delivers to an SQS subscription.
type snsEnvelope struct {
	Type              string
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// receive returns the one message the queue holds, waiting for it.
func (s snsServer) receive(t *testing.T) snsEnvelope {
	t.Helper()
	out, err := s.sqs.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL),
		MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("queue holds %d messages, want 1", len(out.Messages))
	}
	var env snsEnvelope
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env); err != nil {
		t.Fatalf("SQS body is not SNS JSON: %v\n%s", err, aws.ToString(out.Messages[0].Body))
	}
	if _, err := s.sqs.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL),
		ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSNSDelivers(t *testing.T) {
	srv := newSNSServer(t)
	s, err := channel.NewSNS(ctx(t), channel.SNSOptions{TopicARN: srv.topicARN, Endpoint: srv.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", 120)
	cases := []struct {
		name    string
		edit    func(*channel.Message)
		subject string
		attrs   map[string]string
	}{
		{"firing", func(*channel.Message) {}, "[FAIL] row_count on silver.impressions event_date=2026-11-25/hour=13/a",
			map[string]string{"severity": "fail", "state": "firing", "check": "row_count", "table": "silver.impressions"}},
		{"resolved", func(m *channel.Message) {
			m.State, m.Severity, m.Partition = channel.Resolved, "pass", "event_date=2026-11-25/hour=13/b"
		},
			"[RESOLVED] row_count on silver.impressions event_date=2026-11-25/hour=13/b passes again",
			map[string]string{"severity": "pass", "state": "resolved", "check": "row_count", "table": "silver.impressions"}},
		{"long subject, non-ASCII, no table", func(m *channel.Message) { m.Table, m.Partition, m.Severity = "", "é"+long, "warn" },
			"[WARN] row_count ?" + long[:99-len("[WARN] row_count ?")-3] + "...",
			map[string]string{"severity": "warn", "state": "firing", "check": "row_count"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sample("a")
			c.edit(&m)
			if err := s.Send(ctx(t), m); err != nil {
				t.Fatal(err)
			}
			env := srv.receive(t)
			if env.Type != "Notification" || env.TopicArn != srv.topicARN {
				t.Errorf("type %q topic %q", env.Type, env.TopicArn)
			}
			if env.Subject != c.subject {
				t.Errorf("subject %q, want %q", env.Subject, c.subject)
			}
			if len(env.Subject) > channel.MaxSNSSubject {
				t.Errorf("subject of %d characters", len(env.Subject))
			}
			if env.Message != m.Body() {
				t.Errorf("message:\n%s\nwant:\n%s", env.Message, m.Body())
			}
			got := map[string]string{}
			for k, v := range env.MessageAttributes {
				if v.Type != "String" {
					t.Errorf("attribute %s of type %s", k, v.Type)
				}
				got[k] = v.Value
			}
			if len(got) != len(c.attrs) {
				t.Errorf("attributes %v, want %v", got, c.attrs)
			}
			for k, v := range c.attrs {
				if got[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestSNSBadTopic(t *testing.T) {
	srv := newSNSServer(t)
	missing := strings.TrimSuffix(srv.topicARN, ":"+srv.topicARN[strings.LastIndexByte(srv.topicARN, ':')+1:]) + ":" + unique("adlake-no-such-topic")
	s, err := channel.NewSNS(ctx(t), channel.SNSOptions{TopicARN: missing, Endpoint: srv.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(ctx(t), sample("bad"))
	if err == nil {
		t.Fatal("publish to a missing topic succeeded")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotFound" {
		t.Errorf("error does not wrap the API's NotFound: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "sns publish") || !strings.Contains(msg, missing) {
		t.Errorf("error %q does not say what failed where", msg)
	}
}

func TestSNSInvalid(t *testing.T) {
	if _, err := channel.NewSNS(context.Background(), channel.SNSOptions{}); err == nil {
		t.Error("NewSNS without a topic succeeded")
	}
	s, err := channel.NewSNS(context.Background(), channel.SNSOptions{TopicARN: "arn:aws:sns:eu-west-1:123456789012:t", Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	m := sample("x")
	m.State = ""
	if err := s.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "invalid alert message") {
		t.Errorf("Send of an invalid message: %v", err)
	}
}
