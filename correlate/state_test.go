package correlate

import (
	"context"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/store/memstore"
)

// twoProducts is a rule correlating GuardDuty and Inspector findings on
// an instance, with the given title template.
func twoProducts(t *testing.T, title string) []*Rule {
	t.Helper()
	var cfg Config
	if err := yaml.Unmarshal([]byte(`
rules:
  - name: two-products
    join: AwsEc2Instance
    conditions:
      gd: {filter: {ProductName: [{Value: GuardDuty, Comparison: EQUALS}]}}
      insp: {filter: {ProductName: [{Value: Inspector, Comparison: EQUALS}]}}
    output: {title: '`+title+`'}
`), &cfg); err != nil {
		t.Fatal(err)
	}
	compiled, errs := Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, r := range compiled {
		if r.Name == "two-products" {
			return []*Rule{r}
		}
	}
	t.Fatal("rule not compiled")
	return nil
}

// TestMergeErrorIsReturned: when the correlated finding of an open
// correlation cannot be rendered again as a new finding joins (here a
// title template that fails on three findings), Observe returns the error;
// it does not write or emit a zero state.
func TestMergeErrorIsReturned(t *testing.T) {
	rules := twoProducts(t, "{{if gt (len .Findings) 2}}{{index .Findings 9}}{{end}}on {{.Resource.Name}}")
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

// TestAgedOutCorrelationIsArchived: a correlation whose contributing
// findings all leave the window is archived by the next Settle after
// that, although nothing on its resource is observed again; and only
// once.
func TestAgedOutCorrelationIsArchived(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			base := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
			clock := base
			now := func() time.Time { return clock }
			e := New(twoProducts(t, "on {{.Resource.Name}}"), b.open(t), Options{Now: now, Defer: true})
			on := instanceOn("i-0123456789abcdef0")
			observeAll(t, e,
				fixture(t, "guardduty-backdoor-ec2.json", with(on, at(base.Add(-time.Hour)))),
				fixture(t, "inspector2-ec2-cve-2021-44228.json", with(on, at(base.Add(-time.Hour)))))
			ctx := context.Background()
			opened, err := e.Settle(ctx)
			if err != nil || len(opened) != 1 || opened[0].Archived {
				t.Fatalf("first Settle = %+v, %v; want one open correlation", opened, err)
			}
			rule := e.byName[opened[0].Rule]
			clock = base.Add(rule.Window / 2)
			if rs, err := e.Settle(ctx); err != nil || len(rs) != 0 {
				t.Fatalf("Settle within the window = %d results, %v; want none", len(rs), err)
			}
			clock = base.Add(rule.Window + time.Hour)
			rs, err := e.Settle(ctx)
			if err != nil || len(rs) != 1 || !rs[0].Archived || rs[0].Correlated.RecordState != "ARCHIVED" {
				t.Fatalf("Settle after the window = %+v, %v; want the correlation archived", rs, err)
			}
			if rs, err := e.Settle(ctx); err != nil || len(rs) != 0 {
				t.Fatalf("Settle again = %d results, %v; want none", len(rs), err)
			}
		})
	}
}
