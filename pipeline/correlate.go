package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"hubtriage/asff"
	"hubtriage/correlate"
)

// Correlator is the correlation stage; *correlate.Engine implements it.
//
// Contract: Observe and Rollback are safe for concurrent use. Observe
// records a finding and may return correlated findings it changed, or
// defer them to Settle, which the pipeline calls once per batch (a
// replay's input, a daemon poll, one Lambda event). Rollback undoes the
// recorded emission of a Result its sink did not take, so a later
// Settle emits it again.
type Correlator interface {
	Observe(ctx context.Context, f *asff.Finding) ([]correlate.Result, error)
	Settle(ctx context.Context) ([]correlate.Result, error)
	Rollback(ctx context.Context, r correlate.Result) error
}

// Sink takes correlated findings as ASFF JSON: Security Hub's
// BatchImportFindings, or a file for review.
//
// Contract: Put returns an error when no finding was taken; otherwise it
// returns, by index into findings, the ones refused (nil: all taken). It
// is safe for concurrent use.
type Sink interface {
	Put(ctx context.Context, findings [][]byte) (refused map[int]error, err error)
}

// correlateStage feeds every finding of the batch to the correlator;
// hubtriage's own correlated findings coming back are not correlated again
// (no feedback loop). What the correlator emits is held for the end of
// the batch (settle).
type correlateStage struct {
	corr  Correlator
	later *results
}

func (s correlateStage) Exec(ctx context.Context, b Batch) (Batch, error) {
	if s.corr == nil {
		return b, nil
	}
	for _, a := range b.Findings {
		if correlate.IsOwn(a.Finding) {
			continue
		}
		rs, err := s.corr.Observe(ctx, a.Finding)
		if err != nil {
			b.decide(position{a.pos.finding, subAfterRule}, newDecision(a.Finding, "", DecisionError, "correlate: "+err.Error()))
		}
		s.later.add(rs)
	}
	return b, nil
}

// results are correlated findings emitted while the batch was read.
type results struct {
	mu sync.Mutex
	rs []correlate.Result
}

func (r *results) add(rs []correlate.Result) {
	if len(rs) == 0 {
		return
	}
	r.mu.Lock()
	r.rs = append(r.rs, rs...)
	r.mu.Unlock()
}

func (r *results) take() []correlate.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.rs
	r.rs = nil
	return rs
}

// subCorrelate places a correlate decision before the alerts on its finding.
const subCorrelate = subFinding - 1

// settle ends a batch: it settles the correlations the batch changed,
// imports their findings together (the sink batches them), and runs each
// one imported through the alert stages like any other finding. One the
// sink refused is rolled back, to be emitted again by the next batch.
func (p *Pipeline) settle(ctx context.Context, r *runState) (Batch, error) {
	var b Batch
	if p.opt.Correlator == nil {
		return b, nil
	}
	rs, err := p.opt.Correlator.Settle(ctx)
	rs = append(r.later.take(), rs...)
	if err != nil {
		b.decide(position{len(rs), subFinding}, Decision{Decision: DecisionError, Channels: []string{},
			Reason: "correlate: " + err.Error() + "; settled again on the next run"})
	}
	refused, importErr := p.importAll(ctx, rs)
	for i, res := range rs {
		a, d := p.correlated(ctx, i, res, refusal(refused[i], importErr))
		b.decide(position{i, subCorrelate}, d)
		if a != nil {
			b.Findings = append(b.Findings, a)
			b.Alerts = append(b.Alerts, a)
		}
	}
	return exec(ctx, from(r.stages, "match"), b)
}

func refusal(one, all error) error {
	if all != nil {
		return all
	}
	return one
}

// importAll puts the results' findings into the sink, in one call.
func (p *Pipeline) importAll(ctx context.Context, rs []correlate.Result) (map[int]error, error) {
	if p.opt.Sink == nil || len(rs) == 0 {
		return nil, nil
	}
	docs := make([][]byte, len(rs))
	for i, r := range rs {
		docs[i] = r.Finding
	}
	return p.opt.Sink.Put(ctx, docs)
}

// correlated is the decision on one correlated finding, which importErr
// says the sink did not take, and the alert on it when it did.
func (p *Pipeline) correlated(ctx context.Context, i int, r correlate.Result, importErr error) (*Alert, Decision) {
	cf := r.Correlated
	d := newDecision(cf, r.Rule, DecisionCorrelate, correlateReason(r))
	d.Resource = r.Resource
	for _, c := range r.Contributing {
		d.Contributing = append(d.Contributing, c.ID)
	}
	if importErr != nil {
		if rerr := p.opt.Correlator.Rollback(ctx, r); rerr != nil {
			p.log.Error("roll back correlation state", "rule", r.Rule, "resource", r.Resource, "err", rerr)
		}
		d.Decision = DecisionError
		d.Reason = "import correlated finding: " + importErr.Error() + "; emitted again by the next run"
		return nil, d
	}
	return &Alert{Finding: cf, pos: position{finding: i}}, d
}

func correlateReason(r correlate.Result) string {
	if r.Archived {
		return "no contributing finding counts any more; correlated finding archived"
	}
	return fmt.Sprintf("%d contributing findings on %s", len(r.Contributing), shortResource(r.Resource))
}

func shortResource(s string) string {
	if i := strings.LastIndexAny(s, "/:"); i >= 0 && i < len(s)-1 {
		return s[i+1:]
	}
	return s
}
