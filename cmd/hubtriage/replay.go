package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"hubtriage/app"
	"hubtriage/asff"
	"hubtriage/config"
	"hubtriage/output"
	"hubtriage/pipeline"
)

type replayOptions struct {
	config  string
	state   string
	now     string
	dryRun  bool
	workers int
	corrOut string
	output  string
}

func newReplay() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --config FILE [--state PATH] [--now RFC3339] [--dry-run] [--output table|json] INPUT...",
		Short: "Run the pipeline over findings in files, folders or stdin (-)",
		Long: `Reads Security Hub findings (EventBridge events, GetFindings responses, arrays,
single findings, or newline-delimited streams of these) from every INPUT and
prints one decision per finding and rule on stdout: a table on a terminal,
JSON lines when piped (--output chooses). On a terminal, stderr shows progress
(findings/s, and percent and time left for files); then a summary.

Exit status: 0 all went through, 1 some input or channel failed (or a
notification is pending in another worker), 2 usage or config error, 3 the
state file is locked by another process, 130/143 interrupted by SIGINT/SIGTERM
(what was read is finished and reported, the rest not read).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(cmd, cmd.ErrOrStderr(), "text")
			if err != nil {
				return err
			}
			return replay(cmd.Context(), o, args, log, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "config file (required)")
	f.StringVar(&o.state, "state", "", "embedded store file (overrides state.path; bolt only)")
	f.StringVar(&o.now, "now", "", "clock for this run, RFC3339 (default: the real time)")
	f.BoolVar(&o.dryRun, "dry-run", false, "decide from the stored state, but send and record nothing")
	f.IntVar(&o.workers, "workers", 0, "findings processed at once (overrides pipeline.workers)")
	f.StringVar(&o.corrOut, "correlations-out", "", "write correlated findings as ASFF NDJSON to this file instead of importing them into Security Hub")
	f.StringVar(&o.output, "output", "", "decisions as table or json (default: table on a terminal, json otherwise)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func replay(ctx context.Context, o replayOptions, inputs []string, log *slog.Logger, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(inputs) == 0 {
		return usageErr(errors.New("replay needs at least one INPUT: a file, a folder, or - for stdin"))
	}
	clock, err := parseNow(o.now)
	if err != nil {
		return usageErr(err)
	}
	format := outputFormat(o.output, stdout)
	prog := newProgress(stderr, inputs)
	if prog != nil && isTerminal(stdout) {
		stdout = prog.Above(stdout) // rows scroll above the bar
	}
	out, err := output.New(stdout, format)
	if err != nil {
		return usageErr(err)
	}
	cfg, err := loadConfig(o.config, o.state)
	if err != nil {
		return err
	}
	tuneGC()
	log.Debug("replay starting", "config", o.config, "rules", len(cfg.Rules), "channels", len(cfg.Channels),
		"inputs", len(inputs), "dry_run", o.dryRun)
	opts := app.Options{StatePath: o.state, Now: clock, DryRun: o.dryRun, Workers: o.workers, Logger: log}
	if prog != nil {
		opts.Progress = prog.Findings
	}
	if o.corrOut != "" {
		f, err := os.Create(o.corrOut)
		if err != nil {
			return usageErr(fmt.Errorf("--correlations-out: %w", err))
		}
		defer f.Close()
		opts.CorrelationsOut = f
	}
	return runReplay(ctx, cfg, opts, app.FileSourceProgress(inputs, stdin, prog.onRead()), out, prog, stderr)
}

// runReplay runs the pipeline, writing decisions to out, and reports.
func runReplay(ctx context.Context, cfg *config.Config, opts app.Options, src pipeline.Source, out output.Writer,
	prog *progress, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer a.Close()
	var count output.Counter
	sum, err := a.Pipeline.Run(ctx, src, func(d pipeline.Decision) error {
		count.Add(d)
		if d.Decision == pipeline.DecisionError {
			fmt.Fprintf(stderr, "hubtriage: error: %s\n", output.Clean(d.Reason))
		}
		return out.Write(d)
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	prog.finish(sum)
	fmt.Fprintln(stderr, "hubtriage:", output.Summary(sum, count, opts.DryRun))
	return replayExit(ctx, sum, err)
}

// replayExit is replay's exit status: 130/143 when a signal stopped it
// (the summary says how far it got), 1 when a run error, error decision or
// pending notification needs another look, else 0.
func replayExit(ctx context.Context, sum pipeline.Summary, err error) error {
	switch {
	case sum.Interrupted && interruptCode(ctx) != 0:
		return &exitError{code: interruptCode(ctx), err: errors.Join(context.Cause(ctx), err)}
	case err != nil:
		return &exitError{code: exitPartial, err: err}
	case sum.Errors > 0:
		return &exitError{code: exitPartial, err: fmt.Errorf("%d errors (see the error decisions above)", sum.Errors)}
	case sum.Pending > 0:
		return &exitError{code: exitPartial, err: fmt.Errorf("%d notifications pending in another worker (see the pending decisions above); rerun to see their outcome", sum.Pending)}
	}
	return nil
}

// outputFormat is the --output choice, or table when stdout is a terminal
// and json otherwise.
func outputFormat(flag string, stdout io.Writer) string {
	switch {
	case flag != "":
		return flag
	case isTerminal(stdout):
		return output.FormatTable
	}
	return output.FormatJSON
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress is replay's progress display; nil (all methods no-ops) when
// stderr is not a terminal.
type progress struct{ *output.Progress }

// newProgress shows progress on stderr when it is a terminal: percent and
// time left when every input is a file (their total size is known).
func newProgress(stderr io.Writer, args []string) *progress {
	if !isTerminal(stderr) {
		return nil
	}
	return &progress{output.NewProgress(stderr, inputBytes(args))}
}

// inputBytes is the total size of the input files, or -1 when stdin is
// one of the inputs (or they cannot be listed: the run reports that).
func inputBytes(args []string) int64 {
	var total int64
	for _, in := range asff.Files(args) {
		st, err := os.Stat(in.Path)
		if in.Path == "" || in.Err != nil || err != nil {
			return -1
		}
		total += st.Size()
	}
	return total
}

func (p *progress) onRead() func(int) {
	if p == nil {
		return nil
	}
	return p.Read
}

func (p *progress) finish(s pipeline.Summary) {
	if p != nil {
		p.Finish(s)
	}
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
