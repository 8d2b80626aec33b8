package rulestest

import (
	"bytes"
	"context"
	"path/filepath"
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
