package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
)

// TestReplaySkipsEventsWithoutFindings: a Security Hub Insight Results
// event is a "skipped" decision naming its detail-type, and the run exits
// 0 with "skipped 1" and "errors 0" in the summary.
func TestReplaySkipsEventsWithoutFindings(t *testing.T) {
	cfg := writeConfig(t, smtptest.Start(t))
	insight := filepath.Join("..", "..", "asff", "testdata", "events", "insight-results.json")
	r := execute(t, "", "replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--dry-run", insight)
	if r.code != 0 || r.kinds() != "skipped" {
		t.Fatalf("exit %d, decisions %s, want 0 and one skipped\nstderr: %s", r.code, r.kinds(), r.stderr)
	}
	if reason := r.decisions[0]["reason"].(string); !strings.Contains(reason, `"Security Hub Insight Results"`) {
		t.Errorf("reason %q does not name the detail-type", reason)
	}
	if !strings.Contains(r.stderr, "skipped 1, errors 0") {
		t.Errorf("summary: %s", r.stderr)
	}
}

// TestReplayUnreadableFileDoesNotStopTheRun is `replay a.json
// unreadable.json b.json`: the unreadable file (a symlink to a folder, which
// fails to read even as root) is one error decision naming it, b.json is
// still decided, the summary counts the error, and the exit code is 1.
func TestReplayUnreadableFileDoesNotStopTheRun(t *testing.T) {
	cfg := writeConfig(t, smtptest.Start(t))
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.json")
	if err := os.Symlink(dir, unreadable); err != nil {
		t.Fatal(err)
	}
	a := fixtures.Path(t, "findings/guardduty-ssh-bruteforce.json")
	b := fixtures.Path(t, "findings/config-s3-bucket.json")
	r := execute(t, "", "replay", "--config", cfg, "--state", filepath.Join(dir, "s.db"), "--dry-run", a, unreadable, b)
	if r.code != 1 || r.kinds() != "notify,error,filtered" {
		t.Fatalf("exit %d, decisions %s, want 1 and notify,error,filtered\nstderr: %s", r.code, r.kinds(), r.stderr)
	}
	if reason := r.decisions[1]["reason"].(string); !strings.Contains(reason, unreadable) {
		t.Errorf("error %q does not name the file", reason)
	}
	if !strings.Contains(r.stderr, "errors 1") {
		t.Errorf("summary does not count the error: %s", r.stderr)
	}
}

// TestReplayCutLineCostsOneDecision is the damaged stream through
// the whole program: 3,000 real findings as NDJSON with line 100 cut short
// give 2,999 finding decisions and one error naming line 100.
func TestReplayCutLineCostsOneDecision(t *testing.T) {
	cfg := writeConfig(t, smtptest.Start(t))
	var raw map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"), &raw); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i := 1; i <= 3000; i++ {
		raw["Id"] = fmt.Sprintf("finding-%d", i)
		line, _ := json.Marshal(raw)
		if i == 100 {
			line = line[:len(line)/2]
		}
		sb.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "cut.ndjson")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := execute(t, "", "replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--dry-run", path)
	var errs []string
	findings := 0
	for _, d := range r.decisions {
		if d["decision"] == "error" {
			errs = append(errs, d["reason"].(string))
		} else {
			findings++
		}
	}
	if r.code != 1 || findings != 2999 || len(errs) != 1 || !strings.Contains(errs[0], "cut.ndjson: line 100 ") {
		t.Fatalf("exit %d, %d finding decisions, errors %q; want exit 1, 2999 and one error on line 100", r.code, findings, errs)
	}
}
