// Command mkzip writes the Lambda deployment package: a zip of the given
// files, each stored under its base name with a fixed time stamp, so the
// same inputs give the same bytes (and CloudFormation sees no change), and
// with bootstrap executable, as the provided.al2023 runtime requires.
//
//	go run ./deploy/mkzip -o build/hubtriage-lambda.zip build/bootstrap hubtriage.yaml
//
// It exists so that building the package needs nothing but Go (no zip tool).
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// epoch is the stamp of every entry (zip cannot store earlier times).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if err := write(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

// write zips files into path; entries named bootstrap get mode 0755, the
// others 0644.
func write(path string, files []string) error {
	if path == "" || len(files) == 0 {
		return errors.New("usage: mkzip -o OUT.zip FILE [FILE ...]")
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, name := range files {
		if err := add(zw, name); err != nil {
			f.Close()
			os.Remove(tmp)
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

func add(zw *zip.Writer, name string) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	base := filepath.Base(name)
	h := &zip.FileHeader{Name: base, Method: zip.Deflate, Modified: epoch}
	mode := os.FileMode(0o644)
	if base == "bootstrap" {
		mode = 0o755
	}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}
