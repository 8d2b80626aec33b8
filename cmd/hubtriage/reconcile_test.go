package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"hubtriage/internal/fixtures"
	"hubtriage/internal/shtest"
)

// executeCmd runs one command the way run does (same exit codes), for
// commands given directly rather than through the root.
func executeCmd(ctx context.Context, cmd *cobra.Command, stdout, stderr *syncBuffer, args ...string) int {
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		stderr.Write([]byte("hubtriage: " + ee.Error() + "\n"))
		return ee.code
	}
	stderr.Write([]byte("hubtriage: " + err.Error() + "\n"))
	return exitUsage
}

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the JSON lines written so far, decoded.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// hubEnv points the AWS SDK at an shtest server with its credentials and
// writes a config whose state file and Security Hub are the test's.
func hubEnv(t *testing.T) (*shtest.Server, string) {
	t.Helper()
	srv := shtest.New(t)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": shtest.AccessKey, "AWS_SECRET_ACCESS_KEY": shtest.SecretKey, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": shtest.Region, "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
	} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hubtriage.yaml")
	body := "state: {path: " + filepath.Join(dir, "state.db") + "}\n" +
		"securityhub: {region: " + shtest.Region + ", endpoint: " + srv.URL + "}\n" +
		"rules: [{name: all}]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

// hubFinding is the GuardDuty fixture with Id id, UpdatedAt updated and
// top-level members replaced by set (a nil value removes the member).
func hubFinding(t *testing.T, id string, updated time.Time, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{"Id": id, "UpdatedAt": updated.UTC().Format(time.RFC3339Nano)}
	maps.Copy(m, set)
	return fixtures.Variant(t, "findings/guardduty-ssh-bruteforce.json", m)
}

func TestReconcileCommand(t *testing.T) {
	srv, cfg := hubEnv(t)
	updated := time.Now().Add(-time.Hour)
	dir := t.TempDir()
	var inputs []string
	for _, id := range []string{"active", "archived", "deleted"} {
		path := filepath.Join(dir, id+".json")
		if err := os.WriteFile(path, hubFinding(t, id, updated, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, path)
	}
	if r := execute(t, "", append([]string{"replay", "--config", cfg}, inputs...)...); r.kinds() != "notify,notify,notify" {
		t.Fatalf("replay: %d %s\n%s", r.code, r.kinds(), r.stderr)
	}
	if err := srv.Load(hubFinding(t, "active", updated, nil), hubFinding(t, "archived", updated, map[string]any{"RecordState": "ARCHIVED"})); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		args     []string
		code     int
		resolved []string
		summary  string
	}{
		{"dry run", []string{"--dry-run"}, 0, []string{"archived resolved", "deleted not_found"}, " (dry run: nothing resolved): checked 3, active 1, resolved 1, not found 1, errors 0"},
		{"real", nil, 0, []string{"archived resolved", "deleted not_found"}, ": checked 3, active 1, resolved 1, not found 1, errors 0"},
		{"again", nil, 0, nil, ": checked 1, active 1, resolved 0, not found 0, errors 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := executeCmd(context.Background(), newReconcile(), &stdout, &stderr, append([]string{"--config", cfg}, c.args...)...)
			var got []string
			for _, l := range stdout.lines(t) {
				got = append(got, l["finding_id"].(string)+" "+l["decision"].(string))
			}
			if code != c.code || strings.Join(got, ",") != strings.Join(c.resolved, ",") {
				t.Errorf("exit %d, resolved %v; want %d, %v\n%s", code, got, c.code, c.resolved, stderr.String())
			}
			if !strings.Contains(stderr.String(), "reconcile summary"+c.summary) {
				t.Errorf("stderr lacks the summary %q:\n%s", c.summary, stderr.String())
			}
		})
	}

	// Security Hub refuses the lookup: exit 1, the finding is kept.
	srv.FailRequests(shtest.GetFindings, 1, http.StatusBadRequest, "InvalidInputException")
	var stdout, stderr syncBuffer
	if code := executeCmd(context.Background(), newReconcile(), &stdout, &stderr, "--config", cfg); code != exitPartial ||
		!strings.Contains(stderr.String(), "errors 1") {
		t.Errorf("failed lookup: exit %d; want 1 and an error counted\n%s", code, stderr.String())
	}
}

func TestReconcileUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no config": {},
		"bad now":   {"--config", "x.yaml", "--now", "yesterday"},
		"no file":   {"--config", filepath.Join(t.TempDir(), "missing.yaml")},
		"arguments": {"--config", "x.yaml", "extra"},
	} {
		var stdout, stderr syncBuffer
		if code := executeCmd(context.Background(), newReconcile(), &stdout, &stderr, args...); code != exitUsage {
			t.Errorf("%s: exit %d, want 2\n%s", name, code, stderr.String())
		}
	}
}
