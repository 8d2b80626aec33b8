package pipeline

import (
	"context"
	"fmt"
	"strings"

	"hubtriage/asff"
	"hubtriage/correlate"
)

// Correlator is the correlation stage; *correlate.Engine implements it.
//
// Contract: Observe and Rollback are safe for concurrent use. Observe may
// return the correlated findings a finding changed, or defer them to
// Settle, which Run calls once the input is processed. Flush makes what
// they recorded durable; Run calls it before it returns, so that a daemon
// moves its checkpoint only past findings whose correlation state is
// stored.
type Correlator interface {
	Observe(ctx context.Context, f *asff.Finding) ([]correlate.Result, error)
	Settle(ctx context.Context) ([]correlate.Result, error)
	Rollback(ctx context.Context, r correlate.Result) error
	Flush(ctx context.Context) error
}

// Sink takes correlated findings as ASFF JSON: Security Hub's
// BatchImportFindings, or a file for review.
//
// Contract: Put returns nil only once every finding was accepted; it is
// safe for concurrent use.
type Sink interface {
	Put(ctx context.Context, findings [][]byte) error
}

// correlate feeds f to the correlation stage and turns every correlated
// finding whose contributing set changed into a correlate decision, puts
// it into the sink, and alerts on it like on any other finding.
// hubtriage's own correlated findings coming back are not correlated
// again (no feedback loop).
func (p *Pipeline) correlate(ctx context.Context, f *asff.Finding) []Decision {
	if p.opt.Correlator == nil || correlate.IsOwn(f) {
		return nil
	}
	results, err := p.opt.Correlator.Observe(ctx, f)
	var out []Decision
	if err != nil {
		out = append(out, newDecision(f, "", DecisionError, "correlate: "+err.Error()))
	}
	importErr := p.importAll(ctx, results)
	for _, r := range results {
		out = append(out, p.correlated(ctx, r, importErr, "emitted again on the next observation")...)
	}
	return out
}

// settle turns the correlations the correlator deferred into decisions,
// importing their findings together (in batches of at most 100).
func (p *Pipeline) settle(ctx context.Context) []Decision {
	if p.opt.Correlator == nil {
		return nil
	}
	results, err := p.opt.Correlator.Settle(ctx)
	importErr := p.importAll(ctx, results)
	var out []Decision
	for _, r := range results {
		out = append(out, p.correlated(ctx, r, importErr, "emitted again by the next run")...)
	}
	if err != nil {
		out = append(out, Decision{Decision: DecisionError, Channels: []string{},
			Reason: "correlate: " + err.Error() + "; settled again on the next run"})
	}
	return out
}

// importAll puts the results' findings into the sink, in one call.
func (p *Pipeline) importAll(ctx context.Context, results []correlate.Result) error {
	if p.opt.Sink == nil || len(results) == 0 {
		return nil
	}
	docs := make([][]byte, len(results))
	for i, r := range results {
		docs[i] = r.Finding
	}
	return p.opt.Sink.Put(ctx, docs)
}

// correlated is the decision on one correlated finding, which importErr
// says whether the sink took (with the others imported alongside it), and
// the alerts on it. One not imported is rolled back, to be emitted again
// (when says when).
func (p *Pipeline) correlated(ctx context.Context, r correlate.Result, importErr error, when string) []Decision {
	cf, err := asff.DecodeFinding(r.Finding)
	if err != nil {
		return []Decision{{Rule: r.Rule, Decision: DecisionError, Resource: r.Resource, Channels: []string{},
			Reason: "correlated finding does not decode: " + err.Error()}}
	}
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
		d.Reason = "import correlated finding: " + importErr.Error() + "; " + when
		return []Decision{d}
	}
	return append([]Decision{d}, p.alert(ctx, cf)...)
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
