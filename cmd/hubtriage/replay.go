package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"hubtriage/app"
	"hubtriage/config"
	"hubtriage/pipeline"
)

type replayOptions struct {
	config  string
	state   string
	now     string
	dryRun  bool
	workers int
	corrOut string
}

func newReplay() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --config FILE [--state PATH] [--now RFC3339] [--dry-run] INPUT...",
		Short: "Run the pipeline over findings in files, folders or stdin (-)",
		Long: `Reads Security Hub findings (EventBridge events, GetFindings responses, arrays,
single findings, or newline-delimited streams of these) from every INPUT and
prints one JSON decision per line on stdout; progress and a summary go to stderr.

Exit status: 0 all went through, 1 some input or channel failed, 2 usage or config error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return replay(cmd.Context(), o, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "config file (required)")
	f.StringVar(&o.state, "state", "", "embedded store file (overrides state.path)")
	f.StringVar(&o.now, "now", "", "clock for this run, RFC3339 (default: the real time)")
	f.BoolVar(&o.dryRun, "dry-run", false, "decide from the stored state, but send and record nothing")
	f.IntVar(&o.workers, "workers", 0, "findings processed at once (overrides pipeline.workers)")
	f.StringVar(&o.corrOut, "correlations-out", "", "write correlated findings as ASFF NDJSON to this file instead of importing them into Security Hub")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func replay(ctx context.Context, o replayOptions, inputs []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(inputs) == 0 {
		return usageErr(errors.New("replay needs at least one INPUT: a file, a folder, or - for stdin"))
	}
	clock, err := parseNow(o.now)
	if err != nil {
		return usageErr(err)
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return usageErr(err)
	}
	tuneGC()
	opts := app.Options{
		StatePath: o.state, Now: clock, DryRun: o.dryRun, Workers: o.workers,
		Progress: func(s pipeline.Summary) { fmt.Fprintf(stderr, "hubtriage: %d findings read...\n", s.Read) },
	}
	if o.corrOut != "" {
		f, err := os.Create(o.corrOut)
		if err != nil {
			return usageErr(fmt.Errorf("--correlations-out: %w", err))
		}
		defer f.Close()
		opts.CorrelationsOut = f
	}
	a, err := app.Open(ctx, cfg, opts)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	defer a.Close()
	out := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(out)
	sum, err := a.Pipeline.Run(ctx, app.FileSource(inputs, stdin), func(d pipeline.Decision) error {
		if d.Decision == pipeline.DecisionError {
			fmt.Fprintf(stderr, "hubtriage: error: %s\n", d.Reason)
		}
		return enc.Encode(d)
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	printSummary(stderr, sum, o.dryRun)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	if sum.Errors > 0 {
		return &exitError{code: exitPartial, err: fmt.Errorf("%d errors (see the error decisions above)", sum.Errors)}
	}
	return nil
}

func parseNow(s string) (func() time.Time, error) {
	if s == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--now: must be an RFC3339 time like 2026-01-02T15:04:05Z (got %q)", s)
	}
	return func() time.Time { return t }, nil
}

func printSummary(w io.Writer, s pipeline.Summary, dryRun bool) {
	mode := ""
	if dryRun {
		mode = " (dry run: nothing sent or recorded)"
	}
	fmt.Fprintf(w, "hubtriage: summary%s: read %d, matched %d, notified %d, duplicates %d, resolved %d, filtered %d, correlated %d, skipped %d, errors %d\n",
		mode, s.Read, s.Matched, s.Notified, s.Duplicates, s.Resolved, s.Filtered, s.Correlated, s.Skipped, s.Errors)
}
