package securityhub

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// Clock is the time source the client paces and backs off on. The zero
// Options use the wall clock; tests inject a clock whose Sleep advances
// virtual time instantly, so rate limits can be asserted without waiting.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep blocks for d, or until ctx is done, in which case it returns
	// ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// wallClock is the real Clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rate is a client-side request budget: a token bucket refilled at PerSecond
// tokens per second that holds at most Burst tokens. Every HTTP attempt,
// retries included, takes one token.
type Rate struct {
	PerSecond float64
	Burst     int
}

// validate reports a rate that cannot pace anything.
func (r Rate) validate(field string) error {
	if r.PerSecond <= 0 {
		return fmt.Errorf("%s.PerSecond: must be positive (got %v)", field, r.PerSecond)
	}
	if r.Burst < 1 {
		return fmt.Errorf("%s.Burst: must be at least 1 (got %d)", field, r.Burst)
	}
	return nil
}

// limiter paces requests with golang.org/x/time/rate's token bucket, asked
// at the Clock's time (ReserveN, not Wait) so that tests can run it on
// virtual time. It is safe for concurrent use.
type limiter struct {
	clock  Clock
	tokens *rate.Limiter
}

// newLimiter returns a limiter for a validated rate.
func newLimiter(r Rate, clock Clock) *limiter {
	return &limiter{clock: clock, tokens: rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)}
}

// Wait blocks until the caller may send one request. It returns ctx.Err()
// without taking a token when ctx is already done, and gives its token
// back when ctx ends the wait.
func (l *limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.clock.Now()
	res := l.tokens.ReserveN(now, 1) // always OK: a validated Burst is at least 1
	delay := res.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	if err := l.clock.Sleep(ctx, delay); err != nil {
		res.CancelAt(l.clock.Now())
		return err
	}
	return nil
}
