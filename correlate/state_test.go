package correlate

import (
	"context"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/store/memstore"
)

// TestMergeErrorIsReturned: when the correlated finding of an open
// correlation cannot be rendered again as a new finding joins (here a
// title template that fails on three findings), Observe returns the error;
// it does not write or emit a zero state.
func TestMergeErrorIsReturned(t *testing.T) {
	var cfg Config
	if err := yaml.Unmarshal([]byte(`
rules:
  - name: fails-on-three
    join: AwsEc2Instance
    conditions:
      gd: {filter: {ProductName: [{Value: GuardDuty, Comparison: EQUALS}]}}
      insp: {filter: {ProductName: [{Value: Inspector, Comparison: EQUALS}]}}
    output: {title: "{{if gt (len .Findings) 2}}{{index .Findings 9}}{{end}}on {{.Resource.Name}}"}
`), &cfg); err != nil {
		t.Fatal(err)
	}
	compiled, errs := Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var rules []*Rule
	for _, r := range compiled {
		if r.Name == "fails-on-three" {
			rules = append(rules, r)
		}
	}
	base := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	e := New(rules, memstore.New(), Options{Now: fixed(base)})
	on := instanceOn("i-0123456789abcdef0")
	first := observeAll(t, e,
		fixture(t, "guardduty-backdoor-ec2.json", with(on, at(base.Add(-time.Hour)))),
		fixture(t, "inspector2-ec2-cve-2021-44228.json", with(on, at(base.Add(-time.Hour)))))
	if len(first) != 1 {
		t.Fatalf("%d results for two findings, want the correlation", len(first))
	}
	third := fixture(t, "inspector2-ec2-cve-2022-22965.json", with(on, at(base.Add(-time.Minute))))
	rs, err := e.Observe(context.Background(), third)
	if err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("Observe = %d results, %v; want the template's error", len(rs), err)
	}
}
