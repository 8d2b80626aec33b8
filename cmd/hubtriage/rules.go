package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"hubtriage/correlate/rulecheck"
)

// newRules is `hubtriage rules`, the correlation rule tools.
func newRules() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with correlation rules",
	}
	cmd.AddCommand(newRulesTest())
	return cmd
}

// newRulesTest is `hubtriage rules test FILE...`: run correlation rule unit
// tests and exit 1 when any fails.
func newRulesTest() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run correlation rule unit tests (input findings, time, expected correlated findings)",
		Long: "Each FILE is a YAML rule test file: the rules under test (config: PATH, an inline\n" +
			"correlation: section, or the built-ins), and tests feeding input findings to a fresh\n" +
			"engine at a given time and listing the correlated findings expected (or none).\n" +
			"Failing expectations print a diff; the exit status is 1 when any test fails.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed, err := rulecheck.Run(cmd.Context(), args, cmd.OutOrStdout())
			if failed > 0 || err != nil {
				return &exitError{code: exitPartial, err: errors.New(summary(failed))}
			}
			return nil
		},
	}
}

func summary(failed int) string {
	return fmt.Sprintf("%d rule test(s) failed", failed)
}
