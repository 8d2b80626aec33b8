// Package metrics is hubtriage's Prometheus instrumentation: a
// pipeline.Observer that counts decisions and times deliveries, plus the
// poller's and reconcile's own counters. Every metric is registered on the
// registry given to New; the package keeps no globals, so tests and several
// daemons in one process each have their own.
package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hubtriage/pipeline"
	"hubtriage/reconcile"
)

// Metrics holds the collectors. All methods are safe for concurrent use and
// do nothing on a nil *Metrics, so instrumentation is optional everywhere.
type Metrics struct {
	received   prometheus.Counter
	matched    *prometheus.CounterVec
	notified   *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	resolved   *prometheus.CounterVec
	filtered   prometheus.Counter
	correlated *prometheus.CounterVec
	errors     *prometheus.CounterVec
	delivery   *prometheus.HistogramVec
	polls      *prometheus.CounterVec
	checkpoint prometheus.Gauge
	lastPoll   prometheus.Gauge
	reconciled *prometheus.CounterVec
	buildInfo  prometheus.Gauge
}

var _ pipeline.Observer = (*Metrics)(nil)

// Options name the label values to create at zero, so that rate() and
// absence alerts work before the first event.
type Options struct {
	Rules    []string
	Channels []string
}

// Error stages, the "stage" label of hubtriage_errors_total.
const (
	StageDecode     = "decode"     // a finding that could not be decoded
	StageProcess    = "process"    // a claim, delivery or state update failed
	StagePoll       = "poll"       // a poll of Security Hub failed
	StageCheckpoint = "checkpoint" // the poll checkpoint could not be saved
	StageReconcile  = "reconcile"  // a reconcile pass or batch failed
)

// New registers hubtriage's metrics on reg and returns them. It fails when
// reg already holds metrics of the same names.
func New(reg prometheus.Registerer, opt Options) (*Metrics, error) {
	m := build()
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.initLabels(opt)
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.received, m.matched, m.notified, m.duplicates, m.resolved, m.filtered,
		m.correlated, m.errors, m.delivery, m.polls, m.checkpoint, m.lastPoll, m.reconciled, m.buildInfo}
}

func (m *Metrics) initLabels(opt Options) {
	for _, r := range opt.Rules {
		m.matched.WithLabelValues(r)
		m.duplicates.WithLabelValues(r)
		m.resolved.WithLabelValues(r)
		for _, kind := range []string{pipeline.DecisionNotify, pipeline.DecisionRenotify, pipeline.DecisionRecurrence} {
			m.notified.WithLabelValues(r, kind)
		}
	}
	for _, ch := range opt.Channels {
		m.delivery.WithLabelValues(ch, resultOK)
		m.delivery.WithLabelValues(ch, resultError)
	}
	for _, s := range []string{StageDecode, StageProcess, StagePoll, StageCheckpoint, StageReconcile} {
		m.errors.WithLabelValues(s)
	}
	for _, r := range []string{resultOK, resultError} {
		m.polls.WithLabelValues(r)
	}
}

// Result label values.
const (
	resultOK    = "ok"
	resultError = "error"
)

func result(err error) string {
	if err != nil {
		return resultError
	}
	return resultOK
}

// Decided counts one pipeline decision.
func (m *Metrics) Decided(d pipeline.Decision) {
	if m == nil {
		return
	}
	switch d.Decision {
	case pipeline.DecisionNotify, pipeline.DecisionRenotify, pipeline.DecisionRecurrence:
		m.matched.WithLabelValues(d.Rule).Inc()
		m.notified.WithLabelValues(d.Rule, d.Decision).Inc()
	case pipeline.DecisionDuplicate:
		m.matched.WithLabelValues(d.Rule).Inc()
		m.duplicates.WithLabelValues(d.Rule).Inc()
	case pipeline.DecisionResolved:
		m.resolved.WithLabelValues(d.Rule).Inc()
	case pipeline.DecisionFiltered:
		m.filtered.Inc()
	case pipeline.DecisionCorrelate:
		m.correlated.WithLabelValues(d.Rule).Inc()
	case pipeline.DecisionError:
		m.countError(d)
	}
}

// countError sorts an error decision: no finding means it did not decode; a
// rule means the finding matched it and its delivery failed.
func (m *Metrics) countError(d pipeline.Decision) {
	switch {
	case d.FindingID == "":
		m.errors.WithLabelValues(StageDecode).Inc()
	case d.Rule != "":
		m.matched.WithLabelValues(d.Rule).Inc()
		fallthrough
	default:
		m.errors.WithLabelValues(StageProcess).Inc()
	}
}

// Delivered times one channel send.
func (m *Metrics) Delivered(channel string, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.delivery.WithLabelValues(channel, result(err)).Observe(took.Seconds())
}

// Received counts n findings read from a source (a Security Hub poll).
func (m *Metrics) Received(n int) {
	if m == nil {
		return
	}
	m.received.Add(float64(n))
}

// Polled counts one poll of Security Hub, ended at now.
func (m *Metrics) Polled(now time.Time, err error) {
	if m == nil {
		return
	}
	m.polls.WithLabelValues(result(err)).Inc()
	if err != nil {
		m.errors.WithLabelValues(StagePoll).Inc()
		return
	}
	m.lastPoll.Set(float64(now.UnixNano()) / 1e9)
}

// Checkpointed records the poll checkpoint as saved, or a failure to save it.
func (m *Metrics) Checkpointed(at time.Time, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.errors.WithLabelValues(StageCheckpoint).Inc()
		return
	}
	m.checkpoint.Set(float64(at.UnixNano()) / 1e9)
}

// Reconciled counts one reconcile pass.
func (m *Metrics) Reconciled(s reconcile.Summary, err error) {
	if m == nil {
		return
	}
	m.reconciled.WithLabelValues("active").Add(float64(s.Active))
	m.reconciled.WithLabelValues("resolved").Add(float64(s.Resolved))
	m.reconciled.WithLabelValues("not_found").Add(float64(s.NotFound))
	m.reconciled.WithLabelValues("error").Add(float64(s.Errors))
	if err != nil || s.Failed() {
		m.errors.WithLabelValues(StageReconcile).Inc()
	}
}
