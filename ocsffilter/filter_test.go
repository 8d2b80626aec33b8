package ocsffilter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/asff"
	"hubtriage/filter"
	"hubtriage/internal/fixtures"
)

// samples decodes every real OCSF sample, keyed by a short name: the file
// name without its source prefix and extension, plus #i for pages.
func samples(t *testing.T) map[string]*asff.Finding {
	t.Helper()
	dir := filepath.Join(filepath.Dir(fixtures.Dir(t)), "ocsf")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := map[string]*asff.Finding{}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		err = asff.Stream(t.Context(), p, f, asff.Options{Workers: 1}, func(r asff.Result) error {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			out[strings.TrimSuffix(filepath.Base(p), ".json")+"#"+string(rune('0'+i))] = r.Finding
			i++
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func compile(t *testing.T, src string) *Filter {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	f, errs := FromYAML(&n)
	if len(errs) > 0 {
		t.Fatalf("compile %s: %v", src, errs)
	}
	return f
}

// matching returns the names of the samples f matches, sorted.
func matching(f *Filter, all map[string]*asff.Finding, now time.Time) []string {
	var out []string
	for name, x := range all {
		if f.Match(x, now) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

var now = time.Date(2025, 10, 10, 0, 0, 0, 0, time.UTC)

func TestMatchOnRealSamples(t *testing.T) {
	all := samples(t)
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"string EQUALS (JSON as the console shows it)",
			`{"CompositeFilters":[{"StringFilters":[{"FieldName":"severity","Filter":{"Value":"Critical","Comparison":"EQUALS"}}]}]}`,
			[]string{"cruxstack-2003-cspm-config.1#0", "docs-exposure-finding-2004-lambda#0"}},
		{"OR inside a composite filter", `
CompositeFilters:
  - Operator: OR
    StringFilters:
      - {FieldName: compliance.control, Filter: {Value: SQS.1, Comparison: EQUALS}}
      - {FieldName: compliance.control, Filter: {Value: SSM., Comparison: PREFIX}}`,
			[]string{"elastic-getfindingsv2-page1-2003-sqs#1", "elastic-getfindingsv2-page3-last-2003-ssm#0"}},
		{"AND across composite filters, number and list field", `
CompositeOperator: AND
CompositeFilters:
  - NumberFilters: [{FieldName: severity_id, Filter: {Gte: 3}}]
  - StringFilters: [{FieldName: finding_info.types, Filter: {Value: Vulnerabilities, Comparison: CONTAINS}}]`,
			[]string{"elastic-2002-inspector-ec2-cve-2021-47412#0", "elastic-2002-inspector-ec2-cve-2025-8194-unicode#0", "elastic-2002-inspector-lambda-cve-2025-47906#0"}},
		{"negative comparison over every resource", `
CompositeFilters:
  - StringFilters:
      - {FieldName: resources.type, Filter: {Value: "AWS::EC2::", Comparison: PREFIX_NOT_EQUALS}}
      - {FieldName: metadata.product.name, Filter: {Value: GuardDuty, Comparison: EQUALS}}`,
			[]string{"sumologic-imported-v2-event-guardduty-2004-suppressed#0"}},
		{"map filter on resource tags", `
CompositeFilters:
  - MapFilters: [{FieldName: resources.tags, Filter: {Key: Name, Value: example-action-runner, Comparison: EQUALS}}]`,
			[]string{"cruxstack-2004-guardduty-runtime-newbinaryexecuted#0"}},
		{"boolean and nested OR", `
CompositeFilters:
  - BooleanFilters: [{FieldName: vulnerabilities.is_fix_available, Filter: {Value: true}}]
    NestedCompositeFilters:
      - Operator: OR
        StringFilters:
          - {FieldName: cloud.region, Filter: {Value: us-east-2, Comparison: EQUALS}}
          - {FieldName: cloud.region, Filter: {Value: eu-west-1, Comparison: EQUALS}}`,
			[]string{"elastic-2002-inspector-ec2-cve-2021-47412#0", "elastic-2002-inspector-ec2-cve-2025-8194-unicode#0", "elastic-2002-inspector-lambda-cve-2025-47906#0"}},
		{"date range and absolute dates", `
CompositeFilters:
  - DateFilters:
      - {FieldName: finding_info.modified_time_dt, Filter: {DateRange: {Value: 20, Unit: DAYS, Comparison: WITHIN}}}
      - {FieldName: finding_info.modified_time_dt, Filter: {Start: "2025-09-26T08:00:00Z", End: "2025-09-26T12:00:00Z"}}`,
			[]string{"elastic-2003-cspm-redshift.3-resolved#0", "elastic-getfindingsv2-page3-last-2003-ssm#0"}},
		{"CONTAINS_WORD", `
CompositeFilters:
  - StringFilters: [{FieldName: finding_info.title, Filter: {Value: kernel, Comparison: CONTAINS_WORD}}]`,
			[]string{"elastic-2002-inspector-ec2-cve-2021-47412#0"}},
		{"activity Close matches nothing here", `
CompositeFilters:
  - StringFilters: [{FieldName: activity_name, Filter: {Value: Close, Comparison: EQUALS}}]`,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matching(compile(t, tt.filter), all, now)
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %q\nwant    %q", got, tt.want)
			}
		})
	}
}

// TestASFFFindingsNeverMatch: an ocsf_filter reads OCSF fields, which an
// ASFF finding does not have; even a filter any OCSF finding matches
// leaves ASFF out. A nil filter matches both.
func TestASFFFindingsNeverMatch(t *testing.T) {
	x, err := asff.DecodeFinding(fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := compile(t, `{CompositeFilters: [{StringFilters: [{FieldName: severity, Filter: {Value: nothing, Comparison: NOT_EQUALS}}]}]}`)
	if f.Match(x, now) {
		t.Error("an ASFF finding matched an ocsf_filter")
	}
	if !(*Filter)(nil).Match(x, now) {
		t.Error("nil filter must match")
	}
}

// TestConfigErrorsNameTheField: unknown field names, comparisons, keys and
// kinds are errors naming the path and line.
func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct{ src, path, msg string }{
		{`{CompositeFilters: [{StringFilters: [{FieldName: severty, Filter: {Value: x, Comparison: EQUALS}}]}]}`,
			"CompositeFilters[0].StringFilters[0].FieldName", `unknown OCSF string field "severty"`},
		{`{CompositeFilters: [{StringFilters: [{FieldName: severity_id, Filter: {Value: x, Comparison: EQUALS}}]}]}`,
			"CompositeFilters[0].StringFilters[0].FieldName", `unknown OCSF string field "severity_id"`},
		{`{CompositeFilters: [{StringFilters: [{FieldName: severity, Filter: {Value: x, Comparison: LIKE}}]}]}`,
			"CompositeFilters[0].StringFilters[0].Filter.Comparison", `unknown comparison "LIKE"`},
		{`{CompositeFilters: [{NumberFilters: [{FieldName: severity_id, Filter: {Gte: high}}]}]}`,
			"CompositeFilters[0].NumberFilters[0].Filter.Gte", `must be a number`},
		{`{CompositeOperator: XOR, CompositeFilters: []}`, "CompositeOperator", `unknown operator "XOR"`},
		{`{CompositeFilters: [{StringFilter: []}]}`, "CompositeFilters[0].StringFilter", `unknown key`},
		{`{CompositeFilters: [{DateFilters: [{FieldName: finding_info.created_time_dt, Filter: {Start: yesterday}}]}]}`,
			"CompositeFilters[0].DateFilters[0].Filter.Start", `must be an RFC 3339 time`},
		{`{CompositeFilters: [{MapFilters: [{FieldName: resources.tags, Filter: {Value: x, Comparison: EQUALS}}]}]}`,
			"CompositeFilters[0].MapFilters[0].Filter", `Key is required`},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.src), &n); err != nil {
			t.Fatal(err)
		}
		_, errs := FromYAML(&n)
		var fe *filter.FieldError
		if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Path != tt.path || !strings.Contains(fe.Msg, tt.msg) || fe.Line != 1 {
			t.Errorf("%s:\n got %v\n want one error at %s saying %q", tt.src, errs, tt.path, tt.msg)
		}
	}
}

