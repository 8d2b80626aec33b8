package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCheckConfig() *cobra.Command {
	return &cobra.Command{
		Use:   "check-config FILE",
		Short: "Validate a config file; print every problem with its field path",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(args[0], "")
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d rules, %d channels)\n", args[0], len(cfg.Rules), len(cfg.Channels))
			return nil
		},
	}
}
