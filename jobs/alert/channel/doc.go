// Package channel delivers data-quality alert messages to people and
// machines: an SNS topic ([SNS]), email over SMTP ([Email]) and a
// Slack-compatible webhook ([Webhook]); a [Fanout] sends one message to all
// of them.
//
// The package only delivers. Deciding when a condition fires or resolves,
// deduplicating while it persists and recording what was sent (ops.alerts)
// belong to the caller (package jobs/alert, which builds a [Fanout] of the
// configured channels).
//
// Every sender:
//
//   - implements [Sender]: Send(ctx, m) delivers m once or returns an error;
//     it never retries a message the server may have accepted, so a
//     caller's retry can at worst duplicate a message, never lose one;
//   - validates m ([Message.Validate]) before touching the network;
//   - renders m the same way ([Message.Subject], [Message.Body]), so the
//     channels agree on what an alert says;
//   - returns errors wrapped with %w, naming the channel and destination
//     but never a secret (passwords, webhook URLs' paths and queries);
//   - holds no credentials from files: AWS credentials come from the
//     standard AWS chain, the SMTP password from an environment variable
//     named in the configuration.
package channel
