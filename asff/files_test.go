package asff

import (
	"context"
	"errors"
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
	got := Files([]string{root, "-", filepath.Join(root, "explicit.data")})
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

func TestStreamInputsInOrder(t *testing.T) {
	root := writeTree(t, map[string]string{
		"1.json": "[" + minimal("a") + "," + minimal("b") + "]",
		"2.json": minimal("c") + "\n}\n",
	})
	inputs := Files([]string{filepath.Join(root, "1.json"), "-", filepath.Join(root, "2.json")})
	var got collected
	var errFiles []string
	err := StreamInputs(context.Background(), inputs, strings.NewReader(minimal("stdin")), Options{}, func(r Result) error {
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

// TestUnreadableInputsAreReported runs `replay a.json <unreadable> b.json`
// style inputs: each path that cannot be listed, opened or read is one
// error naming it, and every other input is still read. The failures are
// ones that hold for root too (tests run as root, where chmod 000 does not
// stop reads): a symlink to a folder named *.json (open succeeds, read
// fails with EISDIR), a dangling symlink, a symlink loop, a missing path.
func TestUnreadableInputsAreReported(t *testing.T) {
	root := writeTree(t, map[string]string{
		"1-a.json":       minimal("a"),
		"dir/4-b.json":   minimal("b"),
		"dir/9-c.ndjson": minimal("c") + "\n" + minimal("d"),
		"target/x.json":  minimal("x"),
	})
	dir := filepath.Join(root, "dir")
	symlink := func(target, name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	isDir := symlink(filepath.Join(root, "target"), "2-is-a-folder.json")
	dangling := symlink(filepath.Join(root, "gone"), "3-dangling.json")
	loop := symlink(filepath.Join(dir, "5-loop.json"), "5-loop.json")
	missing := filepath.Join(root, "missing.json")
	args := []string{filepath.Join(root, "1-a.json"), missing, dir}

	var order, errNames []string
	err := StreamInputs(context.Background(), Files(args), nil, Options{}, func(r Result) error {
		if r.Err != nil {
			var de *DecodeError
			if !errors.As(r.Err, &de) || !errors.Is(r.Err, ErrUnreadable) || !strings.Contains(r.Err.Error(), de.File) {
				t.Errorf("error %v: want an ErrUnreadable DecodeError naming its file", r.Err)
			}
			order = append(order, "E")
			errNames = append(errNames, de.File)
			return nil
		}
		order = append(order, r.Finding.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{"a", "E", "E", "E", "b", "E", "c", "d"}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("order %q, want %q", order, wantOrder)
	}
	wantNames := []string{missing, isDir, dangling, loop}
	if !reflect.DeepEqual(errNames, wantNames) {
		t.Errorf("errors name %q, want %q", errNames, wantNames)
	}
}

// TestUnreadableFolderIsReported uses a folder that cannot be listed: as
// an unprivileged user one with mode 000; as root (which reads through
// mode bits) a path whose parent is a file, which fails for everyone.
func TestUnreadableFolderIsReported(t *testing.T) {
	root := writeTree(t, map[string]string{"a.json": minimal("a"), "locked/b.json": minimal("b"), "z.json": minimal("z")})
	bad := filepath.Join(root, "a.json", "sub")
	args := []string{bad, root}
	if os.Geteuid() != 0 {
		if err := os.Chmod(filepath.Join(root, "locked"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })
	}
	var order []string
	err := StreamInputs(context.Background(), Files(args), nil, Options{}, func(r Result) error {
		if r.Err != nil {
			var de *DecodeError
			errors.As(r.Err, &de)
			order = append(order, "E:"+filepath.Base(de.File))
			return nil
		}
		order = append(order, r.Finding.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"E:sub", "a", "b", "z"}
	if os.Geteuid() != 0 {
		want = []string{"E:sub", "a", "E:locked", "z"}
	}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("got %q, want %q", order, want)
	}
}
