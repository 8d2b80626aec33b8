package main

import (
	"bufio"
	"errors"

	"github.com/spf13/cobra"

	"hubtriage/asff/asffgen"
)

func newGenerate() *cobra.Command {
	var count int
	var seed int64
	cmd := &cobra.Command{
		Use:   "generate [--count N] [--seed S]",
		Short: "Write N realistic, seeded EventBridge finding events as NDJSON (for benchmarks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 0 {
				return usageErr(errors.New("--count must not be negative"))
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
