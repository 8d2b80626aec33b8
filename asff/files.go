package asff

import (
	"context"
	"fmt"
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
}

// Files expands command-line arguments into inputs, in order: "-" is
// standard input, a file is taken whatever its name, and a folder
// contributes its *.json, *.jsonl and *.ndjson files (any case),
// recursively, sorted by path, skipping hidden folders such as .git. A path
// that does not exist is an error; an empty folder contributes nothing.
func Files(args []string) ([]Input, error) {
	var out []Input
	for _, arg := range args {
		if arg == Stdin {
			out = append(out, Input{Name: StdinName})
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", arg, err)
		}
		if !info.IsDir() {
			out = append(out, Input{Name: arg, Path: arg})
			continue
		}
		found, err := walkFolder(arg)
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// walkFolder lists the input files under dir in lexical path order.
func walkFolder(dir string) ([]Input, error) {
	var out []Input
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("input %s: %w", path, err)
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !hasInputExt(d.Name()) {
			return nil
		}
		out = append(out, Input{Name: path, Path: path})
		return nil
	})
	return out, err
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
// with the same fn; stdin is read for Input{Path: ""}. It stops at the first
// error Stream returns (fn's error, ctx's, or failing to open or read an
// input); DecodeErrors inside inputs only reach fn.
func StreamInputs(ctx context.Context, inputs []Input, stdin io.Reader, opt Options, fn func(Result) error) error {
	for _, in := range inputs {
		if err := streamInput(ctx, in, stdin, opt, fn); err != nil {
			return err
		}
	}
	return nil
}

func streamInput(ctx context.Context, in Input, stdin io.Reader, opt Options, fn func(Result) error) error {
	if in.Path == "" {
		return Stream(ctx, in.Name, stdin, opt, fn)
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return fmt.Errorf("input %s: %w", in.Name, err)
	}
	defer f.Close()
	var r io.Reader = f
	if opt.OnRead != nil {
		r = readReporter{r: f, onRead: opt.OnRead}
	}
	return Stream(ctx, in.Name, r, opt, fn)
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
