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
	return FileSourceProgress(args, stdin, nil)
}

// FileSourceProgress is FileSource that calls onRead (when not nil) with
// the size of every read from an input file, for a progress bar.
func FileSourceProgress(args []string, stdin io.Reader, onRead func(int)) pipeline.Source {
	return func(ctx context.Context, fn func(asff.Result) error) error {
		return asff.StreamInputs(ctx, asff.Files(args), stdin, asff.Options{OnRead: onRead}, fn)
	}
}
