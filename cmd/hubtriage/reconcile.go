package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"hubtriage/app"
	"hubtriage/reconcile"
)

type reconcileOptions struct {
	config string
	state  string
	now    string
	dryRun bool

	notifyResolved bool
}

func newReconcile() *cobra.Command {
	var o reconcileOptions
	cmd := &cobra.Command{
		Use:   "reconcile --config FILE [--state PATH] [--now RFC3339] [--dry-run]",
		Short: "Forget alerted findings that Security Hub no longer holds active",
		Long: `Looks every alerted finding up in Security Hub (the config's securityhub
section; 20 ids per GetFindings request, at most 3 requests a second) and
resolves the state of those that are archived, resolved, suppressed, passed or
gone, so that their return is alerted as a recurrence. Prints one JSON line per
resolved finding on stdout and a summary on stderr.

Exit status: 0 all checked, 1 some findings could not be checked (they are kept
for the next run), 2 usage or config error, 3 the state file is locked by
another process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd, cmd.ErrOrStderr(), "text")
			if err != nil {
				return err
			}
			return runReconcile(cmd.Context(), o, log, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "config file (required)")
	f.StringVar(&o.state, "state", "", "embedded store file (overrides state.path)")
	f.StringVar(&o.now, "now", "", "clock for this run (ResolvedAt), RFC3339 (default: the real time)")
	f.BoolVar(&o.dryRun, "dry-run", false, "report what would be resolved, change nothing")
	f.BoolVar(&o.notifyResolved, "notify-resolved", false, "send a \"resolved\" message through the rule's channel")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func runReconcile(ctx context.Context, o reconcileOptions, log *slog.Logger, stdout, stderr io.Writer) error {
	clock, err := parseNow(o.now)
	if err != nil {
		return usageErr(err)
	}
	cfg, err := loadConfig(o.config, o.state)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, app.Options{StatePath: o.state, Now: clock, Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	client, err := app.SecurityHubClient(ctx, cfg)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	r, err := reconcile.New(reconcile.Options{
		Store: a.Store, Finder: client, Now: clock, DryRun: o.dryRun, Channels: a.Channels, NotifyResolved: o.notifyResolved,
		Logger: log,
	})
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	return reportReconcile(ctx, r, stdout, stderr, o.dryRun)
}

// reportReconcile runs the pass, printing resolutions and the summary.
func reportReconcile(ctx context.Context, r *reconcile.Reconciler, stdout, stderr io.Writer, dryRun bool) error {
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	sum, err := r.Run(ctx, func(res reconcile.Resolution) error { return enc.Encode(res) })
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	mode := ""
	if dryRun {
		mode = " (dry run: nothing resolved)"
	}
	fmt.Fprintf(stderr, "hubtriage: reconcile summary%s: %s\n", mode, sum)
	switch {
	case err != nil:
		return &exitError{code: exitPartial, err: err}
	case sum.Failed():
		return &exitError{code: exitPartial, err: fmt.Errorf("%d findings could not be checked; they are kept for the next run", sum.Errors)}
	}
	return nil
}
