package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hubtriage/app"
	"hubtriage/config"
	"hubtriage/logging"
	"hubtriage/store/bolt"
	"hubtriage/strictyaml"
)

// Names of the logging flags every command inherits from the root.
const (
	flagLogFormat = "log-format"
	flagLogLevel  = "log-level"
)

// addLogFlags declares --log-format and --log-level for every command. An
// empty value means the command's own default (json for serve, text for
// the others; info).
func addLogFlags(root *cobra.Command) {
	root.PersistentFlags().String(flagLogFormat, "", "log format: text or json (default: json for serve, text otherwise)")
	root.PersistentFlags().String(flagLogLevel, "info", "lowest log level written: debug, info, warn or error")
}

// newLogger builds the command's logger on w from the logging flags, with
// format as the default format; a bad choice is a usage error.
func newLogger(cmd *cobra.Command, w io.Writer, format string) (*slog.Logger, error) {
	level := "info"
	if f := cmd.Flags().Lookup(flagLogFormat); f != nil && f.Value.String() != "" {
		format = f.Value.String()
	}
	if f := cmd.Flags().Lookup(flagLogLevel); f != nil {
		level = f.Value.String()
	}
	log, err := logging.New(w, format, level)
	if err != nil {
		return nil, usageErr(err)
	}
	return log, nil
}

// durationVar declares a duration flag written the way the config writes
// durations (2w, 1d12h, 90m, 10y), with value def.
func durationVar(f *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	f.Var(durationValue{p}, name, usage)
}

// durationValue is a pflag.Value parsed by strictyaml.ParseDuration.
type durationValue struct{ d *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := strictyaml.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = time.Duration(d)
	return nil
}

func (v durationValue) String() string { return strictyaml.Duration(*v.d).String() }
func (v durationValue) Type() string   { return "duration" }

// loadConfig is how every command reads its config: config.Load (the one
// validation path, shared with the Lambda), then the flags that depend on
// it. Every problem is a usage error (exit 2) and nothing has started.
func loadConfig(path, statePath string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageErr(err)
	}
	if statePath != "" && cfg.State.Backend != "bolt" {
		return nil, usageErr(fmt.Errorf("--state names an embedded store file, but %s has state.backend: %s", path, cfg.State.Backend))
	}
	return cfg, nil
}

// openApp builds the app, telling a state file locked by another process
// (exit 3: nothing was processed) from other failures (exit 1).
func openApp(ctx context.Context, cfg *config.Config, opt app.Options) (*app.App, error) {
	a, err := app.Open(ctx, cfg, opt)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		return nil, &exitError{code: exitLocked, err: fmt.Errorf("%w; nothing was processed: stop the other hubtriage using it, or give this run its own --state", err)}
	case err != nil:
		return nil, &exitError{code: exitPartial, err: err}
	}
	return a, nil
}
