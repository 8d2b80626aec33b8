package asff

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Stdin is the argument that stands for standard input; its Input is named
// StdinName in errors.
const (
	Stdin     = "-"
	StdinName = "stdin"
)

// inputExts are the file name endings picked up when walking a folder.
var inputExts = [...]string{".json", ".jsonl", ".ndjson"}

// Input is one source of findings: a file, or standard input when Path is "".
type Input struct {
	// Name labels the input in errors: the path as found, or "stdin".
	Name string
	// Path is the file to read; "" means standard input.
	Path string
	// Err is set when the path could not be listed (it does not exist, or a
	// folder could not be read): StreamInputs reports it as a problem of
	// this input and goes on with the next.
	Err error
}

// Files expands command-line arguments into inputs, in order: "-" is
// standard input, a file is taken whatever its name, and a folder
// contributes its *.json, *.jsonl and *.ndjson files (any case),
// recursively, sorted by path, skipping hidden folders such as .git. A path
// that does not exist, or a folder (or subfolder) that cannot be listed, is
// an Input with Err set, in its place; an empty folder contributes nothing.
func Files(args []string) []Input {
	var out []Input
	for _, arg := range args {
		if arg == Stdin {
			out = append(out, Input{Name: StdinName})
			continue
		}
		info, err := os.Stat(arg)
		switch {
		case err != nil:
			out = append(out, Input{Name: arg, Path: arg, Err: err})
		case info.IsDir():
			out = append(out, walkFolder(arg)...)
		default:
			out = append(out, Input{Name: arg, Path: arg})
		}
	}
	return out
}

// walkFolder lists the input files under dir in lexical path order; a
// folder that cannot be read is listed as an Input with Err.
func walkFolder(dir string) []Input {
	var out []Input
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// WalkDir reports a folder it cannot read after visiting it;
			// returning nil goes on with its siblings.
			out = append(out, Input{Name: path, Path: path, Err: err})
			return nil
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if hasInputExt(d.Name()) {
			out = append(out, Input{Name: path, Path: path})
		}
		return nil
	})
	return out
}

func hasInputExt(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range inputExts {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// StreamInputs streams every input in order through one Stream call each,
// with the same fn; stdin is read for Input{Path: ""}. An input that cannot
// be listed, opened or read reaches fn as a Result with a *DecodeError
// (ErrUnreadable) naming it, after whatever was decoded before the failure,
// and the next input is read. StreamInputs stops at fn's first error or
// when ctx ends, and returns that error.
func StreamInputs(ctx context.Context, inputs []Input, stdin io.Reader, opt Options, fn func(Result) error) error {
	for _, in := range inputs {
		err := in.Err
		if err == nil {
			err = streamInput(ctx, in, stdin, opt, fn)
		}
		var ue *unreadableError
		switch {
		case err == nil:
		case in.Err != nil || errors.As(err, &ue):
			de := &DecodeError{File: in.Name, Reason: "cannot read: " + err.Error(), Err: ErrUnreadable}
			if ferr := fn(Result{Err: de}); ferr != nil {
				return ferr
			}
		default:
			return err
		}
	}
	return nil
}

// unreadableError is an input's own failure to open or read, as opposed to
// fn's error or ctx's, which stop StreamInputs.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

// recordingReader remembers the reader's first failure other than io.EOF.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

func streamInput(ctx context.Context, in Input, stdin io.Reader, opt Options, fn func(Result) error) error {
	var r io.Reader = stdin
	if in.Path != "" {
		f, err := os.Open(in.Path)
		if err != nil {
			return &unreadableError{err}
		}
		defer f.Close()
		r = f
		if opt.OnRead != nil {
			r = readReporter{r: f, onRead: opt.OnRead}
		}
	}
	rr := &recordingReader{r: r}
	err := Stream(ctx, in.Name, rr, opt, fn)
	if err != nil && rr.err != nil && errors.Is(err, rr.err) {
		return &unreadableError{rr.err}
	}
	return err
}

// readReporter reports the size of every read.
type readReporter struct {
	r      io.Reader
	onRead func(int)
}

func (c readReporter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.onRead(n)
	return n, err
}
