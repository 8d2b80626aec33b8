package pipeline

import (
	"context"
	"errors"

	"hubtriage/asff"
)

// decodeStage turns the batch's input into findings; a result that did not
// decode becomes an error decision and goes no further.
type decodeStage struct{}

func (decodeStage) Exec(_ context.Context, b Batch) (Batch, error) {
	n := len(b.Input)
	alerts, ptrs := b.spare, b.sparePtrs
	if len(alerts) < n || len(ptrs) < 2*n {
		alerts, ptrs = make([]Alert, n), make([]*Alert, 2*n) // (one allocation each for the batch)
	}
	b.spare, b.sparePtrs = nil, nil
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

// decodeError is the decision for a decode problem: skipped for a document
// that carries no findings by design, else an error.
func decodeError(err error) Decision {
	if errors.Is(err, asff.ErrNoFindings) {
		return Decision{Decision: DecisionSkipped, Reason: err.Error(), Channels: []string{}}
	}
	return Decision{Decision: DecisionError, Reason: err.Error(), Channels: []string{}}
}
