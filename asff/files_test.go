package asff

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestFilesExpansion(t *testing.T) {
	root := writeTree(t, map[string]string{
		"b.json":             minimal("b"),
		"a.ndjson":           minimal("a"),
		"sub/c.jsonl":        minimal("c"),
		"sub/deeper/d.JSON":  minimal("d"),
		"sub/notes.txt":      "not json",
		"README.md":          "# no",
		"explicit.data":      minimal("e"),
		"sub/z-last.json":    minimal("z"),
		"sub/deeper/y.jsonl": minimal("y"),
		".git/x.json":        minimal("hidden"),
		"sub/.cache/h.json":  minimal("hidden"),
	})
	got, err := Files([]string{root, "-", filepath.Join(root, "explicit.data")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range got {
		rel, _ := filepath.Rel(root, in.Name)
		if in.Path == "" {
			rel = in.Name
		}
		names = append(names, filepath.ToSlash(rel))
	}
	want := []string{"a.ndjson", "b.json", "sub/c.jsonl", "sub/deeper/d.JSON", "sub/deeper/y.jsonl", "sub/z-last.json", "stdin", "explicit.data"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("got %q, want %q", names, want)
	}
}

func TestFilesMissingPath(t *testing.T) {
	_, err := Files([]string{filepath.Join(t.TempDir(), "nope.json")})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("got %v, want a not-exist error naming the path", err)
	}
}

func TestStreamInputsInOrder(t *testing.T) {
	root := writeTree(t, map[string]string{
		"1.json": "[" + minimal("a") + "," + minimal("b") + "]",
		"2.json": minimal("c") + "\n}\n",
	})
	inputs, err := Files([]string{filepath.Join(root, "1.json"), "-", filepath.Join(root, "2.json")})
	if err != nil {
		t.Fatal(err)
	}
	var got collected
	var errFiles []string
	err = StreamInputs(context.Background(), inputs, strings.NewReader(minimal("stdin")), Options{}, func(r Result) error {
		got.add(t, r)
		if r.Err != nil {
			var de *DecodeError
			errors.As(r.Err, &de)
			errFiles = append(errFiles, filepath.Base(de.File))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"F:a", "F:b", "F:stdin", "F:c", "E:invalid character '}' after top-level value (skipped 2 bytes to the end of input)"}
	if !reflect.DeepEqual(got.order, want) {
		t.Errorf("got %q, want %q", got.order, want)
	}
	if !reflect.DeepEqual(errFiles, []string{"2.json"}) {
		t.Errorf("errors name files %q, want 2.json", errFiles)
	}
}

func TestStreamInputsOpenError(t *testing.T) {
	inputs := []Input{{Name: "gone.json", Path: filepath.Join(t.TempDir(), "gone.json")}}
	err := StreamInputs(context.Background(), inputs, nil, Options{}, func(Result) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "gone.json") {
		t.Errorf("got %v", err)
	}
}
