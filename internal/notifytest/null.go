// Package notifytest holds notification channels for tests and benchmarks.
package notifytest

import (
	"context"
	"sync/atomic"

	"hubtriage/notify"
)

// Null is a channel that accepts every notification and only counts them,
// so benchmarks measure the pipeline rather than a destination. With Render
// set it also renders each message (and fails on what Render rejects), to
// include the email rendering cost. The zero value is ready to use and safe
// for concurrent use.
type Null struct {
	ChannelName string // Name returns "null" when empty
	Render      bool

	sent atomic.Int64
}

var _ notify.Channel = (*Null)(nil)

// Name is ChannelName, or "null".
func (c *Null) Name() string {
	if c.ChannelName == "" {
		return "null"
	}
	return c.ChannelName
}

// Notify accepts n unless ctx is done (retryable) or, with Render set, the
// notification cannot be rendered (permanent).
func (c *Null) Notify(ctx context.Context, n notify.Notification) (bool, error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	if c.Render {
		if _, err := notify.Render(n); err != nil {
			return false, err
		}
	}
	c.sent.Add(1)
	return false, nil
}

// Sent is the number of notifications accepted.
func (c *Null) Sent() int64 { return c.sent.Load() }
