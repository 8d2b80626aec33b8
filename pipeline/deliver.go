package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"hubtriage/notify"
	"hubtriage/store"
)

// breakerTrips is how many consecutive transient failures (errors the
// channel says a retry may fix, timeouts included) open a channel's
// circuit for the rest of the run.
const breakerTrips = 3

// deliverStage sends every claimed notification to its channel, through
// the channel's circuit breaker: once a channel has failed breakerTrips
// times in a row in this run, the rest of the run's messages for it fail
// at once (and are parked by record) instead of each waiting out a hung
// server's timeout.
type deliverStage struct {
	breakers *breakers
	observer Observer
}

func (s deliverStage) Exec(ctx context.Context, b Batch) (Batch, error) {
	for _, a := range b.Alerts {
		for i := range a.Sends {
			if snd := &a.Sends[i]; snd.Claimed && snd.Channel != nil {
				snd.Retry, snd.Err = s.send(ctx, a, snd)
			}
		}
	}
	return b, nil
}

func (s deliverStage) send(ctx context.Context, a *Alert, snd *Send) (bool, error) {
	ch := snd.Channel
	n := notify.Notification{Finding: a.Finding, Rule: a.Rule.Name, Reason: reasonOf(snd.Claim.Kind), Now: a.now}
	if a.reason != "" {
		n.Reason = a.reason
	}
	if snd.Claim.Kind == store.KindRenotify {
		n.OpenSince = openSince(a.Finding, snd.Claim.Prev)
	}
	start := time.Now()
	retry, err := s.breakers.notify(ctx, ch, n)
	if s.observer != nil && !errors.Is(err, errCircuitOpen) {
		s.observer.Delivered(ch.Name(), time.Since(start), err)
	}
	if err != nil {
		return retry, fmt.Errorf("channel %s: %w", ch.Name(), err)
	}
	return false, nil
}

// Deliverer is the deliver stage for messages sent outside a Run:
// reconcile's "resolved" notifications. It keeps one circuit breaker per
// channel; an open one tries again after a minute. Safe for concurrent use.
type Deliverer struct{ stage deliverStage }

// NewDeliverer returns a Deliverer reporting deliveries to obs (nil: none).
func NewDeliverer(obs Observer) *Deliverer {
	return &Deliverer{stage: deliverStage{breakers: newBreakers(time.Minute), observer: obs}}
}

// Deliver sends n on ch through the deliver stage and returns the
// channel's verdict (see notify.Channel).
func (d *Deliverer) Deliver(ctx context.Context, ch notify.Channel, n notify.Notification) (retry bool, err error) {
	a := &Alert{Finding: n.Finding, Rule: &Rule{Name: n.Rule}, now: n.Now, reason: n.Reason, Sends: []Send{{Channel: ch, Claimed: true}}}
	if _, err := d.stage.Exec(ctx, Batch{Alerts: []*Alert{a}}); err != nil {
		return true, err
	}
	return a.Sends[0].Retry, a.Sends[0].Err
}

// errCircuitOpen fails, without an attempt, a message to a channel whose
// circuit is open.
var errCircuitOpen = fmt.Errorf("not attempted: %d consecutive transient failures on this channel in this run", breakerTrips)

// breakers are circuit breakers, one per channel name; an open circuit
// lets a message through again after open.
type breakers struct {
	open time.Duration
	mu   sync.Mutex
	m    map[string]*gobreaker.CircuitBreaker[bool]
}

// runOpen keeps a run's open circuit open for the rest of the run.
const runOpen = 24 * time.Hour

func newBreakers(open time.Duration) *breakers {
	return &breakers{open: open, m: map[string]*gobreaker.CircuitBreaker[bool]{}}
}

// permanent marks an error the channel says no retry can fix: the channel
// answered, so it does not count against the circuit.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

func (b *breakers) get(name string) *gobreaker.CircuitBreaker[bool] {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb, ok := b.m[name]
	if !ok {
		cb = gobreaker.NewCircuitBreaker[bool](gobreaker.Settings{
			Name:        name,
			Timeout:     b.open,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrips },
			IsSuccessful: func(err error) bool {
				var p permanent
				return err == nil || errors.As(err, &p)
			},
		})
		b.m[name] = cb
	}
	return cb
}

// notify sends n on ch through ch's breaker, returning the channel's
// verdict: retry reports whether a later attempt may succeed.
func (b *breakers) notify(ctx context.Context, ch notify.Channel, n notify.Notification) (bool, error) {
	_, err := b.get(ch.Name()).Execute(func() (bool, error) {
		retry, err := ch.Notify(ctx, n)
		if err != nil && !retry {
			return false, permanent{err}
		}
		return retry, err
	})
	var p permanent
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &p):
		return false, p.error
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return true, errCircuitOpen
	}
	return true, err
}

func reasonOf(k store.Kind) notify.Reason {
	switch k {
	case store.KindRenotify:
		return notify.ReasonRenotify
	case store.KindRecurrence:
		return notify.ReasonRecurrence
	}
	return notify.ReasonNew
}
