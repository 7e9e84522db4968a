package channel

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// MaxSNSSubject is the longest subject [SNS] sends: the SNS API wants
// subjects of less than 100 characters.
const MaxSNSSubject = 99

// SNSOptions configure an [SNS] sender. Credentials never appear here:
// they come from the standard AWS chain (environment, shared config and
// credentials files, SSO, instance and task roles).
type SNSOptions struct {
	// TopicARN is the topic to publish to. Required.
	TopicARN string
	// Endpoint overrides the AWS endpoint, e.g. "http://127.0.0.1:5055"
	// for a local moto server. Empty means AWS itself.
	Endpoint string
	// Region is the topic's region; empty takes it from TopicARN, then
	// from the AWS chain, then "us-east-1".
	Region string
}

// SNS publishes messages to an SNS topic: the subject is
// [Message.Subject] cut to [MaxSNSSubject] ASCII characters, the message
// [Message.Body], and the message attributes "severity", "state", "check"
// and "table" (String; empty ones left out) let subscriptions filter.
type SNS struct {
	client *sns.Client
	topic  string
}

var _ Sender = (*SNS)(nil)

// NewSNS returns an SNS sender for opts.TopicARN. It loads the AWS
// configuration but does not contact AWS.
func NewSNS(ctx context.Context, opts SNSOptions) (*SNS, error) {
	if opts.TopicARN == "" {
		return nil, fmt.Errorf("sns: no topic ARN")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("sns %s: load AWS configuration: %w", opts.TopicARN, err)
	}
	switch {
	case opts.Region != "":
		cfg.Region = opts.Region
	case arnRegion(opts.TopicARN) != "":
		cfg.Region = arnRegion(opts.TopicARN)
	case cfg.Region == "":
		cfg.Region = "us-east-1"
	}
	client := sns.NewFromConfig(cfg, func(o *sns.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return &SNS{client: client, topic: opts.TopicARN}, nil
}

// arnRegion returns the region of "arn:aws:sns:REGION:ACCOUNT:NAME", or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

// Send publishes m once; the SDK retries only failures where the message
// was not accepted (throttling, connection errors before a response).
func (s *SNS) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("sns %s: %w", s.topic, err)
	}
	attrs := map[string]types.MessageAttributeValue{}
	for name, v := range map[string]string{"severity": m.Severity, "state": m.State, "check": m.Check, "table": m.Table} {
		if v != "" {
			attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	_, err := s.client.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(s.topic),
		Subject:           aws.String(snsSubject(m.Subject())),
		Message:           aws.String(m.Body()),
		MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("sns publish %s to %s: %w", m.Key, s.topic, err)
	}
	return nil
}

// snsSubject makes s an SNS subject: printable ASCII ("?" for anything
// else), at most MaxSNSSubject characters, the cut marked with "...".
func snsSubject(s string) string {
	b := []byte(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s))
	if len(b) > MaxSNSSubject {
		b = append(b[:MaxSNSSubject-3], "..."...)
	}
	return string(b)
}
