package rulecheck

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedRuleTests runs the rule tests shipped for the built-in rules.
func TestShippedRuleTests(t *testing.T) {
	files, err := filepath.Glob("../testdata/rules/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var out bytes.Buffer
			failed, err := Run(context.Background(), []string{f}, &out)
			if err != nil || failed > 0 {
				t.Errorf("%d failed, err %v:\n%s", failed, err, out.String())
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/failing.out")

// TestFailingExpectationsPrintADiff: a failing test prints what was
// expected and what the engine produced, line by line.
func TestFailingExpectationsPrintADiff(t *testing.T) {
	var out bytes.Buffer
	failed, err := Run(context.Background(), []string{"testdata/failing.yaml"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if failed != 4 {
		t.Errorf("failed = %d, want 4", failed)
	}
	golden := filepath.Join("testdata", "failing.out")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("report differs from %s (go test -update rewrites it):\n%s", golden, out.String())
	}
}

func TestUserRulesFromAConfigFile(t *testing.T) {
	var out bytes.Buffer
	failed, err := Run(context.Background(), []string{"testdata/custom-rule-test.yaml"}, &out)
	if err != nil || failed != 0 {
		t.Errorf("failed %d, err %v:\n%s", failed, err, out.String())
	}
}

// TestBrokenTestFilesAreErrors: a file that cannot be run is an error
// naming the file and the problem, and counts as a failure.
func TestBrokenTestFilesAreErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ src, want string }{
		"unknown-key": {"tests:\n  - name: x\n    at: 2024-05-20T12:00:00Z\n    inputs: []\n", "tests[0].inputs: unknown key (expected one of name, at, input, expect) (line 4)"},
		"bad-time":    {"tests:\n  - name: x\n    at: yesterday\n    input: [{file: a.json}]\n", `tests[0].at: must be an RFC 3339 time like 2024-05-20T12:00:00Z (got "yesterday")`},
		"no-input":    {"tests:\n  - name: x\n    at: 2024-05-20T12:00:00Z\n", "tests[0].input: no input (x) (line 2)"},
		"both-inputs": {"tests:\n  - at: 2024-05-20T12:00:00Z\n    input: [{file: a.json, finding: {Id: x}}]\n", "tests[0].input[0]: give exactly one of file or finding"},
		"bad-rules": {"correlation:\n  rules:\n    - {name: r, join: AwsEc2Instance, conditions: {a: {filter: {Type: [{Value: x, Comparison: LIKE}]}}}}\n" +
			"tests:\n  - at: 2024-05-20T12:00:00Z\n    input: [{file: a.json}]\n", "rules under test: correlation.rules[0].conditions.a.filter.Type[0].Comparison"},
		"missing-file": {"tests:\n  - at: 2024-05-20T12:00:00Z\n    input: [{file: nowhere.json}]\n", "input[0]: open"},
		"no-tests":     {"config: x.yaml\n", "no tests"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		failed, err := Run(context.Background(), []string{p}, &out)
		if failed == 0 || (err == nil && !strings.Contains(out.String(), c.want)) || (err != nil && !strings.Contains(err.Error()+out.String(), c.want)) {
			t.Errorf("%s: failed %d, err %v, output:\n%s\nwant it to mention %q", name, failed, err, out.String(), c.want)
		}
	}
}
