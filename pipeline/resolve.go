package pipeline

import (
	"context"
	"errors"
	"strings"
	"time"

	"hubtriage/store"
)

// resolveStage clears the state an inactive finding left under every rule,
// so that its return is alerted as a recurrence, and drops its parked
// delivery: it is no longer worth an alert.
type resolveStage struct{ p *Pipeline }

func (s resolveStage) Exec(ctx context.Context, b Batch) (Batch, error) {
	out := b.Alerts[:0] // (filtered in place)
	for _, a := range b.Alerts {
		if a.Rule != nil || a.Finding.Active() {
			out = append(out, a)
			continue
		}
		s.resolve(ctx, &b, a)
	}
	b.Alerts = out
	return b, nil
}

func (s resolveStage) resolve(ctx context.Context, b *Batch, a *Alert) {
	f, now, p := a.Finding, s.p.now(), s.p
	var failed []string
	any := false
	for i := range p.opt.Rules {
		r := &p.opt.Rules[i]
		cleared := false
		for _, ch := range targets(r) {
			ok, err := s.resolveKey(ctx, dedupKey(r.Name, channelName(ch), f), now)
			if err != nil {
				failed = append(failed, err.Error())
			}
			cleared = cleared || ok
		}
		if cleared {
			any = true
			b.decide(position{a.pos.finding, i}, newDecision(f, r.Name, DecisionResolved, "finding is "+f.InactiveReason()+"; state cleared"))
		}
	}
	if err := p.unpark(ctx, f, now); err != nil {
		failed = append(failed, err.Error())
	}
	if len(failed) > 0 {
		any = true
		b.decide(position{a.pos.finding, subAfterRule}, newDecision(f, "", DecisionError, "clear state: "+strings.Join(failed, "; ")))
	}
	if !any {
		b.stop(a, newDecision(f, "", DecisionFiltered, "finding is "+f.InactiveReason()+" and was not tracked"))
	}
}

// resolveKey reads before writing so that the common case, an inactive
// finding we never alerted on, costs no write.
func (s resolveStage) resolveKey(ctx context.Context, key string, now time.Time) (bool, error) {
	rec, err := s.p.opt.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil || rec.Status != store.StatusNotified {
		return false, err
	}
	return s.p.opt.Store.Resolve(ctx, key, now)
}
