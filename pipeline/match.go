package pipeline

import (
	"context"
	"errors"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// decodeStage turns the batch's input into findings; a result that did not
// decode becomes an error decision and goes no further.
type decodeStage struct{}

func (decodeStage) Exec(_ context.Context, b Batch) (Batch, error) {
	n := len(b.Input)
	alerts, ptrs := make([]Alert, n), make([]*Alert, 2*n) // (one allocation each for the batch)
	b.Findings, b.Alerts = ptrs[:0:n], ptrs[n:n]
	for i, r := range b.Input {
		if r.Err != nil {
			b.decide(position{i, subFinding}, decodeError(r.Err))
			continue
		}
		a := &alerts[i]
		*a = Alert{Finding: r.Finding, pos: position{finding: i}}
		b.Findings = append(b.Findings, a)
		b.Alerts = append(b.Alerts, a)
	}
	b.Input = nil
	return b, nil
}

func decodeError(err error) Decision {
	return Decision{Decision: DecisionError, Reason: err.Error(), Channels: []string{}}
}

// matchStage turns each active finding into one alert per rule whose
// filter it matches, in the order the rules are configured; a finding no
// rule matches is filtered. Inactive findings pass on to resolve.
type matchStage struct {
	rules []Rule
	now   func() time.Time
}

func (s matchStage) Exec(_ context.Context, b Batch) (Batch, error) {
	out := make([]*Alert, 0, len(b.Alerts)*len(s.rules))
	for _, a := range b.Alerts {
		if a.Rule != nil || !a.Finding.Active() {
			out = append(out, a)
			continue
		}
		now := s.now()
		var hit [16]bool
		n := 0
		for i := range s.rules {
			if s.rules[i].Filter.Match(a.Finding, now) {
				n++
				if i < len(hit) {
					hit[i] = true
				}
			}
		}
		if n == 0 {
			b.stop(a, newDecision(a.Finding, "", DecisionFiltered, "matched no rule"))
			continue
		}
		matched := make([]Alert, 0, n) // (one allocation for the finding's alerts)
		for i := range s.rules {
			if (i < len(hit) && hit[i]) || (i >= len(hit) && s.rules[i].Filter.Match(a.Finding, now)) {
				matched = append(matched, Alert{Finding: a.Finding, Rule: &s.rules[i], pos: position{a.pos.finding, i}, now: now})
				out = append(out, &matched[len(matched)-1])
			}
		}
	}
	b.Alerts = out
	return b, nil
}

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
	for i, r := range p.opt.Rules {
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
			b.decide(position{a.pos.finding, i}, newDecision(f, r.Name, DecisionResolved, "finding is "+inactiveReason(f)+"; state cleared"))
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
		b.stop(a, newDecision(f, "", DecisionFiltered, "finding is "+inactiveReason(f)+" and was not tracked"))
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
