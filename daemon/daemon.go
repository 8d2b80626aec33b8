// Package daemon is `hubtriage serve`: a long-running poller that reads
// Security Hub with GetFindings (the rules' filters pushed down, from an
// UpdatedAt checkpoint kept in the store), feeds what it reads through the
// same pipeline as replay and the Lambda, reconciles on a schedule, and
// serves /metrics and /healthz.
//
// Guarantees: an alert is neither lost nor doubled across restarts, crashes
// and SIGTERM (the checkpoint moves only past findings the pipeline
// finished, and the store's claims de-duplicate what is read twice); several
// replicas on one store behave as one (claims are exclusive, the checkpoint
// only moves forward through conditional writes, and a lease lets one
// replica reconcile per interval).
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/filter"
	"hubtriage/ocsffilter"
	"hubtriage/pipeline"
	"hubtriage/reconcile"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// Getter reads findings; *securityhub.Client satisfies it. Contract: fn gets
// every page of the findings matching filters, in order; an error from fn
// stops paging and is returned.
type Getter interface {
	GetFindings(ctx context.Context, filters *types.AwsSecurityFindingFilters, fn func(page [][]byte) error) error
}

var _ Getter = (*securityhub.Client)(nil)

// GetterV2 reads the new Security Hub's OCSF findings with GetFindingsV2;
// *securityhub.Client satisfies it. Same contract as Getter.
type GetterV2 interface {
	GetFindingsV2(ctx context.Context, filters *types.OcsfFindingFilters, fn func(page [][]byte) error) error
}

var _ GetterV2 = (*securityhub.Client)(nil)

// Reconciler runs one reconcile pass; *reconcile.Reconciler satisfies it.
type Reconciler interface {
	Run(ctx context.Context, emit func(reconcile.Resolution) error) (reconcile.Summary, error)
}

var _ Reconciler = (*reconcile.Reconciler)(nil)

// Recorder is told what the daemon itself does; *metrics.Metrics satisfies
// it. Implementations must be safe for concurrent use.
type Recorder interface {
	Received(n int)
	Polled(now time.Time, err error)
	Checkpointed(at time.Time, err error)
	Reconciled(s reconcile.Summary, err error)
}

// Options configures a Daemon. Pipeline, Index and Getter are required.
type Options struct {
	Pipeline *pipeline.Pipeline
	// Filters are the rules' filters, pushed down to GetFindings.
	Filters []*filter.Filters
	// Index keeps the checkpoint and the reconcile lease (the app's store).
	Index  store.Index
	Getter Getter
	// GetterV2, when set, makes polls read the new Security Hub with
	// GetFindingsV2 (OCSF findings) instead of GetFindings; Getter is then
	// not needed. OCSFFilters are the rules' ocsf_filter (nil for a rule
	// without one), pushed down to GetFindingsV2.
	GetterV2    GetterV2
	OCSFFilters []*ocsffilter.Filter
	// Reconciler runs every ReconcileInterval; nil never reconciles.
	Reconciler Reconciler

	// Name keys the checkpoint and the lease, so that pollers with different
	// rules may share a store (default "securityhub").
	Name string
	// PollInterval is the pause between polls (default 1m).
	PollInterval time.Duration
	// ReconcileInterval is the pause between reconcile passes (default 24h).
	ReconcileInterval time.Duration
	// Overlap is how far before the checkpoint each poll starts reading,
	// covering findings that reach Security Hub after their UpdatedAt
	// (default 15m).
	Overlap time.Duration
	// InitialLookback is how far back the first poll of an empty store
	// reads (default 24h).
	InitialLookback time.Duration

	// Listen is the address of the /metrics and /healthz server (default
	// ":9108"); Listener, when set, is used instead.
	Listen   string
	Listener net.Listener
	// Metrics serves /metrics (promhttp.HandlerFor the app's registry);
	// nil answers 404.
	Metrics http.Handler
	// Recorder receives the daemon's own events; nil discards them.
	Recorder Recorder
	// Decisions, when set, receives every decision of every poll, in order;
	// an error ends the poll without moving the checkpoint.
	Decisions func(pipeline.Decision) error
	// AfterPoll and AfterReconcile, when set, are called after each poll
	// and pass (for logging and tests); they must not block for long.
	AfterPoll      func(PollResult, error)
	AfterReconcile func(reconcile.Summary, error)
	// Now is the clock of poll windows; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults of zero Options fields.
const (
	DefaultName              = "securityhub"
	DefaultPollInterval      = time.Minute
	DefaultReconcileInterval = 24 * time.Hour
	DefaultOverlap           = 15 * time.Minute
	DefaultInitialLookback   = 24 * time.Hour
	DefaultListen            = ":9108"
)

// Daemon polls, reconciles and serves. Create it with New.
type Daemon struct {
	opt    Options
	log    *slog.Logger
	owner  string // identifies this replica in the lease
	health health
}

// Errors of New.
var (
	ErrNoPipeline = errors.New("daemon needs a pipeline")
	ErrNoIndex    = errors.New("daemon needs a store for its checkpoint")
	ErrNoGetter   = errors.New("daemon needs a Security Hub client")
)

// New checks opt, fills defaults and returns a Daemon.
func New(opt Options) (*Daemon, error) {
	switch {
	case opt.Pipeline == nil:
		return nil, ErrNoPipeline
	case opt.Index == nil:
		return nil, ErrNoIndex
	case opt.Getter == nil && opt.GetterV2 == nil:
		return nil, ErrNoGetter
	}
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Daemon{opt: opt, log: log, owner: owner()}, nil
}

func (o *Options) defaults() error {
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"PollInterval", &o.PollInterval, DefaultPollInterval},
		{"ReconcileInterval", &o.ReconcileInterval, DefaultReconcileInterval},
		{"Overlap", &o.Overlap, DefaultOverlap},
		{"InitialLookback", &o.InitialLookback, DefaultInitialLookback},
	} {
		if *d.v < 0 {
			return fmt.Errorf("%s: must not be negative (got %s)", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.Recorder == nil {
		o.Recorder = nopRecorder{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// owner names this process for the lease: host, pid and a random suffix.
func owner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

type nopRecorder struct{}

func (nopRecorder) Received(int)                        {}
func (nopRecorder) Polled(time.Time, error)             {}
func (nopRecorder) Checkpointed(time.Time, error)       {}
func (nopRecorder) Reconciled(reconcile.Summary, error) {}
