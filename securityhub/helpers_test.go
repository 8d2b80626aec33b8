package securityhub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"hubtriage/internal/fixtures"
	"hubtriage/securityhub"
)

// fakeClock advances virtual time instead of sleeping.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// elapsed is the virtual time slept so far.
func (c *fakeClock) elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total time.Duration
	for _, d := range c.slept {
		total += d
	}
	return total
}

// backoffLog records the retry numbers the client asked a delay for and
// answers zero, so retries do not sleep.
type backoffLog struct {
	mu       sync.Mutex
	attempts []int
}

func (b *backoffLog) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.attempts = append(b.attempts, attempt)
	return 0, nil
}

func (b *backoffLog) calls() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.attempts...)
}

var _ retry.BackoffDelayer = (*backoffLog)(nil)

// testClient builds a client on cfg with a fake clock and zero backoff;
// tweak adjusts the options first.
func testClient(t *testing.T, cfg aws.Config, tweak func(*securityhub.Options)) (*securityhub.Client, *fakeClock, *backoffLog) {
	t.Helper()
	clock, backoff := newFakeClock(), &backoffLog{}
	opts := securityhub.Options{Clock: clock, Backoff: backoff}
	if tweak != nil {
		tweak(&opts)
	}
	c, err := securityhub.New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clock, backoff
}

// fixtureFindings reads every single-finding fixture, sorted by file name.
func fixtureFindings(t *testing.T) (names []string, findings [][]byte) {
	t.Helper()
	paths, err := filepath.Glob(fixtures.Path(t, "findings/*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures found (%v)", err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(p))
		findings = append(findings, b)
	}
	return names, findings
}

// synthetic returns n distinct findings built from a real GuardDuty
// fixture: Id "hubtriage-test/<prefix>/<i>", and, when pad > 0, a
// ProductFields value of pad bytes to control the size.
func synthetic(t *testing.T, prefix string, n, pad int) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	for i := range out {
		set := map[string]any{"Id": fmt.Sprintf("hubtriage-test/%s/%d", prefix, i)}
		if pad > 0 {
			set["ProductFields"] = map[string]string{"pad": strings.Repeat("x", pad)}
		}
		out[i] = fixtures.Variant(t, "findings/guardduty-ssh-bruteforce.json", set)
	}
	return out
}

// idOf reads a finding's Id.
func idOf(t *testing.T, raw []byte) string {
	t.Helper()
	var f struct{ Id string }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("finding is not JSON: %v", err)
	}
	return f.Id
}

// collect runs a paging call and returns the pages it produced.
func collect(t *testing.T, call func(fn func([][]byte) error) error) [][][]byte {
	t.Helper()
	var pages [][][]byte
	if err := call(func(p [][]byte) error { pages = append(pages, p); return nil }); err != nil {
		t.Fatalf("paging call: %v", err)
	}
	return pages
}

// flatten joins pages.
func flatten(pages [][][]byte) [][]byte {
	var out [][]byte
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

// supersetOf reports the first top-level member of want that got lacks or
// holds a different JSON value ("" when got contains all of want).
func supersetOf(t *testing.T, got, want []byte) string {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not a JSON object: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want is not a JSON object: %v", err)
	}
	for k, wv := range w {
		wb, _ := json.Marshal(wv)
		gb, _ := json.Marshal(g[k])
		if string(wb) != string(gb) {
			return fmt.Sprintf("%s: got %s, want %s", k, gb, wb)
		}
	}
	return ""
}
