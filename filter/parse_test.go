package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"hubtriage/asff"
	"hubtriage/internal/fixtures/asfftest"

	"gopkg.in/yaml.v3"
)

// fromYAMLString parses src and runs FromYAML on its document.
// fromJSON parses a filter as `aws securityhub get-findings --filters`
// takes it, through FromYAML like a rule's filter in the config.
func fromJSON(b []byte) (*Filters, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	f, errs := FromYAML(&n)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func fromYAMLString(t *testing.T, src string) (*Filters, []error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return FromYAML(&n)
}

// errorStrings renders errors for comparison.
func errorStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func TestParseReportsEveryError(t *testing.T) {
	src := `SeverityLabel:
  - Value: CRITICAL
    Comparison: EQUALS
  - Value: HIGH
    Comparison: EQUAL
Title:
  - Value: x
    Comparison: CONTAINS
  - Value: y
    Comparison: NOT_CONTAINS
SeverityNormalized:
  - Gte: "70"
  - {}
UpdatedAt:
  - DateRange: {Value: 7, Unit: days}
  - Start: yesterday
  - DateRange: {Value: 7, Unit: DAYS}
    End: 2024-01-01T00:00:00Z
  - DateRange: {Value: -1, Unit: DAYS, Comparison: BEFORE}
ResourceTags:
  - Key: Env
    Value: prod
    Comparision: EQUALS
severityLabel: []
VulnerabilitiesId:
  - Value: CVE-2021-44228
    Comparison: EQUALS
RecordState:
  - Value: active
    Comparison: EQUALS
Id: {Value: x, Comparison: EQUALS}
WorkflowStatus:
  - Value: ""
    Comparison: NOT_EQUALS
  - Comparison: NOT_EQUALS
  - Value: NEW
    Comparison: EQUALS
NetworkSourceIpV4:
  - Cidr: 10.0.0.0/33
  - Cidr: 10.0.0.0/8
CreatedAt:
  - Start: 2024-02-01T00:00:00Z
    End: 2024-01-01T00:00:00Z
Title:
  - Value: z
    Comparison: EQUALS
`
	want := []string{
		`SeverityLabel[1].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD (got "EQUAL") (line 5)`,
		`Title[1].Comparison: NOT_CONTAINS cannot be combined with CONTAINS (Title[0]) on the same field: Security Hub rejects it (line 10)`,
		`SeverityNormalized[0].Gte: must be a number (got "70") (line 12)`,
		`SeverityNormalized[1]: needs at least one of Eq, Gt, Gte, Lt, Lte (line 13)`,
		`UpdatedAt[0].DateRange.Unit: must be DAYS (got "days"); did you mean "DAYS"? (line 15)`,
		`UpdatedAt[1].Start: must be an RFC 3339 timestamp like 2024-05-01T00:00:00Z (got "yesterday") (line 16)`,
		`UpdatedAt[2].DateRange: give either DateRange or Start/End, not both (line 17)`,
		`UpdatedAt[3].DateRange.Value: must be a positive number of days (got -1) (line 19)`,
		`UpdatedAt[3].DateRange.Comparison: must be one of WITHIN, OLDER_THAN (got "BEFORE") (line 19)`,
		`ResourceTags[0].Comparison: required; one of EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS (line 21)`,
		`ResourceTags[0].Comparision: unknown key; must be one of Key, Value, Comparison (got "Comparision") (line 23)`,
		`severityLabel: unknown filter field "severityLabel"; did you mean "SeverityLabel"? (line 24)`,
		`VulnerabilitiesId: unknown filter field "VulnerabilitiesId" (line 25)`,
		`RecordState[0].Value: must be one of ACTIVE, ARCHIVED (got "active"); did you mean "ACTIVE"? (line 29)`,
		`Id: must be a list of StringFilter objects (got an object) (line 31)`,
		`WorkflowStatus[0].Value: must not be empty (line 33)`,
		`WorkflowStatus[1].Value: required (line 35)`,
		`WorkflowStatus[2].Comparison: EQUALS cannot be combined with NOT_EQUALS (WorkflowStatus[0]) on the same field: Security Hub rejects it (line 37)`,
		`NetworkSourceIpV4[0].Cidr: must be a CIDR block like 10.0.0.0/8 or an address (got "10.0.0.0/33") (line 39)`,
		`CreatedAt[0].End: is before Start, so nothing can match (line 43)`,
		`Title: field given twice; put all its filters in one list (line 44)`,
	}
	f, errs := fromYAMLString(t, src)
	if f != nil {
		t.Error("FromYAML returned a filter along with errors")
	}
	if got := errorStrings(errs); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || fe.Line == 0 {
			t.Errorf("%v: not a *FieldError with a line", e)
		}
	}
}

