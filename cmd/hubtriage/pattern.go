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
	maxLength    int
	findingsV2   bool
}

// templatePatterns is how many patterns deploy/template.yaml takes
// (FindingsEventPattern, FindingsEventPattern2 ...).
const templatePatterns = 4

func newEventBridgePattern() *cobra.Command {
	var o patternOptions
	cmd := &cobra.Command{
		Use:   "eventbridge-pattern --config FILE [--compact] [--skip-inactive] [--max-length N]",
		Short: "Print the EventBridge pattern that sends the Lambda only findings the rules may match",
		Long: `Derives the event pattern of the EventBridge rule for "Security Hub Findings -
Imported" events from the rules' filters (and the conditions of the correlation
rules) and prints it as JSON on stdout; when a correlation rule needs the
security groups of instances, it also matches GuardDuty's own "GuardDuty
Finding" events that name them. The
pattern matches a superset of what the rules match (the Lambda filters again);
what it cannot express is listed as notes on stderr. With --findings-v2 the
pattern is for "Findings Imported V2" events of the new Security Hub, narrowed
by the rules' ocsf_filter.

A pattern longer than --max-length characters (EventBridge's default quota,
2048; raise the flag after raising the quota) is split into several patterns,
one per EventBridge rule, printed one after the other (with --compact, one per
line); together they match what the one pattern would. Pass them to the SAM
template as FindingsEventPattern, FindingsEventPattern2, ... (up to 4).`,
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
	f.IntVar(&o.maxLength, "max-length", eventpattern.DefaultMaxLength,
		"EventBridge's event pattern size quota in characters; longer patterns are split")
	f.BoolVar(&o.findingsV2, "findings-v2", false,
		"derive the pattern for the new Security Hub's \"Findings Imported V2\" (OCSF) events from the rules' ocsf_filter")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func printPattern(o patternOptions, stdout, stderr io.Writer) error {
	if o.maxLength < 1 {
		return usageErr(fmt.Errorf("--max-length must be positive (got %d)", o.maxLength))
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return usageErr(err)
	}
	derive := eventpattern.FromConfig
	if o.findingsV2 {
		derive = eventpattern.FromConfigV2
	}
	p := derive(cfg, eventpattern.Options{SkipInactive: o.skipInactive})
	parts, err := p.Split(o.maxLength)
	if err != nil {
		return &exitError{code: exitPartial, err: err}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(stderr, "hubtriage: note: %s\n", n)
	}
	if len(parts) > 1 {
		fmt.Fprintf(stderr, "hubtriage: note: the pattern is split into %d patterns of at most %d characters: create one EventBridge rule per pattern\n",
			len(parts), o.maxLength)
	}
	if len(parts) > templatePatterns {
		fmt.Fprintf(stderr, "hubtriage: note: deploy/template.yaml takes %d patterns: raise the quota (--max-length) or simplify the rules\n",
			templatePatterns)
	}
	for _, part := range parts {
		b, err := part.JSON(!o.compact)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}
