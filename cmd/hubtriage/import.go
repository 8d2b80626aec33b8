package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"hubtriage/app"
	"hubtriage/asff"
	"hubtriage/output"
	"hubtriage/securityhub"
)

// importChunk bounds the findings held in memory between imports.
const importChunk = 1000

func newImport() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "import --config FILE INPUT...",
		Short: "Import findings from files, folders or stdin (-) into Security Hub (BatchImportFindings)",
		Long: `Reads findings in any shape replay reads (EventBridge events, GetFindings
responses, arrays, single findings, NDJSON) and imports each, byte for byte, into
the Security Hub of the config's securityhub section with BatchImportFindings.
For trying the daemon against moto_server or a test account: the AWS CLI's own
client-side checks refuse some real findings (see docs/try-the-daemon.md).

Exit status: 0 all imported, 1 some input or finding failed, 2 usage or config error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(cmd, cmd.ErrOrStderr(), "text")
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return usageErr(errors.New("import needs at least one INPUT: a file, a folder, or - for stdin"))
			}
			cfg, err := loadConfig(cfgPath, "")
			if err != nil {
				return err
			}
			log.Debug("import starting", "config", cfgPath, "endpoint", cfg.SecurityHub.Endpoint, "inputs", len(args))
			client, err := app.SecurityHubClient(cmd.Context(), cfg)
			if err != nil {
				return &exitError{code: exitPartial, err: err}
			}
			return importFindings(cmd.Context(), client, args, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file whose securityhub section names the hub (required)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// importStats counts what import did.
type importStats struct{ read, imported, failed int }

// importFindings streams the inputs and imports their findings in chunks,
// reporting every finding that fails and every undecodable input.
func importFindings(ctx context.Context, client *securityhub.Client, args []string, stdin io.Reader, stderr io.Writer) error {
	var st importStats
	var chunk [][]byte
	flush := func() error {
		res, err := client.Import(ctx, chunk)
		st.imported += res.Imported
		for _, f := range res.Failed {
			st.failed++
			fmt.Fprintf(stderr, "hubtriage: not imported: %s: %s: %s\n", output.Clean(f.ID), f.ErrorCode, output.Clean(f.ErrorMessage))
		}
		chunk = chunk[:0]
		return err
	}
	err := app.FileSource(args, stdin)(ctx, func(r asff.Result) error {
		if r.Err != nil {
			st.failed++
			fmt.Fprintf(stderr, "hubtriage: %s\n", output.Clean(r.Err.Error()))
			return nil
		}
		st.read++
		chunk = append(chunk, r.Finding.Raw)
		if len(chunk) == importChunk {
			return flush()
		}
		return nil
	})
	if err == nil && len(chunk) > 0 {
		err = flush()
	}
	fmt.Fprintf(stderr, "hubtriage: import summary: read %d, imported %d, failed %d\n", st.read, st.imported, st.failed)
	switch {
	case err != nil:
		return &exitError{code: exitPartial, err: err}
	case st.failed > 0:
		return &exitError{code: exitPartial, err: fmt.Errorf("%d findings or inputs failed (see above)", st.failed)}
	}
	return nil
}
