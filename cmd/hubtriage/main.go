// Command hubtriage filters, de-duplicates, notifies and correlates AWS
// Security Hub findings. The command only parses flags and signals; all
// work happens in the library packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes.
const (
	exitOK      = 0
	exitPartial = 1 // some input or a channel failed
	exitUsage   = 2 // bad flags or config
	exitLocked  = 3 // the state file is held by another process; nothing was processed
)

func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// signalContext is cancelled by the first SIGINT or SIGTERM, with an
// interrupted cause naming it; a second signal kills the process as usual.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok {
			signal.Stop(sigs)
			cancel(interrupted{s.(syscall.Signal)})
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// interrupted is the cause of a context cancelled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// exitCode is the shell's convention for a process ended by the signal:
// 130 for SIGINT, 143 for SIGTERM.
func (i interrupted) exitCode() int { return 128 + int(i.sig) }

// interruptCode is the exit code for a run ctx's signal stopped (0: none).
func interruptCode(ctx context.Context) int {
	var i interrupted
	if errors.As(context.Cause(ctx), &i) {
		return i.exitCode()
	}
	return 0
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "hubtriage:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "hubtriage:", err)
	return exitUsage // cobra's own errors are flag/usage errors
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "hubtriage",
		Short:         "Filter, de-duplicate, notify and correlate AWS Security Hub findings",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addLogFlags(root)
	root.AddCommand(newReplay(), newImport(), newCheckConfig(), newGenerate(), newCatcher(), newRules(), newEventBridgePattern(), newReconcile(), newServe())
	return root
}
