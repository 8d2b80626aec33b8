package app

import (
	"context"
	"io"

	"hubtriage/asff"
	"hubtriage/pipeline"
)

// FileSource streams findings from files, folders and "-" (stdin), in
// argument order. A missing path is reported when the source runs.
func FileSource(args []string, stdin io.Reader) pipeline.Source {
	return FileSourceProgress(args, stdin, nil)
}

// FileSourceProgress is FileSource that calls onRead (when not nil) with
// the size of every read from an input file, for a progress bar.
func FileSourceProgress(args []string, stdin io.Reader, onRead func(int)) pipeline.Source {
	return func(ctx context.Context, fn func(asff.Result) error) error {
		inputs, err := asff.Files(args)
		if err != nil {
			return err
		}
		return asff.StreamInputs(ctx, inputs, stdin, asff.Options{OnRead: onRead}, fn)
	}
}
