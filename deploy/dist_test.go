package deploy

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestMakeDist runs the root Makefile's `make dist` for this machine's
// platform only (a release builds every platform the same way) and checks
// what a user of the release would: SHA256SUMS lists every file and
// verifies, the binary runs and reports the revision it was built from, and
// the Lambda package holds its bootstrap.
func TestMakeDist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release binaries; skipped with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	dir := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	cmd := exec.Command("make", "-C", "..", "dist", "PLATFORMS="+platform, "DIST_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	bin := "hubtriage-" + runtime.GOOS + "-" + runtime.GOARCH
	sums := readSums(t, filepath.Join(dir, "SHA256SUMS"))
	want := []string{bin, "hubtriage-lambda.zip"}
	slices.Sort(want)
	if names := slices.Sorted(maps.Keys(sums)); !slices.Equal(names, want) {
		t.Fatalf("SHA256SUMS lists %v, want %s and hubtriage-lambda.zip", names, bin)
	}
	for name, want := range sums {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: SHA-256 %x, SHA256SUMS says %s", name, got, want)
		}
	}
	checkVersion(t, filepath.Join(dir, bin))
	zr, err := zip.OpenReader(filepath.Join(dir, "hubtriage-lambda.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) == 0 || zr.File[0].Name != "bootstrap" {
		t.Errorf("hubtriage-lambda.zip holds %d files, want bootstrap first", len(zr.File))
	}
}

// checkVersion runs bin --version and compares what it prints with the
// build information the Go toolchain recorded in bin, and that revision
// with the checkout's HEAD. (A build outside a git checkout, or in a git
// worktree, which the toolchain does not recognise, records none:
// "revision unknown".)
func checkVersion(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	m := regexp.MustCompile(`^hubtriage version (\S+) \(revision (\S+), (go\S+)\)\n$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("%s --version printed %q", bin, out)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	revision := "unknown"
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	if m[1] != bi.Main.Version || m[3] != bi.GoVersion || strings.TrimSuffix(m[2], "-modified") != revision {
		t.Errorf("--version printed %q; the binary records version %s, revision %s, %s", out, bi.Main.Version, revision, bi.GoVersion)
	}
	if revision == "unknown" {
		t.Logf("the build recorded no VCS revision (not a git checkout the toolchain recognises)")
		return
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err == nil && revision != strings.TrimSpace(string(head)) {
		t.Errorf("binary built from revision %s, checkout is at %s", revision, head)
	}
}

// readSums parses a sha256sum file: "<hex>  <name>" per line.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("%s: line %q is not \"<sha256>  <file>\"", path, sc.Text())
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}
