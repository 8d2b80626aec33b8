package app

import (
	"context"
	"io"

	"hubtriage/asff"
	"hubtriage/pipeline"
)

// FileSource streams findings from files, folders and "-" (stdin), in
// argument order. A path that is missing or cannot be read is an error
// result naming it, and the rest is read.
func FileSource(args []string, stdin io.Reader) pipeline.Source {
	return func(ctx context.Context, fn func(asff.Result) error) error {
		return asff.StreamInputs(ctx, asff.Files(args), stdin, asff.Options{}, fn)
	}
}
