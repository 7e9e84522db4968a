package alert

import (
	"context"

	"github.com/advertisex/adlake/jobs/alert/channel"
)

// ChannelOptions say which alert channels to build. A channel is built
// when its address is set (SNSTopicARN, SMTPAddr, WebhookURL); the other
// fields configure it. Credentials are never here: AWS's come from the
// AWS chain, the SMTP password from the variable SMTPPasswordEnv names.
type ChannelOptions struct {
	// SNSTopicARN turns on SNS ("sns"); SNSEndpoint overrides the AWS
	// endpoint ("" is AWS itself).
	SNSTopicARN, SNSEndpoint string
	// SMTPAddr, host:port, turns on email ("email") from EmailFrom to
	// EmailTo (at least one recipient), with PLAIN authentication as
	// SMTPUsername when set.
	SMTPAddr        string
	EmailFrom       string
	EmailTo         []string
	SMTPUsername    string
	SMTPPasswordEnv string
	// WebhookURL turns on the Slack-compatible webhook ("webhook"); it is
	// a secret and never appears in errors.
	WebhookURL string
}

// NewChannels builds the channels o configures, in the order sns, email,
// webhook, as one Fanout; nil (and no error) when none is configured. An
// invalid setting is an error naming the channel, before any message is
// sent.
func NewChannels(ctx context.Context, o ChannelOptions) (*channel.Fanout, error) {
	var chans []channel.Channel
	if o.SNSTopicARN != "" {
		s, err := channel.NewSNS(ctx, channel.SNSOptions{TopicARN: o.SNSTopicARN, Endpoint: o.SNSEndpoint})
		if err != nil {
			return nil, err
		}
		chans = append(chans, channel.Channel{Name: "sns", Sender: s})
	}
	if o.SMTPAddr != "" {
		m, err := channel.NewEmail(channel.EmailOptions{Addr: o.SMTPAddr, From: o.EmailFrom, To: o.EmailTo,
			Username: o.SMTPUsername, PasswordEnv: o.SMTPPasswordEnv})
		if err != nil {
			return nil, err
		}
		chans = append(chans, channel.Channel{Name: "email", Sender: m})
	}
	if o.WebhookURL != "" {
		w, err := channel.NewWebhook(channel.WebhookOptions{URL: o.WebhookURL})
		if err != nil {
			return nil, err
		}
		chans = append(chans, channel.Channel{Name: "webhook", Sender: w})
	}
	if len(chans) == 0 {
		return nil, nil
	}
	return channel.NewFanout(chans...)
}
