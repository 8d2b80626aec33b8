package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hubtriage/internal/smtptest"
	"hubtriage/store/bolt"
)

// abs returns the absolute path of a path relative to this package.
func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// exampleConfig is examples/hubtriage.yaml with its SMTP port pointed at
// srv (or left alone when srv is nil), written to the test's folder.
func exampleConfig(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	b, err := os.ReadFile(abs(t, "../../examples/hubtriage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if srv != nil {
		b = bytes.Replace(b, []byte("{host: 127.0.0.1, port: 2525, tls: none}"),
			fmt.Appendf(nil, "{host: %s, port: %d, tls: none}", srv.Host, srv.Port), 1)
	}
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func decisions(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var d map[string]any
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		out = append(out, d)
	}
	return out
}

// TestConfigErrorsExit2FromEveryCommand: a config one command accepts,
// every command accepts; each problem exits 2 from every command, names its
// field and line, and nothing has started (no state file).
func TestConfigErrorsExit2FromEveryCommand(t *testing.T) {
	configDir := abs(t, "../../config") // the fixtures' secret files are relative to it
	finding := abs(t, "../../examples/findings/guardduty-ssh-bruteforce.json")
	cases := map[string]string{
		"tls-none-remote":           "channels.secops.email.smtp.tls: none would send the password in clear to smtp.example.com; use starttls or tls (none is for a loopback relay) (line 7)",
		"username-without-password": "channels.secops.email.smtp.password_env: a username needs a password: set password_env or password_file (line 4)",
		"short-lease":               "state.lease: must be longer than channels.secops.email.smtp.timeout (30s), or a slow send could be taken over and sent twice (got 20s) (line 2)",
		"missing-channel":           `rules[0].channels[1]: no channel named "pager" under channels (have: secops) (line 6)`,
		"bad-state":                 "pipeline.workers: must be between 1 and 1024 (got 0) (line 4)",
		"bad-channel":               `channels.both.email.smtp.tls: must be none, starttls or tls (got "ssl") (line 4)`,
		"both-passwords":            "channels.secops.email.smtp.password_file: set either password_env or password_file, not both (line 8)",
	}
	for name, want := range cases {
		cfg := filepath.Join("testdata/config", name+".yaml")
		for _, args := range [][]string{
			{"check-config", cfg},
			{"replay", "--config", cfg, finding},
			{"replay", "--config", cfg, "--dry-run", finding},
			{"serve", "--config", cfg, "--listen", "127.0.0.1:0"},
			{"reconcile", "--config", cfg},
			{"import", "--config", cfg, finding},
			{"eventbridge-pattern", "--config", cfg},
		} {
			r := runBinary(t, configDir, "", nil, args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, want) {
				t.Errorf("%s: hubtriage %s: exit %d, want 2 with %q\nstderr: %s", name, args[0], r.code, want, r.stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(configDir, "hubtriage.db")); err == nil {
		os.Remove(filepath.Join(configDir, "hubtriage.db"))
		t.Error("a refused config created ./hubtriage.db")
	}
}

// TestStateFlagWithDynamoDBIsAUsageError: --state names a bolt file; with
// backend dynamodb it would be silently ignored.
func TestStateFlagWithDynamoDBIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "dynamo.yaml")
	if err := os.WriteFile(cfg, []byte("state: {backend: dynamodb, dynamodb: {table: hubtriage, region: us-east-1}}\nrules: [{name: all}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	finding := abs(t, "../../examples/findings/guardduty-ssh-bruteforce.json")
	for _, args := range [][]string{
		{"replay", "--config", cfg, "--state", "x.db", finding},
		{"serve", "--config", cfg, "--state", "x.db"},
		{"reconcile", "--config", cfg, "--state", "x.db"},
	} {
		r := runBinary(t, dir, "", nil, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--state names an embedded store file, but") {
			t.Errorf("hubtriage %s: exit %d, want 2 naming --state\nstderr: %s", args[0], r.code, r.stderr)
		}
	}
}

// TestLockedStateFileExits3: another process (this test) holds the bolt
// file; replay waits its timeout, then exits 3 with its own message.
func TestLockedStateFileExits3(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.db")
	st, err := bolt.Open(state, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := runBinary(t, dir, "", nil, "replay", "--config", exampleConfig(t, nil), "--state", state, "--dry-run",
		abs(t, "../../examples/findings"))
	if r.code != exitLocked || !strings.Contains(r.stderr, "locked by another process") ||
		!strings.Contains(r.stderr, "nothing was processed") || r.stdout != "" {
		t.Errorf("exit %d, want 3 with the lock message and no decisions\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestSummaryCountsMessagesSent: "alerted N (M messages)" where M is the
// number of emails that really arrived; rules without channels alert
// without a message.
func TestSummaryCountsMessagesSent(t *testing.T) {
	srv := smtptest.Start(t)
	dir := t.TempDir()
	r := runBinary(t, dir, "", nil, "replay", "--config", exampleConfig(t, srv), abs(t, "../../examples/findings"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	alerted, messages := 0, 0
	for _, d := range decisions(t, r.stdout) {
		switch d["decision"] {
		case "notify", "renotify", "recurrence":
			alerted++
			messages += len(d["channels"].([]any))
		}
	}
	if got := len(srv.Messages()); got != messages || messages == 0 || messages >= alerted {
		t.Fatalf("%d emails arrived; decisions list %d messages over %d alerts (want equal, and fewer messages than alerts in this example)", got, messages, alerted)
	}
	if want := fmt.Sprintf("alerted %d (%d messages)", alerted, messages); !strings.Contains(r.stderr, want) {
		t.Errorf("summary lacks %q:\n%s", want, r.stderr)
	}
}

func TestReplayOutputFlag(t *testing.T) {
	cfg := exampleConfig(t, nil)
	finding := abs(t, "../../examples/findings/guardduty-ssh-bruteforce.json")
	if r := runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", "--output", "yaml", finding); r.code != exitUsage ||
		!strings.Contains(r.stderr, `--output must be table or json (got "yaml")`) {
		t.Errorf("--output yaml: exit %d\n%s", r.code, r.stderr)
	}
	if r := runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", "--output", "json", finding); r.code != 0 ||
		len(decisions(t, r.stdout)) != 1 {
		t.Errorf("--output json: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestCatcherRefusesAFolderItCannotCreate: the catcher stops at once with
// a clear error rather than answering 554 to every message.
func TestCatcherRefusesAFolderItCannotCreate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, dir, "", nil, "smtp-catcher", "--listen", "127.0.0.1:0", "--dir", filepath.Join(file, "mail"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "smtp-catcher --dir") {
		t.Errorf("exit %d, want 2 naming --dir\n%s", r.code, r.stderr)
	}
}

// TestLogFlags: every command takes --log-format and --log-level; a bad
// value is a usage error.
func TestLogFlags(t *testing.T) {
	cfg := exampleConfig(t, nil)
	finding := abs(t, "../../examples/findings/guardduty-ssh-bruteforce.json")
	r := runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", "--log-format", "json", "--log-level", "debug", finding)
	var rec map[string]any
	first, _, _ := strings.Cut(r.stderr, "\n")
	if r.code != 0 || json.Unmarshal([]byte(first), &rec) != nil || rec["level"] != "DEBUG" || rec["msg"] != "replay starting" {
		t.Errorf("--log-format json --log-level debug: exit %d, first stderr line %q", r.code, first)
	}
	r = runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", finding)
	if strings.Contains(r.stderr, "replay starting") {
		t.Errorf("debug record written at the default level:\n%s", r.stderr)
	}
	for _, args := range [][]string{
		{"replay", "--config", cfg, "--log-format", "xml", finding},
		{"serve", "--config", cfg, "--log-level", "loud"},
		{"reconcile", "--config", cfg, "--log-format", "yaml"},
		{"smtp-catcher", "--log-format", "xml"},
		{"import", "--config", cfg, "--log-level", "loud", finding},
	} {
		if r := runBinary(t, "", "", nil, args...); r.code != exitUsage || !strings.Contains(r.stderr, "log ") {
			t.Errorf("hubtriage %s with a bad log flag: exit %d\n%s", args[0], r.code, r.stderr)
		}
	}
}
