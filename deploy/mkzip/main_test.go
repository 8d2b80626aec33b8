package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteIsReproducibleWithExecutableBootstrap(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootstrap")
	cfg := filepath.Join(dir, "hubtriage.yaml")
	if err := os.WriteFile(boot, []byte("\x7fELF binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if err := write(a, []string{boot, cfg}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(cfg, epoch.AddDate(30, 0, 0), epoch.AddDate(30, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := write(b, []string{boot, cfg}); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("the same inputs gave different zips: CloudFormation would redeploy for nothing")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode().Perm()
	}
	if modes["bootstrap"] != 0o755 || modes["hubtriage.yaml"] != 0o644 || len(modes) != 2 {
		t.Errorf("entries %v, want bootstrap 0755 and hubtriage.yaml 0644 at the root", modes)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	if err := write("", []string{"x"}); err == nil {
		t.Error("no output path: no error")
	}
	out := filepath.Join(dir, "out.zip")
	if err := write(out, []string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing input: no error")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed write left %s behind", out)
	}
}
