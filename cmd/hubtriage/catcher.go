package main

import (
	"github.com/spf13/cobra"

	"hubtriage/catcher"
)

func newCatcher() *cobra.Command {
	var opt catcher.Options
	cmd := &cobra.Command{
		Use:   "smtp-catcher [--listen ADDR] [--dir DIR]",
		Short: "Run a local SMTP server that accepts and reports every message (for trying hubtriage)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd, cmd.ErrOrStderr(), "text")
			if err != nil {
				return err
			}
			opt.Log = log
			if err := catcher.Serve(cmd.Context(), opt); err != nil {
				return usageErr(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opt.Addr, "listen", "127.0.0.1:2525", "address to listen on")
	cmd.Flags().StringVar(&opt.Dir, "dir", "", "save each message there as NNNN.eml (created if missing; existing files are kept)")
	return cmd
}
