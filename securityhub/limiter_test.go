package securityhub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// stepClock is a Clock whose Sleep advances virtual time and records it.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return nil
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestLimiterPacesAfterBurst(t *testing.T) {
	tests := []struct {
		name      string
		rate      Rate
		idle      time.Duration // virtual time passing before the waits
		waits     int
		wantSleep []time.Duration
	}{
		{"burst passes immediately", Rate{PerSecond: 10, Burst: 5}, 0, 5, nil},
		{"beyond the burst one interval each", Rate{PerSecond: 10, Burst: 5}, 0, 8,
			[]time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}},
		{"burst 1 paces every request", Rate{PerSecond: 3, Burst: 1}, 0, 3,
			[]time.Duration{333333333, 333333333}},
		{"long idle refills only up to the burst", Rate{PerSecond: 10, Burst: 2}, time.Hour, 4,
			[]time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
			l := newLimiter(tt.rate, clock)
			clock.advance(tt.idle)
			for i := range tt.waits {
				if err := l.Wait(context.Background()); err != nil {
					t.Fatalf("wait %d: %v", i, err)
				}
			}
			if len(clock.slept) != len(tt.wantSleep) {
				t.Fatalf("slept %v, want %v", clock.slept, tt.wantSleep)
			}
			for i := range tt.wantSleep {
				if clock.slept[i] != tt.wantSleep[i] {
					t.Fatalf("slept %v, want %v", clock.slept, tt.wantSleep)
				}
			}
		})
	}
}

func TestLimiterSustainedRate(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	l := newLimiter(Rate{PerSecond: 10, Burst: 10}, clock)
	start := clock.Now()
	for range 110 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 10 requests ride the burst, the other 100 need 100 intervals of 100ms.
	if got := clock.Now().Sub(start); got != 10*time.Second {
		t.Fatalf("110 requests at 10/s burst 10 took %v of virtual time, want 10s", got)
	}
}

func TestLimiterCancelledContext(t *testing.T) {
	clock := &stepClock{now: time.Unix(1_700_000_000, 0)}
	l := newLimiter(Rate{PerSecond: 1, Burst: 1}, clock)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
	// The cancelled wait took no token: the next one passes at once.
	if err := l.Wait(context.Background()); err != nil || len(clock.slept) != 0 {
		t.Fatalf("wait after cancelled wait: err %v, slept %v; want immediate", err, clock.slept)
	}
}

// cancellingClock is a stepClock whose next Sleep is cut short: it cancels
// the context and returns without time passing, as a shutdown would.
type cancellingClock struct {
	*stepClock
	cancel context.CancelFunc
}

func (c cancellingClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.cancel != nil {
		c.cancel()
		return ctx.Err()
	}
	return c.stepClock.Sleep(ctx, d)
}

func TestLimiterWaitCutShortGivesTokenBack(t *testing.T) {
	steps := &stepClock{now: time.Unix(1_700_000_000, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	clock := &cancellingClock{stepClock: steps}
	l := newLimiter(Rate{PerSecond: 1, Burst: 1}, clock)
	if err := l.Wait(context.Background()); err != nil { // takes the burst
		t.Fatal(err)
	}
	clock.cancel = cancel
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait cut short = %v, want context.Canceled", err)
	}
	clock.cancel = nil
	// The next caller waits one interval, not two: the cut-short wait's
	// token went back to the bucket.
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{time.Second}; len(steps.slept) != 1 || steps.slept[0] != want[0] {
		t.Fatalf("slept %v, want %v", steps.slept, want)
	}
}

func TestWallClockSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (wallClock{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(cancelled, 1h) = %v, want context.Canceled", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"zero rate per second", Options{ImportRate: Rate{Burst: 3}}, "ImportRate.PerSecond: must be positive (got 0)"},
		{"zero burst", Options{ReadRate: Rate{PerSecond: 3}}, "ReadRate.Burst: must be at least 1 (got 0)"},
		{"negative attempts", Options{MaxAttempts: -1}, "MaxAttempts: must be at least 1 (got -1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.withDefaults()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("withDefaults() error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := (Options{}).withDefaults(); err != nil {
		t.Fatalf("zero Options are invalid: %v", err)
	}
}
