package main

import (
	"bufio"
	"errors"

	"github.com/spf13/cobra"

	"hubtriage/asff/asffgen"
)

// errTerminal refuses to write the default 100,000 events (about 190 MB)
// onto a terminal.
var errTerminal = errors.New("generate writes 100000 events (about 190 MB) by default: redirect stdout to a file " +
	"(hubtriage generate > events.ndjson), or give --count N to print N events here")

func newGenerate() *cobra.Command {
	var count int
	var seed int64
	cmd := &cobra.Command{
		Use:   "generate [--count N] [--seed S]",
		Short: "Write N realistic, seeded EventBridge finding events as NDJSON (for benchmarks)",
		Long: `Writes --count realistic, seeded EventBridge finding events as NDJSON on stdout.
Without --count it writes 100000 (about 190 MB), so it refuses a terminal:
redirect stdout to a file, or give --count.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 0 {
				return usageErr(errors.New("--count must not be negative"))
			}
			if !cmd.Flags().Changed("count") && isTerminal(cmd.OutOrStdout()) {
				return usageErr(errTerminal)
			}
			w := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<20)
			if err := asffgen.New(seed, asffgen.Options{}).WriteNDJSON(w, count); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&count, "count", 100000, "number of events")
	cmd.Flags().Int64Var(&seed, "seed", 1, "generator seed (same seed, same output)")
	return cmd
}
