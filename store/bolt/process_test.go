package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/bolt"
)

// Environment of a helper process: the file, and what to do with it.
const (
	envPath    = "HUBTRIAGE_BOLT_HELPER_PATH"
	envTimeout = "HUBTRIAGE_BOLT_HELPER_TIMEOUT"
	envNow     = "HUBTRIAGE_BOLT_HELPER_NOW"
)

// TestHelperProcess is not a test: it is the other process of the tests
// below, started as this test binary with envPath set. It opens the store,
// claims key "k" at envNow and confirms, and prints "sent", "duplicate"
// or the error.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(envPath)
	if path == "" {
		t.Skip("helper process only")
	}
	timeout, _ := time.ParseDuration(os.Getenv(envTimeout))
	now, _ := time.Parse(time.RFC3339, os.Getenv(envNow))
	fmt.Println(helper(path, timeout, now))
}

func helper(path string, timeout time.Duration, now time.Time) string {
	ctx := context.Background()
	s, err := bolt.Open(path, bolt.Options{Timeout: timeout})
	if err != nil {
		return "error: " + err.Error()
	}
	defer s.Close()
	c, err := s.Claim(ctx, "k", store.Meta{Rule: "r"}, now, time.Hour, time.Minute)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return "duplicate"
	case err != nil:
		return "error: " + err.Error()
	}
	if err := s.Confirm(ctx, c, now); err != nil {
		return "error: " + err.Error()
	}
	return "sent"
}

// runHelper runs TestHelperProcess in a new process and returns its
// verdict. It may run on any goroutine.
func runHelper(path string, timeout time.Duration, now time.Time) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envPath+"="+path, envTimeout+"="+timeout.String(), envNow+"="+now.Format(time.RFC3339))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("helper process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line == "sent" || line == "duplicate" || strings.HasPrefix(line, "error: ") {
			return line
		}
	}
	return fmt.Sprintf("helper process said nothing useful:\n%s", out)
}

func TestOtherProcessGetsLockError(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	got := runHelper(path, 100*time.Millisecond, time.Now())
	if !strings.Contains(got, path) || !strings.Contains(got, bolt.ErrLocked.Error()) {
		t.Fatalf("helper while the file is open here: %q, want a lock error naming %s", got, path)
	}
}

// TestProcessesNotifyOnce starts processes at once that each claim and
// confirm one key at the same now: the file lock queues them, and exactly
// one notifies.
func TestProcessesNotifyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now().UTC().Truncate(time.Second)
	const procs = 4
	verdicts := make([]string, procs)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdicts[i] = runHelper(path, time.Minute, now)
		}()
	}
	wg.Wait()
	sent := 0
	for _, v := range verdicts {
		switch v {
		case "sent":
			sent++
		case "duplicate":
		default:
			t.Fatalf("helper: %s", v)
		}
	}
	if sent != 1 {
		t.Fatalf("%d of %d processes notified, want exactly 1 (verdicts %q)", sent, procs, verdicts)
	}
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Get(context.Background(), "k"); err != nil || r.Notifications != 1 {
		t.Fatalf("record after the processes = %+v, %v; want one notification", r, err)
	}
}
