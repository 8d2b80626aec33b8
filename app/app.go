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

// App is everything one run needs.
type App struct {
	Config   *config.Config
	Store    store.Store
	Channels map[string]notify.Channel
	Pipeline *pipeline.Pipeline

	cleanup func()
}

// Open builds the store, the channels and the pipeline from cfg. Nothing is
// read or sent yet; a problem here is reported before any work starts.
func Open(ctx context.Context, cfg *config.Config, opt Options) (*App, error) {
	channels, err := BuildChannels(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, cfg, opt.StatePath, opt.Now)
	if err != nil {
		return nil, err
	}
	popt := pipelineOptions(cfg, st, channels, opt)
	corr, err := buildCorrelation(ctx, cfg, st, opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	popt.Correlator, popt.Sink = corr.engine, corr.sink
	p, err := pipeline.New(popt)
	if err != nil {
		corr.cleanup()
		st.Close()
		return nil, err
	}
	return &App{Config: cfg, Store: st, Channels: channels, Pipeline: p, cleanup: corr.cleanup}, nil
}

// Close releases the store (and a dry run's scratch files).
func (a *App) Close() error {
	if a.cleanup != nil {
		a.cleanup()
	}
	return a.Store.Close()
}

func pipelineOptions(cfg *config.Config, st store.Store, channels map[string]notify.Channel, opt Options) pipeline.Options {
	workers := cfg.Pipeline.Workers
	if opt.Workers > 0 {
		workers = opt.Workers
	}
	return pipeline.Options{
		Rules:    Rules(cfg, channels),
		Store:    st,
		Now:      opt.Now,
		DryRun:   opt.DryRun,
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
