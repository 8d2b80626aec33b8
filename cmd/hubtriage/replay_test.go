package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
)

type result struct {
	code      int
	stdout    string
	stderr    string
	decisions []map[string]any
}

func execute(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		r.decisions = append(r.decisions, d)
	}
	return r
}

func (r result) kinds() string {
	var s []string
	for _, d := range r.decisions {
		s = append(s, d["decision"].(string))
	}
	return strings.Join(s, ",")
}

func writeConfig(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := fmt.Sprintf(`
channels:
  secops:
    email:
      smtp: {host: %s, port: %d, tls: none}
      from: hubtriage@example.com
      to: [secops@example.com, oncall@example.com]
rules:
  - name: guardduty
    filter:
      ProductName: [{Value: GuardDuty, Comparison: EQUALS}]
      RecordState: [{Value: ACTIVE, Comparison: EQUALS}]
    renotify_after: 15d
    channels: [secops]
`, srv.Host, srv.Port)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// archivedCopy writes the fixture with RecordState ARCHIVED.
func archivedCopy(t *testing.T, src string) string {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"RecordState": "ACTIVE"`), []byte(`"RecordState": "ARCHIVED"`), 1)
	path := filepath.Join(t.TempDir(), "archived.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplaySequenceOverStateFile replays one GuardDuty finding at
// different --now times against one state file and a real SMTP server.
func TestReplaySequenceOverStateFile(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := writeConfig(t, srv)
	state := filepath.Join(t.TempDir(), "state.db")
	finding := fixtures.Path(t, "findings/guardduty-ssh-bruteforce.json")
	archived := archivedCopy(t, finding)
	steps := []struct {
		now, input, want string
		emails           int
	}{
		{"2026-01-01T00:00:00Z", finding, "notify", 1},
		{"2026-01-02T00:00:00Z", finding, "duplicate", 1},
		{"2026-01-16T00:00:00Z", finding, "renotify", 2},
		{"2026-01-20T00:00:00Z", finding, "duplicate", 2},
		{"2026-01-21T00:00:00Z", archived, "resolved", 2},
		{"2026-01-22T00:00:00Z", finding, "recurrence", 3},
	}
	for _, s := range steps {
		r := execute(t, "", "replay", "--config", cfg, "--state", state, "--now", s.now, s.input)
		if r.code != 0 || r.kinds() != s.want {
			t.Fatalf("at %s: exit %d, decisions %s, want %s\nstderr: %s", s.now, r.code, r.kinds(), s.want, r.stderr)
		}
		if got := len(srv.Messages()); got != s.emails {
			t.Fatalf("at %s: %d emails, want %d", s.now, got, s.emails)
		}
	}
	msgs := srv.Messages()
	if got := strings.Join(msgs[0].To, ","); got != "secops@example.com,oncall@example.com" {
		t.Errorf("recipients = %s", got)
	}
	if !bytes.Contains(msgs[1].Data, []byte("Still open after")) {
		t.Errorf("renotify email does not say it is still open")
	}
	if !bytes.Contains(msgs[2].Data, []byte("Recurrence")) {
		t.Errorf("recurrence email does not say so")
	}
}

func TestReplayMalformedInputKeepsGoing(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := writeConfig(t, srv)
	malformed := fixtures.Path(t, "malformed")
	good := fixtures.Path(t, "findings/guardduty-ssh-bruteforce.json")
	r := execute(t, "", "replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--now", "2026-01-01T00:00:00Z", malformed, good)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (some input failed)", r.code)
	}
	entries, _ := os.ReadDir(malformed)
	for _, e := range entries {
		if !strings.Contains(r.stderr, e.Name()) {
			t.Errorf("no error naming %s in stderr:\n%s", e.Name(), r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "line ") {
		t.Errorf("errors do not give a line: %s", r.stderr)
	}
	if len(srv.Messages()) != 1 {
		t.Errorf("the good finding after the malformed files was not alerted (%d emails)", len(srv.Messages()))
	}
	if !strings.Contains(r.stderr, "summary") {
		t.Errorf("no summary on stderr")
	}
}

func TestReplayChannelFailureExitsOneThenRecovers(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := writeConfig(t, srv)
	state := filepath.Join(t.TempDir(), "s.db")
	finding := fixtures.Path(t, "findings/guardduty-ssh-bruteforce.json")
	srv.FailNext(1, 451)
	r := execute(t, "", "replay", "--config", cfg, "--state", state, finding)
	if r.code != 1 || r.kinds() != "error" {
		t.Fatalf("exit %d decisions %s", r.code, r.kinds())
	}
	// The parked finding is retried first, then the input copy is a duplicate.
	r = execute(t, "", "replay", "--config", cfg, "--state", state, finding)
	if r.code != 0 || r.kinds() != "notify,duplicate" {
		t.Fatalf("retry: exit %d decisions %s\n%s", r.code, r.kinds(), r.stderr)
	}
	r = execute(t, "", "replay", "--config", cfg, "--state", state, finding)
	if r.kinds() != "duplicate" || len(srv.Messages()) != 1 {
		t.Fatalf("after recovery: %s, %d emails", r.kinds(), len(srv.Messages()))
	}
}

func TestReplayStdinAndDryRun(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := writeConfig(t, srv)
	b := fixtures.Read(t, "events/custom-action-guardduty-iam-2019.json")
	state := filepath.Join(t.TempDir(), "s.db")
	r := execute(t, string(b), "replay", "--config", cfg, "--state", state, "--dry-run", "-")
	if r.code != 0 || len(r.decisions) == 0 || len(srv.Messages()) != 0 {
		t.Fatalf("dry run: exit %d, %d decisions, %d emails\n%s", r.code, len(r.decisions), len(srv.Messages()), r.stderr)
	}
	if !strings.Contains(r.stderr, "dry run") {
		t.Errorf("summary does not say dry run")
	}
}

func TestUsageAndConfigErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - name: a\n    renotify_after: fifteen\n    colour: red\n"), 0o600)
	for name, args := range map[string][]string{
		"no inputs":    {"replay", "--config", bad},
		"bad config":   {"replay", "--config", bad, "x.json"},
		"bad now":      {"replay", "--config", bad, "--now", "yesterday", "x.json"},
		"check-config": {"check-config", bad},
		"unknown flag": {"replay", "--colour"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := execute(t, "", args...); r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %s", r.code, r.stderr)
			}
		})
	}
	r := execute(t, "", "check-config", bad)
	for _, want := range []string{"rules[0].renotify_after", "rules[0].colour", "bad.yaml"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check-config output lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if r := execute(t, "", "check-config", "../../examples/hubtriage.yaml"); r.code != 0 {
		t.Fatalf("examples/hubtriage.yaml: %s", r.stderr)
	}
}

func TestRulesTestCommand(t *testing.T) {
	files, _ := filepath.Glob("../../correlate/testdata/rules/*.yaml")
	if len(files) < 3 {
		t.Fatalf("built-in rule tests missing: %v", files)
	}
	if r := execute(t, "", append([]string{"rules", "test"}, files...)...); r.code != 0 {
		t.Fatalf("shipped rule tests: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(t.TempDir(), "wrong.yaml")
	os.WriteFile(bad, []byte(`tests:
  - name: two CVEs are not enough, but this test claims they are
    at: 2024-05-20T12:00:00Z
    input:
      - file: `+mustAbs(t, "../../correlate/testdata/findings/guardduty-backdoor-ec2.json")+`
      - file: `+mustAbs(t, "../../correlate/testdata/findings/inspector2-ec2-cve-2021-44228.json")+`
    expect:
      - rule: ec2-backdoor-critical-cves
        resource: arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718
`), 0o600)
	r := execute(t, "", "rules", "test", bad)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "FAIL") {
		t.Fatalf("failing rule test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDryRunLeavesStateFileAsItWas: a dry run writes nothing to the state
// file, byte for byte, even when it reads correlation index entries that
// expired at its clock (which a writable store purges as it reads); and a
// dry run on a state file that does not exist creates none.
func TestDryRunLeavesStateFileAsItWas(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hubtriage.yaml")
	if err := os.WriteFile(cfg, []byte("rules: [{name: all}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inputs, _ := filepath.Glob("../../correlate/testdata/findings/*.json")
	state := filepath.Join(dir, "s.db")
	replay := func(now string, extra ...string) result {
		args := append([]string{"replay", "--config", cfg, "--state", state, "--now", now}, extra...)
		return execute(t, "", append(args, inputs...)...)
	}
	if r := replay("2024-05-20T12:00:00Z"); r.code != 0 || !strings.Contains(r.kinds(), "correlate") {
		t.Fatalf("real run: exit %d, decisions %s\n%s", r.code, r.kinds(), r.stderr)
	}
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []string{"2024-05-20T13:00:00Z", "2025-01-01T00:00:00Z"} {
		if r := replay(now, "--dry-run"); r.code != 0 {
			t.Fatalf("dry run at %s: exit %d\n%s", now, r.code, r.stderr)
		}
		after, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Fatalf("dry run at %s changed the state file", now)
		}
	}
	missing := filepath.Join(dir, "never-created.db")
	r := execute(t, "", append([]string{"replay", "--config", cfg, "--state", missing, "--dry-run"}, inputs...)...)
	if r.code != 0 || !strings.Contains(r.kinds(), "notify") {
		t.Fatalf("dry run without state: exit %d, decisions %s\n%s", r.code, r.kinds(), r.stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("dry run created the state file %s (%v)", missing, err)
	}
}
