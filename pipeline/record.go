package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// recordStage ends every claim: a message the channel accepted is
// confirmed; one it refused for good is confirmed too, so it is reported
// once and not retried (its reason is in the error decision); one a retry
// may fix is released and its finding parked, so the next run retries it
// even if Security Hub never sends the finding again. Each alert then
// stops with its decision.
type recordStage struct{ p *Pipeline }

func (s recordStage) Exec(ctx context.Context, b Batch) (Batch, error) {
	for _, a := range b.Alerts {
		parked := false
		for i := range a.Sends {
			snd := &a.Sends[i]
			if snd.Err != nil && snd.Retry {
				if snd.Claimed {
					s.release(ctx, snd.Claim)
				}
				if !parked {
					parked = s.park(ctx, a.Finding)
				}
				snd.Parked = parked
				continue
			}
			if !snd.Claimed {
				continue
			}
			if err := s.p.opt.Store.Confirm(ctx, snd.Claim, a.now); err != nil && snd.Err == nil {
				snd.Err = fmt.Errorf("sent, but recording it failed (a duplicate may follow): %w", err)
			}
		}
		b.parked = b.parked || parked
		b.stop(a, fold(a))
	}
	b.Alerts = nil
	return b, nil
}

func (s recordStage) release(ctx context.Context, c store.Claim) {
	if err := s.p.opt.Store.Release(ctx, c); err != nil {
		s.p.log.Error("release claim", "key", c.Key, "err", err)
	}
}

func (s recordStage) park(ctx context.Context, f *asff.Finding) bool {
	if err := s.p.park(ctx, f); err != nil {
		s.p.log.Error("park failed delivery", "finding", f.ID, "err", err)
		return false
	}
	return true
}

// fold turns one alert's per-channel outcomes into its decision: an error
// if any channel failed, else pending if another worker holds a claim,
// else the notification kind if any channel was notified, else a
// duplicate.
func fold(a *Alert) Decision {
	r, f := a.Rule, a.Finding
	d := newDecision(f, r.Name, "", "")
	var errs []string
	var pending, dup string // (only the first of each is reported)
	havePending, haveDup := false, false
	var sent *Send
	for i := range a.Sends {
		snd := &a.Sends[i]
		switch {
		case snd.Err != nil:
			errs = append(errs, snd.Err.Error()+failureOutcome(snd))
		case snd.Pending != "":
			if !havePending {
				pending, havePending = snd.Pending, true
			}
		case snd.Claimed:
			if snd.Channel != nil {
				d.Channels = append(d.Channels, snd.Channel.Name())
			}
			if sent == nil {
				sent = snd
			}
		default:
			if !haveDup {
				dup, haveDup = snd.Dup, true
			}
		}
	}
	switch {
	case len(errs) > 0:
		d.Decision, d.Reason = DecisionError, strings.Join(errs, "; ")
		if len(d.Channels) > 0 {
			d.Reason += " (delivered to " + strings.Join(d.Channels, ", ") + ")"
		}
	case havePending:
		d.Decision, d.Reason = DecisionPending, pending
	case sent != nil:
		d.Decision, d.Reason = kindDecision(*r, f, a.now, sent.Claim.Kind, sent.Claim.Prev)
	default:
		d.Decision, d.Reason = DecisionDuplicate, dup
	}
	return d
}

// failureOutcome says what becomes of a failed send.
func failureOutcome(snd *Send) string {
	switch {
	case snd.Parked:
		return "; kept pending, retried on the next run"
	case snd.Claimed && !snd.Retry:
		return "; refused for good: recorded, not retried"
	case snd.Retry:
		return "; could not be parked, retried on the next occurrence"
	}
	return "; retried on the next occurrence"
}

func kindDecision(r Rule, f *asff.Finding, now time.Time, k store.Kind, prev store.Record) (string, string) {
	switch k {
	case store.KindRenotify:
		return DecisionRenotify, fmt.Sprintf("still open after %d days (last notified %s; renotify_after %s)",
			daysOpen(openSince(f, prev), now), prev.LastNotifiedAt.UTC().Format(time.RFC3339), formatDays(r.RenotifyAfter))
	case store.KindRecurrence:
		return DecisionRecurrence, "came back after being resolved " + prev.ResolvedAt.UTC().Format(time.RFC3339)
	}
	return DecisionNotify, "new active finding"
}

// openSince is when the finding's open period began: when its product first
// observed it, else when we first notified it.
func openSince(f *asff.Finding, prev store.Record) time.Time {
	if !f.FirstObservedAt.IsZero() {
		return f.FirstObservedAt
	}
	if !f.CreatedAt.IsZero() {
		return f.CreatedAt
	}
	return prev.FirstNotifiedAt
}

func daysOpen(since, now time.Time) int {
	if since.IsZero() || now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}
