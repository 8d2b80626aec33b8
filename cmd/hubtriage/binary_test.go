package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The built binary, shared by the tests that run hubtriage the way a user
// does (flags, exit status, stdout and stderr of a real process).
var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// binary builds ./cmd/hubtriage once per test binary and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "hubtriage-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "hubtriage")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// removeBinary deletes the built binary (from TestMain).
func removeBinary() {
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
}

// ran is one finished run of the binary.
type ran struct {
	code           int
	stdout, stderr string
}

// runBinary runs the built binary with args in dir (the test's temp dir
// when empty), with stdin and extra environment, and waits for it; the
// deadline only guards against a hang.
func runBinary(t *testing.T, dir, stdin string, env []string, args ...string) ran {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := ran{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("run hubtriage %v: %v", args, err)
	}
	return r
}
