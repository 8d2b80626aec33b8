package correlate

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// parseConfig decodes a correlation section written as YAML.
func parseConfig(t *testing.T, src string) Config {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	cfg, err := DecodeConfig(&n)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const goodRule = `
rules:
  - name: my-rule
    join: AwsEc2Instance
    conditions:
      a:
        filter: {SeverityLabel: [{Value: CRITICAL, Comparison: EQUALS}]}
`

func TestCompileBuiltinsAreOnByDefaultAndCanBeTurnedOff(t *testing.T) {
	rules, errs := Compile(Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
		if !r.Builtin || r.Window != DefaultWindow {
			t.Errorf("%s: builtin %v window %s", r.Name, r.Builtin, r.Window)
		}
	}
	want := "ec2-backdoor-critical-cves s3-sensitive-data-exfiltration ec2-exposed-instance-under-attack"
	if strings.Join(names, " ") != want {
		t.Errorf("built-ins = %v, want %s", names, want)
	}
	cfg := parseConfig(t, "builtins: {s3-sensitive-data-exfiltration: false, ec2-backdoor-critical-cves: true}\n"+goodRule)
	rules, errs = Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	names = nil
	for _, r := range rules {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "ec2-backdoor-critical-cves ec2-exposed-instance-under-attack my-rule" {
		t.Errorf("rules = %v", names)
	}
	if rules[2].Conditions[0].MinCount != 1 {
		t.Errorf("default min_count = %d, want 1", rules[2].Conditions[0].MinCount)
	}
}

// TestCompileErrorsNameTheFieldPath: every mistake is reported, with the
// config path of the field and the bad value.
func TestCompileErrorsNameTheFieldPath(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"min_count", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions:
      backdoor:
        filter: {Type: [{Value: "TTPs/", Comparison: PREFIX}]}
        min_count: -2
`, []string{"correlation.rules[0].conditions.backdoor.min_count: must be at least 1 (got -2)"}},
		{"window", `
rules:
  - name: r
    join: AwsEc2Instance
    window: thirty days
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}}}
`, []string{`correlation.rules[0].window: must be a duration like 15d, 2w or 36h (got "thirty days")`}},
		{"filter field", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {filter: {SeverityLable: [{Value: HIGH, Comparison: EQUALS}]}}}
`, []string{`correlation.rules[0].conditions.a.filter.SeverityLable: unknown filter field "SeverityLable"`}},
		{"empty filter", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {filter: {}}}
`, []string{"correlation.rules[0].conditions.a.filter: an empty filter would match every finding"}},
		{"missing filter", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {min_count: 2}}
`, []string{"correlation.rules[0].conditions.a.filter: a condition needs a filter"}},
		{"distinct_by", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}, distinct_by: "Vulnerabilites[].Id"}}
`, []string{`correlation.rules[0].conditions.a.distinct_by: "Vulnerabilites" is not an ASFF finding field`}},
		{"via", `
rules:
  - name: r
    join: AwsS3Bucket
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}, via: AwsEc2SecurityGroup}}
`, []string{`correlation.rules[0].conditions.a.via: hubtriage can relate AwsEc2Instance to AwsEc2SecurityGroup only`}},
		{"template", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}}}
    output: {title: "{{len .Conditions.b}} findings", description: "{{.Nope}}"}
`, []string{`correlation.rules[0].output.title: template: title:1:17: executing "title" at <.Conditions.b>: map has no entry for key "b"`,
			`correlation.rules[0].output.description: template: description:1:2: executing "description" at <.Nope>: can't evaluate field Nope`}},
		{"output fields", `
rules:
  - name: r
    join: AwsEc2Instance
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}}}
    output: {severity: critical, types: ["Correlations/x"], remediation: {url: "docs/page"}}
`, []string{`correlation.rules[0].output.severity: must be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL (got "critical")`,
			`correlation.rules[0].output.types[0]: must be namespace/category/classifier`,
			`correlation.rules[0].output.remediation.url: must be an absolute http(s) URL (got "docs/page")`}},
		{"names", `
builtins: {ec2-backdoor: false}
rules:
  - name: "bad name!"
    join: ec2
    conditions: {"1st": {filter: {Type: [{Value: x, Comparison: PREFIX}]}}}
  - name: s3-sensitive-data-exfiltration
    join: AwsS3Bucket
    conditions: {a: {filter: {Type: [{Value: x, Comparison: PREFIX}]}}}
`, []string{`correlation.builtins.ec2-backdoor: unknown built-in rule (known: ec2-backdoor-critical-cves, s3-sensitive-data-exfiltration, ec2-exposed-instance-under-attack)`,
			`correlation.rules[0].name: must be 1-64 letters`,
			`correlation.rules[0].join: must be an ASFF resource type like AwsEc2Instance or AwsS3Bucket (got "ec2")`,
			`correlation.rules[0].conditions.1st: a condition name must be a letter or '_'`,
			`correlation.rules[1].name: "s3-sensitive-data-exfiltration" is already the name of a built-in rule (set correlation.builtins.s3-sensitive-data-exfiltration: false to replace it)`}},
		{"no conditions", `
rules:
  - {name: r, join: AwsEc2Instance}
`, []string{"correlation.rules[0].conditions: a rule needs at least one condition"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, errs := Compile(parseConfig(t, c.src))
			if rules != nil {
				t.Errorf("got rules despite errors")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			all := strings.Join(got, "\n")
			if len(errs) != len(c.want) {
				t.Errorf("got %d errors, want %d:\n%s", len(errs), len(c.want), all)
			}
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors lack %q; got:\n%s", w, all)
				}
			}
		})
	}
}

func TestDecodeConfigRejectsUnknownKeysWithPathAndLine(t *testing.T) {
	var n yaml.Node
	src := "rules:\n  - name: r\n    join: AwsEc2Instance\n    conditions:\n      a:\n        filter: {Type: []}\n        min: 3\n"
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	_, err := DecodeConfig(&n)
	want := "correlation.rules[0].conditions.a.min: unknown key (expected one of filter, min_count, distinct_by, via) (line 7)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestParseWindow(t *testing.T) {
	for in, want := range map[string]string{"30d": "720h0m0s", "12h": "12h0m0s", "1d12h": "36h0m0s", "90m": "1h30m0s", "2w": "336h0m0s", "1w1d": "192h0m0s"} {
		if d, err := parseWindow(in); err != nil || d.String() != want {
			t.Errorf("parseWindow(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "d", "30 days", "1x"} {
		if _, err := parseWindow(in); err == nil {
			t.Errorf("parseWindow(%q) accepted", in)
		}
	}
}
