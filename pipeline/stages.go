package pipeline

import (
	"context"
	"slices"
	"time"

	"hubtriage/asff"
	"hubtriage/notify"
	"hubtriage/store"
)

// Stage is one step of the pipeline, modelled on Alertmanager's
// notify.Stage: it takes a batch and returns what passes on to the next
// stage. A stage stops an alert by giving it a decision (Batch.stop); the
// alerts it returns in Alerts go on.
//
// Contract: Exec is safe for concurrent use on different batches (workers
// run batches in parallel); it reports problems with single alerts as
// their error decisions, and returns an error only when the whole batch
// cannot go on.
type Stage interface {
	Exec(ctx context.Context, b Batch) (Batch, error)
}

// namedStage is a Stage with the name logs and tests know it by.
type namedStage struct {
	name string
	Stage
}

// stages is the pipeline, in order. Every finding goes through all of
// them; the correlated findings a run settles start at "match".
//
// To add a stage, put it in this list. Stages that hold back, merge or
// silence alerts (grouping, silences, inhibition) go where marked, between
// "resolve" and "dedup": there every alert of the batch has its finding
// and rule, and nothing is claimed or sent yet.
func (p *Pipeline) stages(r *runState) []namedStage {
	return []namedStage{
		{"decode", decodeStage{}},                             // input results -> findings, or decode errors
		{"match", matchStage{rules: p.opt.Rules, now: p.now}}, // active finding -> one alert per matching rule
		{"resolve", resolveStage{p: p}},                       // inactive finding -> its state cleared
		// Grouping, silences and inhibition go here.
		{"dedup", dedupStage{p: p}}, // claim each alert's channels, or stop it as a duplicate
		{"deliver", deliverStage{breakers: r.breakers, observer: p.opt.Observer}}, // send what was claimed
		{"record", recordStage{p: p}},                                         // confirm what was sent, park what may be retried
		{"correlate", correlateStage{corr: p.opt.Correlator, later: r.later}}, // index findings for correlation
	}
}

// Batch is what passes between stages: findings read and not decoded yet,
// the alerts still going, and the decisions made so far.
type Batch struct {
	// Input is what decode reads.
	Input []asff.Result
	// Findings are the batch's findings as a whole (alerts without a
	// rule), in input order (set by decode).
	Findings []*Alert
	// Alerts are the alerts still going on.
	Alerts []*Alert
	// decided are the decisions made, each at its place in the output.
	decided []placed
	// parked is set when record parked a finding of the batch.
	parked bool
	// spare and sparePtrs, when long enough, are the memory decode puts
	// the batch's findings in (one input: see Pipeline.one).
	spare     []Alert
	sparePtrs []*Alert
}

// Alert is one finding under one rule (Rule nil: the finding as a whole,
// before match or for a decision about it alone).
type Alert struct {
	Finding *asff.Finding
	Rule    *Rule
	// Sends are its deliveries, one per channel of the rule (set by dedup).
	Sends []Send
	// pos orders its decision among the batch's: finding, then rule.
	pos position
	// now is the clock when it was matched, the time of its decision.
	now time.Time
	// reason overrides the notification reason the claim's kind gives.
	reason notify.Reason
}

// Send is one rule's notification of one finding on one channel.
type Send struct {
	Channel notify.Channel // nil for a rule without channels
	Key     string         // its dedup key
	Claim   store.Claim    // held when Claimed
	Claimed bool
	// Dup says why the store refused the claim as a duplicate; Pending, that
	// another worker holds it.
	Dup, Pending string
	// Err is why the claim or the send failed; Retry, whether a later
	// attempt may succeed (the notify.Channel contract).
	Err   error
	Retry bool
	// Parked is set when the finding was parked for the next run.
	Parked bool
}

// position orders the decisions of a batch: by finding, then by the order
// the rules are configured in, then correlations.
type position struct{ finding, sub int }

type placed struct {
	pos position
	d   Decision
}

// Sub-positions of decisions that are not about one rule.
const (
	subFinding   = -1      // decode error, filtered
	subAfterRule = 1 << 20 // resolve error, correlation decisions
)

// stop records d as the decision on a, which goes no further.
func (b *Batch) stop(a *Alert, d Decision) {
	b.decided = append(b.decided, placed{pos: a.pos, d: d})
}

// decide records d at pos without an alert.
func (b *Batch) decide(pos position, d Decision) {
	b.decided = append(b.decided, placed{pos: pos, d: d})
}

// decisions are the batch's decisions in output order.
func (b *Batch) decisions() []Decision {
	if len(b.decided) == 0 {
		return nil
	}
	slices.SortStableFunc(b.decided, func(x, y placed) int {
		if x.pos.finding != y.pos.finding {
			return x.pos.finding - y.pos.finding
		}
		return x.pos.sub - y.pos.sub
	})
	out := make([]Decision, len(b.decided))
	for i, p := range b.decided {
		out[i] = p.d
	}
	return out
}

// exec runs b through stages.
func exec(ctx context.Context, stages []namedStage, b Batch) (Batch, error) {
	for _, s := range stages {
		var err error
		if b, err = s.Exec(ctx, b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// from is the stages from the one named name on.
func from(stages []namedStage, name string) []namedStage {
	for i, s := range stages {
		if s.name == name {
			return stages[i:]
		}
	}
	return nil
}
