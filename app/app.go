// Package app is hubtriage's composition root: it turns a validated config
// into a running pipeline (store, channels, rules). replay, the daemon and
// the Lambda handler all start here, so none of them builds anything twice.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"hubtriage/config"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/store"
)

// Options are the run-time choices that are not part of the config file.
type Options struct {
	StatePath string // overrides state.path
	Now       func() time.Time
	DryRun    bool
	Workers   int // overrides pipeline.workers
	Logger    *slog.Logger
	Observer  pipeline.Observer
	Progress  func(pipeline.Summary)
	// CorrelationsOut, when set, receives correlated findings as NDJSON
	// instead of Security Hub.
	CorrelationsOut io.Writer
}

// App is everything one run needs. In a dry run, Store is the scratch
// layer over the real store and Channels send nothing, so whatever runs on
// them (the pipeline, reconcile) writes and sends nothing.
type App struct {
	Config   *config.Config
	Store    store.Store
	Channels map[string]notify.Channel
	Pipeline *pipeline.Pipeline
}

// Open builds the store, the channels and the pipeline from cfg. Nothing is
// read or sent yet; a problem here is reported before any work starts.
func Open(ctx context.Context, cfg *config.Config, opt Options) (*App, error) {
	channels, err := BuildChannels(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, opt)
	if err != nil {
		return nil, err
	}
	popt := pipelineOptions(cfg, st, channels, opt)
	if opt.DryRun {
		popt = pipeline.DryRun(popt)
		st = popt.Store
		for name := range channels {
			channels[name] = pipeline.Discard(name)
		}
	}
	corr, err := buildCorrelation(ctx, cfg, popt.Store, opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	popt.Correlator, popt.Sink = corr.engine, corr.sink
	p, err := pipeline.New(popt)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &App{Config: cfg, Store: st, Channels: channels, Pipeline: p}, nil
}

// openStore opens the configured store; a dry run opens it read-only.
func openStore(ctx context.Context, cfg *config.Config, opt Options) (store.Store, error) {
	if opt.DryRun {
		return OpenStoreReadOnly(ctx, cfg, opt.StatePath, opt.Now)
	}
	return OpenStore(ctx, cfg, opt.StatePath, opt.Now)
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }

func pipelineOptions(cfg *config.Config, st store.Store, channels map[string]notify.Channel, opt Options) pipeline.Options {
	workers := cfg.Pipeline.Workers
	if opt.Workers > 0 {
		workers = opt.Workers
	}
	return pipeline.Options{
		Rules:    Rules(cfg, channels),
		Store:    st,
		Now:      opt.Now,
		Lease:    time.Duration(cfg.State.Lease),
		Workers:  workers,
		Logger:   opt.Logger,
		Observer: opt.Observer,
		Progress: opt.Progress,
	}
}

// Rules compiles the config's rules against the built channels.
func Rules(cfg *config.Config, channels map[string]notify.Channel) []pipeline.Rule {
	rules := make([]pipeline.Rule, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		pr := pipeline.Rule{Name: r.Name, Filter: r.Filter, OCSFFilter: r.OCSFFilter, RenotifyAfter: time.Duration(r.RenotifyAfter)}
		for _, name := range r.Channels {
			pr.Channels = append(pr.Channels, channels[name])
		}
		rules = append(rules, pr)
	}
	return rules
}

// ErrStoreBackend is returned for a state backend this build cannot open.
var ErrStoreBackend = errors.New("unsupported state backend")

func storeError(backend string, err error) error {
	return fmt.Errorf("open %s state store: %w", backend, err)
}
