package channel

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Channel is a [Sender] with the name errors and reports use for it
// ("sns", "email", "webhook", or any other unique name).
type Channel struct {
	Name   string
	Sender Sender
}

// ChannelError is the failure of one channel of a [Fanout]; Err is the
// sender's error.
type ChannelError struct {
	Channel string
	Err     error
}

// Error is "<channel>: <the sender's error>".
func (e *ChannelError) Error() string { return e.Channel + ": " + e.Err.Error() }

// Unwrap returns the sender's error.
func (e *ChannelError) Unwrap() error { return e.Err }

// Fanout sends each message to every channel at once. A failing or slow
// channel never keeps a message from the others: each gets its own Send,
// and Fanout waits for all of them. The zero Fanout has no channels and
// sends nowhere.
type Fanout struct {
	channels []Channel
}

var _ Sender = (*Fanout)(nil)

// NewFanout returns a Fanout over channels, in that order. Channel names
// must be unique and senders non-nil.
func NewFanout(channels ...Channel) (*Fanout, error) {
	seen := map[string]bool{}
	for i, c := range channels {
		if c.Name == "" || c.Sender == nil {
			return nil, fmt.Errorf("alert fanout: channel %d needs a name and a sender", i)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("alert fanout: channel name %q used twice", c.Name)
		}
		seen[c.Name] = true
	}
	return &Fanout{channels: append([]Channel(nil), channels...)}, nil
}

// Channels returns the channel names, in order.
func (f *Fanout) Channels() []string {
	names := make([]string, len(f.channels))
	for i, c := range f.channels {
		names[i] = c.Name
	}
	return names
}

// Send sends m to every channel and returns nil when all of them took it,
// else the errors of the failed ones joined (errors.Join), each a
// [*ChannelError] naming its channel, in channel order.
func (f *Fanout) Send(ctx context.Context, m Message) error {
	_, err := f.Deliver(ctx, m)
	return err
}

// Deliver is Send that also returns the names of the channels that took
// m, in channel order.
func (f *Fanout) Deliver(ctx context.Context, m Message) (delivered []string, err error) {
	errs := make([]error, len(f.channels))
	var wg sync.WaitGroup
	for i, c := range f.channels {
		wg.Go(func() {
			if err := c.Sender.Send(ctx, m); err != nil {
				errs[i] = &ChannelError{Channel: c.Name, Err: err}
			}
		})
	}
	wg.Wait()
	for i, c := range f.channels {
		if errs[i] == nil {
			delivered = append(delivered, c.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return delivered, fmt.Errorf("alert %s: %w", m.Key, err)
	}
	return delivered, nil
}
