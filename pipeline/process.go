package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/notify"
	"hubtriage/store"
)

// process decides, sends and records everything for one finding and
// returns its decisions: alert rules in order, then correlations.
func (p *Pipeline) process(ctx context.Context, f *asff.Finding) []Decision {
	return append(p.alert(ctx, f), p.correlate(ctx, f)...)
}

// alert runs the alert rules on f.
func (p *Pipeline) alert(ctx context.Context, f *asff.Finding) []Decision {
	now := p.opt.Now()
	if !f.Active() {
		return p.resolve(ctx, f, now)
	}
	var out []Decision
	for _, r := range p.opt.Rules {
		if !r.Filter.Match(f, now) || !r.OCSFFilter.Match(f, now) {
			continue
		}
		out = append(out, p.route(ctx, r, f, now))
	}
	if len(out) == 0 {
		out = append(out, newDecision(f, "", DecisionFiltered, "matched no rule"))
	}
	return out
}

// resolve clears the state an inactive finding left under every rule, so
// that its return is alerted as a recurrence.
func (p *Pipeline) resolve(ctx context.Context, f *asff.Finding, now time.Time) []Decision {
	var out []Decision
	var failed []string
	for _, r := range p.opt.Rules {
		cleared := false
		for _, ch := range targets(r) {
			ok, err := p.resolveKey(ctx, dedupKey(r.Name, channelName(ch), f), now)
			if err != nil {
				failed = append(failed, err.Error())
			}
			cleared = cleared || ok
		}
		if cleared {
			out = append(out, newDecision(f, r.Name, DecisionResolved, "finding is "+inactiveReason(f)+"; state cleared"))
		}
	}
	if err := p.unpark(ctx, f, now); err != nil {
		failed = append(failed, err.Error())
	}
	if len(failed) > 0 {
		out = append(out, newDecision(f, "", DecisionError, "clear state: "+strings.Join(failed, "; ")))
	}
	if len(out) == 0 {
		out = append(out, newDecision(f, "", DecisionFiltered, "finding is "+inactiveReason(f)+" and was not tracked"))
	}
	return out
}

// resolveKey reads before writing so that the common case, an inactive
// finding we never alerted on, costs no write.
func (p *Pipeline) resolveKey(ctx context.Context, key string, now time.Time) (bool, error) {
	rec, err := p.get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.Status != store.StatusNotified {
		return false, nil
	}
	if p.opt.DryRun {
		rec.Key = key
		p.shadow.resolved(rec, now)
		return true, nil
	}
	return p.opt.Store.Resolve(ctx, key, now)
}

func inactiveReason(f *asff.Finding) string {
	switch {
	case f.RecordState != "" && !strings.EqualFold(f.RecordState, "ACTIVE"):
		return "RecordState " + f.RecordState
	case strings.EqualFold(f.Compliance.Status, "PASSED"):
		return "Compliance PASSED"
	default:
		return "Workflow " + f.WorkflowStatus
	}
}

// outcome is what happened on one channel of one rule.
type outcome struct {
	channel string
	kind    store.Kind // set when a notification was sent (or would be)
	prev    store.Record
	dup     string // set when suppressed: why
	err     error
}

// route claims, sends and records one rule's notification on each of its
// channels, and folds the outcomes into one decision.
func (p *Pipeline) route(ctx context.Context, r Rule, f *asff.Finding, now time.Time) Decision {
	outs := make([]outcome, 0, len(r.Channels)+1)
	for _, ch := range targets(r) {
		if p.opt.DryRun {
			outs = append(outs, p.peek(ctx, r, ch, f, now))
		} else {
			outs = append(outs, p.deliver(ctx, r, ch, f, now))
		}
	}
	return fold(r, f, now, outs)
}

