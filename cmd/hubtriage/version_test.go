package main

import (
	"debug/buildinfo"
	"fmt"
	"strings"
	"testing"
)

// TestVersionFlag runs the built binary with --version and -v: one line
// naming the version, the VCS revision and the toolchain the Go build
// recorded in the binary, exit 0. (deploy's TestMakeDist checks a release
// build's revision against the checkout.)
func TestVersionFlag(t *testing.T) {
	bi, err := buildinfo.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	revision := "unknown"
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		revision += "-modified"
	}
	want := fmt.Sprintf("hubtriage version %s (revision %s, %s)\n", bi.Main.Version, revision, bi.GoVersion)
	for _, flag := range []string{"--version", "-v"} {
		r := runBinary(t, "", "", nil, flag)
		if r.code != 0 || r.stdout != want || strings.TrimSpace(r.stderr) != "" {
			t.Errorf("hubtriage %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", flag, r.code, r.stdout, r.stderr, want)
		}
	}
}