// TestSDKRoundTrip: the filter converted for GetFindingsV2 push-down, read
// back from its JSON, selects the same real findings.
func TestSDKRoundTrip(t *testing.T) {
	all := samples(t)
	src := `{"CompositeOperator":"OR","CompositeFilters":[
		{"Operator":"AND","StringFilters":[{"FieldName":"compliance.control","Filter":{"Value":"SQS.","Comparison":"PREFIX"}}],
		 "NumberFilters":[{"FieldName":"severity_id","Filter":{"Gte":3,"Lt":5}}]},
		{"BooleanFilters":[{"FieldName":"vulnerabilities.is_fix_available","Filter":{"Value":true}}],
		 "DateFilters":[{"FieldName":"finding_info.modified_time_dt","Filter":{"DateRange":{"Value":30,"Unit":"DAYS","Comparison":"WITHIN"}}}],
		 "MapFilters":[{"FieldName":"resources.tags","Filter":{"Key":"eks:cluster-name","Value":"demo_prod","Comparison":"EQUALS"}}],
		 "NestedCompositeFilters":[{"Operator":"OR","StringFilters":[{"FieldName":"cloud.region","Filter":{"Value":"us-east-2","Comparison":"EQUALS"}}]}]}]}`
	f, err := FromJSON([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f.SDK())
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromJSON(b)
	if err != nil {
		t.Fatalf("SDK form %s does not compile: %v", b, err)
	}
	want, got := matching(f, all, now), matching(back, all, now)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("round trip matches %v, original %v", got, want)
	}
}
