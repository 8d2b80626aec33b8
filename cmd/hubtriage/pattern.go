package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"hubtriage/config"
	"hubtriage/eventpattern"
)

type patternOptions struct {
	config       string
	compact      bool
	skipInactive bool
	findingsV2   bool
}

func newEventBridgePattern() *cobra.Command {
	var o patternOptions
	cmd := &cobra.Command{
		Use:   "eventbridge-pattern --config FILE [--compact] [--skip-inactive]",
		Short: "Print the EventBridge pattern that sends the Lambda only findings the rules may match",
		Long: `Derives the event pattern of the EventBridge rule for "Security Hub Findings -
Imported" events from the rules' filters (and the conditions of the correlation
rules) and prints it as JSON on stdout; when a correlation rule needs the
security groups of instances, it also matches GuardDuty's own "GuardDuty
Finding" events that name them. The
pattern matches a superset of what the rules match (the Lambda filters again);
what it cannot express is listed as notes on stderr. Pass the compact form to
the SAM template: --parameter-overrides FindingsEventPattern="$(hubtriage
eventbridge-pattern --config hubtriage.yaml --compact)". With --findings-v2 the
pattern is for "Findings Imported V2" events of the new Security Hub, narrowed
by the rules' ocsf_filter.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printPattern(o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "config file (required)")
	f.BoolVar(&o.compact, "compact", false, "print the pattern on one line")
	f.BoolVar(&o.skipInactive, "skip-inactive", false,
		"leave out archived/resolved/suppressed/passed findings (reconcile then clears their state)")
	f.BoolVar(&o.findingsV2, "findings-v2", false,
		"derive the pattern for the new Security Hub's \"Findings Imported V2\" (OCSF) events from the rules' ocsf_filter")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func printPattern(o patternOptions, stdout, stderr io.Writer) error {
	cfg, err := config.Load(o.config)
	if err != nil {
		return usageErr(err)
	}
	derive := eventpattern.FromConfig
	if o.findingsV2 {
		derive = eventpattern.FromConfigV2
	}
	p := derive(cfg, eventpattern.Options{SkipInactive: o.skipInactive})
	b, err := p.JSON(!o.compact)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(stderr, "hubtriage: note: %s\n", n)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
