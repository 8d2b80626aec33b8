package main

import (
	"regexp"
	"runtime"
	"testing"
)

// TestVersionFlag checks `hubtriage --version` prints one line naming the
// version, the revision and this toolchain, and exits 0. The built binary,
// with a real revision, is checked by deploy's TestMakeDist.
func TestVersionFlag(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		r := execute(t, "", flag)
		want := regexp.MustCompile(`^hubtriage version \S+ \(revision \S+, ` + regexp.QuoteMeta(runtime.Version()) + `\)\n$`)
		if r.code != 0 || !want.MatchString(r.stdout) {
			t.Errorf("%s: exit %d, stdout %q; want exit 0 and a line matching %s", flag, r.code, r.stdout, want)
		}
	}
}
