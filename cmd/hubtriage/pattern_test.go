package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEventBridgePatternCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := `rules:
  - name: high
    filter:
      SeverityLabel: [{Value: HIGH, Comparison: EQUALS}]
      UpdatedAt: [{DateRange: {Value: 7, Unit: DAYS}}]
correlation: {enabled: false}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := newEventBridgePattern()
	cmd.SetArgs([]string{"--config", path, "--compact", "--skip-inactive"})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := `{"detail":{"findings":{"Severity":{"Label":["HIGH"]}}},"detail-type":["Security Hub Findings - Imported"],"source":["aws.securityhub"]}` + "\n"
	if stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "note: rule high: UpdatedAt: left to the Lambda") {
		t.Errorf("stderr %q, want a note about UpdatedAt", stderr.String())
	}

	stdout.Reset()
	cmd = newEventBridgePattern()
	cmd.SetArgs([]string{"--config", path})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || !strings.Contains(stdout.String(), "\n  ") {
		t.Fatalf("indented output %q is not indented JSON: %v", stdout.String(), err)
	}
	if !strings.Contains(stdout.String(), `"PASSED"`) {
		t.Error("without --skip-inactive the pattern must let PASSED findings through")
	}
}

// TestEventBridgePatternForCorrelation: with the built-in correlation rules
// on (the default), the pattern also lets through the findings their
// conditions select and GuardDuty's own events naming security groups.
func TestEventBridgePatternForCorrelation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	if err := os.WriteFile(path, []byte("rules: [{name: high, filter: {SeverityLabel: [{Value: HIGH, Comparison: EQUALS}]}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := newEventBridgePattern()
	cmd.SetArgs([]string{"--config", path, "--compact"})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"source":["aws.guardduty"]`, `"detail-type":["GuardDuty Finding"]`, `"EC2.19"`, `"PCI.EC2.5"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("pattern %s lacks %s", stdout.String(), want)
		}
	}
}

func TestEventBridgePatternBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newEventBridgePattern()
	cmd.SetArgs([]string{"--config", path})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("err = %v, want a usage error", err)
	}
}

// TestEventBridgePatternSplitsPastTheQuota runs the command on a config
// whose pattern exceeds EventBridge's default 2,048 characters: it prints
// several compact patterns, one per line, each within the quota, and says
// so on stderr; a --max-length above its length (a raised quota) gives one.
func TestEventBridgePatternSplitsPastTheQuota(t *testing.T) {
	path := filepath.Join("..", "..", "eventpattern", "testdata", "config", "tenrules.yaml")
	run := func(args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := newEventBridgePattern()
		cmd.SetArgs(append([]string{"--config", path, "--compact"}, args...))
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String()
	}
	out, errOut := run()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 || !strings.Contains(errOut, "split into "+strconv.Itoa(len(lines))+" patterns") {
		t.Fatalf("%d patterns, stderr %q; want the pattern split and the split reported", len(lines), errOut)
	}
	for i, l := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil || doc["detail-type"] == nil {
			t.Errorf("line %d is not an event pattern: %v", i+1, err)
		}
		if n := utf8.RuneCountInString(l); n > 2048 {
			t.Errorf("line %d is %d characters, over EventBridge's default quota", i+1, n)
		}
	}
	if out, _ := run("--max-length", "100000"); strings.Count(out, "\n") != 1 {
		t.Errorf("with --max-length 100000: %q, want one pattern", out)
	}
}

// TestEventBridgePatternV2: --findings-v2 derives the pattern for the new
// Security Hub's events from the rules' ocsf_filter.
func TestEventBridgePatternV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := `rules:
  - name: critical
    ocsf_filter:
      CompositeFilters:
        - StringFilters: [{FieldName: severity, Filter: {Value: Critical, Comparison: EQUALS}}]
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := newEventBridgePattern()
	cmd.SetArgs([]string{"--config", path, "--compact", "--skip-inactive", "--findings-v2"})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := `{"detail":{"findings":{"severity":["Critical"]}},"detail-type":["Findings Imported V2"],"source":["aws.securityhub"]}` + "\n"
	if stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q; want %q", stdout.String(), stderr.String(), want)
	}
}
