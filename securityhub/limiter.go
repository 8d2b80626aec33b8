package securityhub

import (
	"context"
	"fmt"
	"sync"
	"time"
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

// limiter is a token bucket written as GCRA: instead of counting tokens it
// keeps the theoretical arrival time (tat) of the next request, which moves
// forward one interval per request and may run at most (Burst-1) intervals
// ahead of now. It is safe for concurrent use.
type limiter struct {
	clock    Clock
	interval time.Duration // time to refill one token
	slack    time.Duration // (Burst-1) * interval: how far tat may lead now

	mu  sync.Mutex
	tat time.Time
}

// newLimiter returns a limiter for a validated rate.
func newLimiter(r Rate, clock Clock) *limiter {
	interval := time.Duration(float64(time.Second) / r.PerSecond)
	return &limiter{clock: clock, interval: interval, slack: time.Duration(r.Burst-1) * interval}
}

// Wait blocks until the caller may send one request. It returns ctx.Err()
// without taking a token when ctx is already done; a wait cut short by ctx
// still spends its token, which only makes later callers more conservative.
func (l *limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clock.Now()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	delay := tat.Sub(now) - l.slack
	l.tat = tat.Add(l.interval)
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	return l.clock.Sleep(ctx, delay)
}
