package pipeline

import (
	"context"
	"time"
)

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
		var buf [16]int
		hits := buf[:0]
		for i := range s.rules {
			if s.rules[i].Filter.Match(a.Finding, now) && s.rules[i].OCSFFilter.Match(a.Finding, now) {
				hits = append(hits, i)
			}
		}
		if len(hits) == 0 {
			b.stop(a, newDecision(a.Finding, "", DecisionFiltered, "matched no rule"))
			continue
		}
		matched := make([]Alert, len(hits)) // (one allocation for the finding's alerts)
		for j, i := range hits {
			matched[j] = Alert{Finding: a.Finding, Rule: &s.rules[i], pos: position{a.pos.finding, i}, now: now}
			out = append(out, &matched[j])
		}
	}
	b.Alerts = out
	return b, nil
}
