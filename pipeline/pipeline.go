// Package pipeline is hubtriage's processing chain: findings in, decisions
// out, through the list of stages in stages.go (decode, match, resolve,
// dedup, deliver, record, correlate). replay, the daemon and the Lambda
// handler all drive this one pipeline; a dry run is the same pipeline
// over a scratch store layer and a sender that sends nothing (DryRun).
package pipeline

import (
	"errors"
	"log/slog"
	"time"

	"hubtriage/asff"
	"hubtriage/filter"
	"hubtriage/notify"
	"hubtriage/ocsffilter"
	"hubtriage/store"
)

// never is the window used for rules without renotify_after.
const never = time.Duration(1<<63 - 1)

// Rule is a compiled alert rule.
type Rule struct {
	Name   string
	Filter *filter.Filters
	// OCSFFilter, when set, must match too: it reads OCSF findings' own
	// fields and matches no ASFF finding (see package ocsffilter).
	OCSFFilter *ocsffilter.Filter
	// RenotifyAfter is the reminder window; zero never reminds.
	RenotifyAfter time.Duration
	// Channels receive the rule's notifications; with none, decisions are
	// still made and recorded.
	Channels []notify.Channel
}

func (r Rule) window() time.Duration {
	if r.RenotifyAfter <= 0 {
		return never
	}
	return r.RenotifyAfter
}

// Observer is told about every decision and delivery; the daemon feeds
// metrics from it. Implementations must be safe for concurrent use.
type Observer interface {
	Decided(d Decision)
	Delivered(channel string, took time.Duration, err error)
}

// Options configures a Pipeline.
type Options struct {
	Rules []Rule
	Store store.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Lease bounds a claim neither confirmed nor released (default 5 minutes).
	Lease time.Duration
	// Workers is how many findings are processed at once (default 16).
	Workers  int
	Logger   *slog.Logger
	Observer Observer
	// Progress, when set, is called about once a second on long inputs.
	Progress func(Summary)
	// Correlator, when set, correlates findings after the alert rules;
	// Sink, when set, receives the correlated findings (else they are
	// alerted on without being imported anywhere).
	Correlator Correlator
	Sink       Sink
}

// Pipeline processes findings. It is safe to Run one Pipeline repeatedly,
// and several Pipelines (goroutines or processes) on one store.
type Pipeline struct {
	opt Options
	log *slog.Logger
}

// ErrNoRules is returned by New when no rule is configured.
var ErrNoRules = errors.New("pipeline needs at least one rule")

// New checks opt and returns a Pipeline.
func New(opt Options) (*Pipeline, error) {
	if len(opt.Rules) == 0 {
		return nil, ErrNoRules
	}
	if opt.Store == nil {
		return nil, errors.New("pipeline needs a store")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Lease <= 0 {
		opt.Lease = 5 * time.Minute
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{opt: opt, log: log}, nil
}

func (p *Pipeline) now() time.Time { return p.opt.Now() }

func newDecision(f *asff.Finding, rule, decision, reason string) Decision {
	d := Decision{FindingID: f.ID, ProductArn: f.ProductArn, Rule: rule, Decision: decision, Reason: reason, Channels: []string{},
		Severity: f.Severity.Label, Product: f.ProductName, Title: f.Title}
	if len(f.Resources) > 0 {
		d.Resource = f.Resources[0].ID
	}
	return d
}