func TestUnknownFields(t *testing.T) {
	for _, name := range []string{"VulnerabilitiesId", "Severity", "Filters"} {
		t.Run(name, func(t *testing.T) {
			_, err := fromJSON([]byte(`{"` + name + `": [{"Value": "x", "Comparison": "EQUALS"}]}`))
			if !errors.Is(err, ErrUnknownField) {
				t.Fatalf("error %v, want ErrUnknownField", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != name || fe.Line != 1 {
				t.Errorf("error %#v does not name field %s at line 1", fe, name)
			}
		})
	}
	_, err := fromJSON([]byte(`{"Filters": {"Id": []}}`))
	if err == nil || !strings.Contains(err.Error(), "give the value of --filters, not the whole request") {
		t.Errorf("pasting a whole request gave %v", err)
	}
	if _, err := fromJSON([]byte(`{"severityLabel": []}`)); err == nil || !strings.Contains(err.Error(), `did you mean "SeverityLabel"?`) {
		t.Errorf("a field in the wrong case gave %v", err)
	}
}

func TestJSONErrorsHaveLines(t *testing.T) {
	src := "{\n  \"SeverityLabel\": [\n    {\"Value\": \"HIGH\",\n     \"Comparison\": \"EQAULS\"}\n  ],\n  \"UpdatedAt\": [{\"DateRange\": {\"Value\": 7}}]\n}"
	_, err := fromJSON([]byte(src))
	want := []string{
		`SeverityLabel[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD (got "EQAULS") (line 4)`,
		`UpdatedAt[0].DateRange.Unit: required; must be DAYS (line 6)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// cliFilter is a filter as passed to `aws securityhub get-findings --filters`.
const cliFilter = `{
    "ProductName": [{"Value": "Security Hub", "Comparison": "EQUALS"}],
    "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}, {"Value": "NOTIFIED", "Comparison": "EQUALS"}],
    "SeverityNormalized": [{"Gte": 40, "Lte": 100}],
    "UpdatedAt": [{"Start": "2024-07-01T00:00:00.000Z", "End": "2025-05-01T00:00:00Z"}],
    "ResourceType": [{"Value": "AwsS3", "Comparison": "PREFIX"}, {"Value": "AwsEc2Instance", "Comparison": "EQUALS"}],
    "ResourceTags": [{"Key": "ManagedBy", "Value": "Terraform", "Comparison": "NOT_EQUALS"}]
}`

func TestCLIJSON(t *testing.T) {
	f := mustJSON(t, cliFilter)
	mixed := asfftest.Array(t, "arrays/findingsmanager-19-mixed.json")
	// S3.8 and S3.9 on the CFN and Pulumi buckets, SSM.1 on three instances. Out: the Terraform-managed
	// bucket (tag), LOW controls (Normalized 1), Inspector (ARCHIVED), Health (product), the GuardDuty
	// detector, Macie.1 and EC2.172 (resource types) — independently checked with a Python one-off.
	want := []int{0, 1, 3, 4, 16, 17, 18}
	if got := matching(f, mixed, now); !equalInts(got, want) {
		t.Errorf("filter matched %v, want %v", got, want)
	}
}

func TestYAMLEmbeddedInConfig(t *testing.T) {
	src := `rules:
  - name: critical
    filter:
      SeverityLabel:
        - {Value: CRITICAL, Comparison: EQUALS}
      AwsAccountId:
        - Value: 012345678901
          Comparison: EQUALS
  - name: broken
    filter:
      Title: [{Value: x, Comparison: LIKE}]
`
	var doc struct {
		Rules []struct {
			Filter yaml.Node `yaml:"filter"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	f, errs := FromYAML(&doc.Rules[0].Filter)
	if len(errs) > 0 {
		t.Fatalf("rules[0]: %v", errs)
	}
	x := &asff.Finding{AwsAccountID: "012345678901", Severity: asff.Severity{Label: "CRITICAL"}}
	if !f.Match(x, now) {
		t.Error("unquoted YAML account id lost its leading zero")
	}
	_, errs = FromYAML(&doc.Rules[1].Filter)
	var fe *FieldError
	if len(errs) != 1 || !errors.As(errs[0], &fe) {
		t.Fatalf("rules[1]: got %v, want one *FieldError", errs)
	}
	want := `rules[1].filter.Title[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD (got "LIKE") (line 11)`
	if got := fe.Prefixed("rules[1].filter").Error(); got != want {
		t.Errorf("prefixed error\n%s\nwant\n%s", got, want)
	}
}

func TestYAMLNullAndAliases(t *testing.T) {
	var doc struct {
		Filter yaml.Node `yaml:"filter"`
	}
	if err := yaml.Unmarshal([]byte("filter:\n"), &doc); err != nil {
		t.Fatal(err)
	}
	f, errs := FromYAML(&doc.Filter)
	if len(errs) > 0 || !f.Empty() || !f.Match(sshFinding(), now) {
		t.Errorf("a null filter must be empty and match everything (errors %v)", errs)
	}
	_, errs = fromYAMLString(t, `
high: &high {Value: HIGH, Comparison: EQUALS}
`)
	if len(errs) != 1 {
		t.Errorf("unknown top-level key must be an error, got %v", errs)
	}
	var withAlias struct {
		Common yaml.Node `yaml:"common"`
		Filter yaml.Node `yaml:"filter"`
	}
	src := "common: &high {Value: LOW, Comparison: EQUALS}\nfilter:\n  SeverityLabel: [*high]\n"
	if err := yaml.Unmarshal([]byte(src), &withAlias); err != nil {
		t.Fatal(err)
	}
	f, errs = FromYAML(&withAlias.Filter)
	if len(errs) > 0 || !f.Match(sshFinding(), now) {
		t.Errorf("aliased entry did not work (errors %v)", errs)
	}
}

func TestPrefixed(t *testing.T) {
	cases := []struct{ path, prefix, want string }{
		{"Id[0].Value", "rules[0].filter", "rules[0].filter.Id[0].Value"},
		{"", "rules[0].filter", "rules[0].filter"},
		{"[2]", "list", "list[2]"},
		{"Id", "", "Id"},
	}
	for _, c := range cases {
		e := &FieldError{Path: c.path, Line: 3, Msg: "bad"}
		if got := e.Prefixed(c.prefix); got.Path != c.want || e.Path != c.path {
			t.Errorf("Prefixed(%q) of %q = %q (original now %q), want %q", c.prefix, c.path, got.Path, e.Path, c.want)
		}
	}
}

func TestMalformedShapesGiveOneErrorEach(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"SeverityLabel":["HIGH"]}`, `SeverityLabel[0]: must be a StringFilter object (got "HIGH") (line 1)`},
		{`{"SeverityNormalized":[70]}`, `SeverityNormalized[0]: must be a NumberFilter object (got 70) (line 1)`},
		{`{"UpdatedAt":[{"DateRange":7}]}`, `UpdatedAt[0].DateRange: must be an object like {Value: 7, Unit: DAYS} (got 7) (line 1)`},
		{`{"UpdatedAt":[{"DateRange":{"Value":"7","Unit":"DAYS"}}]}`, `UpdatedAt[0].DateRange.Value: must be a whole number (got "7") (line 1)`},
		{`{"ResourceTags":[{"Key":{"a":1},"Value":"x","Comparison":"EQUALS"}]}`, `ResourceTags[0].Key: must be a string (got an object) (line 1)`},
		{`{"ResourceTags":[{"Value":"x","Comparison":"EQUALS"}]}`, `ResourceTags[0].Key: required (line 1)`},
		{`{"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS","Comparison":"PREFIX"}]}`, `SeverityLabel[0].Comparison: key given twice (line 1)`},
		{`["x"]`, `a filter must be a mapping of AwsSecurityFindingFilters field names to lists (got a list) (line 1)`},
		{`{"SeverityLabel":null}`, `SeverityLabel: must be a list of StringFilter objects (got null) (line 1)`},
		{`{"CreatedAt":[{}]}`, `CreatedAt[0]: needs Start and/or End, or DateRange (line 1)`},
	}
	for _, c := range cases {
		_, err := fromJSON([]byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("fromJSON(%s):\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}