// peek predicts what deliver would do, from the stored state alone.
func (p *Pipeline) peek(ctx context.Context, r Rule, ch notify.Channel, f *asff.Finding, now time.Time) outcome {
	o := outcome{channel: channelName(ch)}
	key := dedupKey(r.Name, o.channel, f)
	rec, err := p.get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		o.kind = store.KindNew
	case err != nil:
		o.err = err
	case rec.Claimed:
		o.dup = "notification in flight in another worker"
	case rec.Status == store.StatusResolved:
		o.kind, o.prev = store.KindRecurrence, rec
	case now.Sub(rec.LastNotifiedAt) < r.window():
		o.dup = dupReason(r, rec.LastNotifiedAt)
	default:
		o.kind, o.prev = store.KindRenotify, rec
	}
	if o.kind != "" {
		p.shadow.notified(key, o.kind, o.prev, now)
	}
	return o
}

// get reads a dedup record, through the dry run's shadow when there is one.
func (p *Pipeline) get(ctx context.Context, key string) (store.Record, error) {
	if p.shadow != nil {
		return p.shadow.get(ctx, p.opt.Store, key)
	}
	return p.opt.Store.Get(ctx, key)
}

// deliver claims the key, sends, and settles the claim.
func (p *Pipeline) deliver(ctx context.Context, r Rule, ch notify.Channel, f *asff.Finding, now time.Time) outcome {
	o := outcome{channel: channelName(ch)}
	key := dedupKey(r.Name, o.channel, f)
	// Fast path: most events are re-imports of findings notified within the
	// window; a read settles them without a conditional write.
	if rec, err := p.opt.Store.Get(ctx, key); err == nil && rec.Status == store.StatusNotified && now.Sub(rec.LastNotifiedAt) < r.window() {
		o.dup = dupReason(r, rec.LastNotifiedAt)
		return o
	}
	meta := store.Meta{FindingID: f.ID, ProductArn: f.ProductArn, Rule: r.Name, Channel: o.channel}
	c, err := p.opt.Store.Claim(ctx, key, meta, now, r.window(), p.opt.Lease)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		o.dup = dupReason(r, time.Time{})
		return o
	case errors.Is(err, store.ErrInFlight):
		o.dup = "notification in flight in another worker"
		return o
	case err != nil:
		o.err = fmt.Errorf("claim: %w", err)
		return o
	}
	o.kind, o.prev = c.Kind, c.Prev
	if ch != nil {
		if err := p.send(ctx, r, ch, f, c, now); err != nil {
			o.err = err
			p.release(ctx, c, f)
			return o
		}
	}
	if err := p.opt.Store.Confirm(ctx, c, now); err != nil {
		o.err = fmt.Errorf("sent, but recording it failed (a duplicate may follow): %w", err)
	}
	return o
}

func (p *Pipeline) send(ctx context.Context, r Rule, ch notify.Channel, f *asff.Finding, c store.Claim, now time.Time) error {
	n := notify.Notification{Finding: f, Rule: r.Name, Reason: reasonOf(c.Kind), Now: now}
	if c.Kind == store.KindRenotify {
		n.OpenSince = openSince(f, c.Prev)
	}
	start := time.Now()
	_, err := ch.Notify(ctx, n)
	if p.opt.Observer != nil {
		p.opt.Observer.Delivered(ch.Name(), time.Since(start), err)
	}
	if err != nil {
		return fmt.Errorf("channel %s: %w", ch.Name(), err)
	}
	return nil
}

// release gives the claim back and parks the finding so the next run
// retries it even if Security Hub never sends it again.
func (p *Pipeline) release(ctx context.Context, c store.Claim, f *asff.Finding) {
	if err := p.opt.Store.Release(ctx, c); err != nil {
		p.log.Error("release claim", "key", c.Key, "err", err)
	}
	if err := p.park(ctx, f); err != nil {
		p.log.Error("park failed delivery", "finding", f.ID, "err", err)
	}
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

func dupReason(r Rule, last time.Time) string {
	window := "never re-notified (no renotify_after)"
	if r.RenotifyAfter > 0 {
		window = "renotify_after " + formatDays(r.RenotifyAfter)
	}
	if last.IsZero() {
		return "already notified; " + window
	}
	return "notified " + last.UTC().Format(time.RFC3339) + "; " + window
}

func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
