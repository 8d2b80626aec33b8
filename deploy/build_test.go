package deploy

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMakeBuildsTheDeploymentPackage runs the Makefile the README tells
// users to run and checks the zip Lambda will unpack under /var/task.
func TestMakeBuildsTheDeploymentPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the function; skipped with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "my-config.yaml")
	config := []byte("rules: [{name: all}]\n")
	if err := os.WriteFile(cfg, config, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "zip", "BUILD_DIR="+dir, "CONFIG="+cfg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "hubtriage-lambda.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	boot, ok := files["bootstrap"]
	if !ok || boot.Mode().Perm()&0o111 == 0 {
		t.Fatalf("zip entries %v: want an executable bootstrap at the root", files)
	}
	body := read(t, boot)
	bin, err := elf.NewFile(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	if bin.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is built for %v, want arm64 (EM_AARCH64)", bin.Machine)
	}
	if f, ok := files["hubtriage.yaml"]; !ok || !bytes.Equal(read(t, f), config) {
		t.Error("the config is not bundled as /var/task/hubtriage.yaml")
	}
}

func read(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
