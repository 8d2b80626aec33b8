// Package filtertest builds filters for tests from the JSON (or YAML) text
// `aws securityhub get-findings --filters` takes, the way the config loader
// parses a rule's filter.
package filtertest

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"

	"hubtriage/filter"
)

// Parse parses src (JSON or YAML) with filter.FromYAML; an empty src is the
// filter that matches everything.
func Parse(src []byte) (*filter.Filters, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	f, errs := filter.FromYAML(&n)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// Must is Parse that fails the test on an error.
func Must(t testing.TB, src string) *filter.Filters {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("filter %s: %v", src, err)
	}
	return f
}
