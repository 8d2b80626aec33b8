package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"hubtriage/app"
	"hubtriage/config"
	"hubtriage/daemon"
	"hubtriage/filter"
	"hubtriage/metrics"
	"hubtriage/ocsffilter"
	"hubtriage/pipeline"
	"hubtriage/reconcile"
)

type serveOptions struct {
	config    string
	state     string
	listen    string
	poll      time.Duration
	reconcile time.Duration
	overlap   time.Duration
	lookback  time.Duration

	notifyResolved bool
	findingsV2     bool
}

func newServe() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve --config FILE [--listen ADDR] [--poll-interval D] [--reconcile-interval D]",
		Short: "Poll Security Hub and alert continuously; serve /metrics and /healthz",
		Long: `Polls Security Hub GetFindings (the config's securityhub section) with the
rules' filters pushed down, from an UpdatedAt checkpoint kept in the state
store, and runs what it reads through the same pipeline as replay. Reconciles
on a schedule. Serves Prometheus /metrics and /healthz on --listen.

With --findings-v2 it polls the new Security Hub's GetFindingsV2 instead (OCSF
findings, the rules' ocsf_filter pushed down, checkpoint on
finding_info.modified_time_dt; see docs/ocsf.md).

Decisions that notify, resolve or fail are printed as JSON lines on stdout
(duplicates and filtered findings only count in /metrics); logs go to stderr
as JSON (--log-format text for a terminal). SIGINT or SIGTERM stops polling, lets the findings already read
finish, and exits. Several replicas may share a DynamoDB state table.

Exit status: 0 stopped by a signal, 1 failed while running, 2 usage or config
error, 3 the state file is locked by another process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd, cmd.ErrOrStderr(), "json")
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), o, log, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "config file (required)")
	f.StringVar(&o.state, "state", "", "embedded store file (overrides state.path)")
	f.StringVar(&o.listen, "listen", daemon.DefaultListen, "address of /metrics and /healthz")
	durationVar(f, &o.poll, "poll-interval", daemon.DefaultPollInterval, "pause between polls")
	durationVar(f, &o.reconcile, "reconcile-interval", daemon.DefaultReconcileInterval, "pause between reconcile passes (0: never reconcile)")
	durationVar(f, &o.overlap, "overlap", daemon.DefaultOverlap, "how far before the checkpoint each poll starts reading")
	durationVar(f, &o.lookback, "initial-lookback", daemon.DefaultInitialLookback, "how far back the first poll of an empty store reads (e.g. 1w, 10y)")
	f.BoolVar(&o.notifyResolved, "notify-resolved", false, "reconcile sends a \"resolved\" message through the rule's channel")
	f.BoolVar(&o.findingsV2, "findings-v2", false, "poll the new Security Hub's GetFindingsV2 (OCSF findings; rules' ocsf_filter pushed down) instead of GetFindings")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runServe(ctx context.Context, o serveOptions, log *slog.Logger, stdout io.Writer) error {
	if o.poll <= 0 || o.reconcile < 0 || o.overlap < 0 || o.lookback <= 0 {
		return usageErr(errDurations)
	}
	cfg, err := loadConfig(o.config, o.state)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg, metrics.Options{Rules: ruleNames(cfg), Channels: channelNames(cfg)})
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	a, err := openApp(ctx, cfg, app.Options{StatePath: o.state, Logger: log, Observer: m})
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := buildDaemon(ctx, a, o, log, m, reg, stdout)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	if err := d.Serve(ctx); err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	return nil
}

// errDurations reports a bad interval flag.
var errDurations = errors.New("--poll-interval and --initial-lookback must be positive; --reconcile-interval and --overlap must not be negative")

// buildDaemon wires the app into a daemon: its Security Hub client, its
// reconciler (unless the interval is 0), metrics and decision output.
func buildDaemon(ctx context.Context, a *app.App, o serveOptions, log *slog.Logger, m *metrics.Metrics,
	reg *prometheus.Registry, stdout io.Writer) (*daemon.Daemon, error) {
	client, err := app.SecurityHubClient(ctx, a.Config)
	if err != nil {
		return nil, err
	}
	var rec daemon.Reconciler
	if o.reconcile > 0 {
		r, err := reconcile.New(reconcile.Options{Store: a.Store, Finder: client, Channels: a.Channels, NotifyResolved: o.notifyResolved, Logger: log})
		if err != nil {
			return nil, err
		}
		rec = r
	}
	opt := daemon.Options{
		Pipeline: a.Pipeline, Filters: ruleFilters(a.Config), Index: a.Store, Getter: client, Reconciler: rec,
		PollInterval: o.poll, ReconcileInterval: o.reconcile, Overlap: o.overlap, InitialLookback: o.lookback,
		Listen: o.listen, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), Recorder: m,
		Decisions: printNotable(stdout), Logger: log,
	}
	if o.findingsV2 {
		opt.GetterV2, opt.OCSFFilters, opt.Name = client, ocsfFilters(a.Config), "securityhub-v2"
	}
	return daemon.New(opt)
}

// printNotable writes every decision except duplicates and filtered
// findings as a JSON line; it is called from one goroutine at a time per
// poll, and polls do not overlap.
func printNotable(w io.Writer) func(pipeline.Decision) error {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(d pipeline.Decision) error {
		if d.Decision == pipeline.DecisionDuplicate || d.Decision == pipeline.DecisionFiltered {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(d)
	}
}

func ruleFilters(cfg *config.Config) []*filter.Filters {
	return perRule(cfg, func(r config.Rule) *filter.Filters { return r.Filter })
}

func ocsfFilters(cfg *config.Config) []*ocsffilter.Filter {
	return perRule(cfg, func(r config.Rule) *ocsffilter.Filter { return r.OCSFFilter })
}

// perRule returns get of each rule of cfg, in order.
func perRule[T any](cfg *config.Config, get func(config.Rule) T) []T {
	out := make([]T, len(cfg.Rules))
	for i, r := range cfg.Rules {
		out[i] = get(r)
	}
	return out
}

func ruleNames(cfg *config.Config) []string {
	return perRule(cfg, func(r config.Rule) string { return r.Name })
}

func channelNames(cfg *config.Config) []string {
	var out []string
	for name := range cfg.Channels {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
