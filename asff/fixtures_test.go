package asff

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hubtriage/internal/fixtures"
)

// fixtureCounts is the number of findings each real-world fixture holds.
// Every *.json file under these folders must be listed, so a new fixture
// cannot slip in untested.
var fixtureCounts = map[string]int{
	"arrays/findingsmanager-19-mixed.json":              19,
	"arrays/findingsmanager-4-archived.json":            4,
	"arrays/findingsmanager-5-suppressed-archived.json": 5,
	"arrays/xsoar-10-archived-controls.json":            10,

	"events/custom-action-cis-2.2-2019.json":       1,
	"events/custom-action-fsbp-ec2.2.json":         1,
	"events/custom-action-guardduty-iam-2019.json": 1,
	"events/custom-action-two-findings.json":       2,
	"events/imported-cis-1.4-warning.json":         1,
	"events/imported-fsbp-ec2.7.json":              1,

	"getfindings/awscli-example-1-nexttoken.json":           1,
	"getfindings/awscli-example-2.json":                     1,
	"getfindings/custodian-custom-product-bad-arn.json":     1,
	"getfindings/custodian-custom-product-ec2.json":         1,
	"getfindings/custodian-custom-product-s3.json":          1,
	"getfindings/custodian-guardduty-2019-iam.json":         5,
	"getfindings/custodian-inspector2-ecr-20-archived.json": 20,
	"getfindings/custodian-inspector2-log4j-critical.json":  1,
	"findings/asr-afsbp-ec2.2.json":                         1,
	"findings/asr-afsbp-ec2.8.json":                         1,
	"findings/asr-afsbp-s3.2.json":                          1,
	"findings/asr-afsbp-s3.4.json":                          1,
	"findings/asr-cis-41.json":                              1,
	"findings/asr-cis-42.json":                              1,
	"findings/asr-pci-ec2.5.json":                           1,
	"findings/asr-pci-s3.1.json":                            1,
	"findings/config-s3-bucket.json":                        1,
	"findings/control-cis-1.2.0-2.7-legacy.json":            1,
	"findings/control-cis-1.4.0-3.7-legacy.json":            1,
	"findings/control-consolidated-CloudTrail.2.json":       1,
	"findings/control-control-tower-legacy.json":            1,
	"findings/control-fsbp-CloudTrail.2-legacy.json":        1,
	"findings/control-nist-CloudTrail.2-legacy.json":        1,
	"findings/control-pci-dss-legacy.json":                  1,
	"findings/guardduty-ssh-bruteforce.json":                1,
	"findings/health-other-resource.json":                   1,
	"findings/inspector-classic-network-reachability.json":  1,
}

// batchRequests holds BatchUpdateFindings request bodies, not findings:
// each of its 9 elements must be reported as ErrNotFinding.
const batchRequests = "arrays/findingsmanager-batch-update-requests.json"

func TestFixturesDecodeWithoutErrors(t *testing.T) {
	fx := fixtures.Dir(t)
	for _, dir := range []string{"arrays", "events", "getfindings", "findings"} {
		paths, _ := filepath.Glob(filepath.Join(fx, dir, "*.json"))
		for _, p := range paths {
			rel := dir + "/" + filepath.Base(p)
			if rel == batchRequests {
				continue
			}
			t.Run(rel, func(t *testing.T) {
				want, ok := fixtureCounts[rel]
				if !ok {
					t.Fatalf("fixture %s has no expected count in fixtureCounts", rel)
				}
				c := streamFile(t, p)
				for _, e := range c.errs {
					t.Errorf("unexpected error: %v", e)
				}
				if len(c.findings) != want {
					t.Errorf("got %d findings, want %d", len(c.findings), want)
				}
				for _, f := range c.findings {
					checkResolved(t, f)
				}
			})
		}
	}
}

// checkResolved asserts the invariants decoding promises for every finding.
func checkResolved(t *testing.T, f *Finding) {
	t.Helper()
	if f.ID == "" || f.ProductArn == "" {
		t.Errorf("finding without identity: %+v", f)
	}
	if _, ok := canonicalLabel(f.Severity.Label); !ok {
		t.Errorf("%s: severity label %q is not canonical", f.ID, f.Severity.Label)
	}
	if len(f.Raw) == 0 || f.Raw[0] != '{' || f.Raw[len(f.Raw)-1] != '}' {
		t.Errorf("%s: Raw is not the finding object: %.40q", f.ID, f.Raw)
	}
}

func TestFixtureRawRoundTrips(t *testing.T) {
	fx := fixtures.Dir(t)
	for rel := range fixtureCounts {
		t.Run(rel, func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join(fx, rel))
			if err != nil {
				t.Fatal(err)
			}
			c := streamFile(t, filepath.Join(fx, rel))
			for _, f := range c.findings {
				if strings.HasPrefix(rel, "findings/") && !bytes.Equal(f.Raw, bytes.TrimSpace(file)) {
					t.Errorf("Raw differs from the file's object")
				}
				if !bytes.Contains(file, f.Raw) {
					t.Errorf("%s: Raw is not a byte-exact slice of the input", f.ID)
				}
				again, err := DecodeFinding(f.Raw)
				if err != nil {
					t.Fatalf("re-decoding Raw: %v", err)
				}
				if !reflect.DeepEqual(again, f) {
					t.Errorf("%s: decoding Raw again gives a different finding", f.ID)
				}
			}
		})
	}
}

func TestFixtureResolvedFields(t *testing.T) {
	fx := fixtures.Dir(t)
	first := func(t *testing.T, rel string) *Finding {
		c := streamFile(t, filepath.Join(fx, rel))
		if len(c.findings) == 0 {
			t.Fatalf("%s: no findings", rel)
		}
		return c.findings[0]
	}
	t.Run("2019 GuardDuty IAM findings have no Severity.Label", func(t *testing.T) {
		c := streamFile(t, filepath.Join(fx, "getfindings/custodian-guardduty-2019-iam.json"))
		for _, f := range c.findings {
			if f.Severity.Label != "MEDIUM" || f.Severity.Normalized != 50 {
				t.Errorf("%s: severity %+v, want MEDIUM / 50", f.ID, f.Severity)
			}
			if f.ProductName != "GuardDuty" || f.Region != "us-east-1" {
				t.Errorf("%s: product %q region %q, want GuardDuty / us-east-1 from fallbacks", f.ID, f.ProductName, f.Region)
			}
		}
		if got := c.findings[1].Resources[0].ID; got != "AWS::IAM::AccessKey:null" {
			t.Errorf("resource id %q", got)
		}
	})
	tests := []struct {
		rel   string
		check func(*Finding) (got, want any)
	}{
		{"events/custom-action-cis-2.2-2019.json", func(f *Finding) (any, any) {
			return []string{f.Severity.Label, f.ProductName, f.CompanyName, f.Region}, []string{"INFORMATIONAL", "Security Hub", "AWS", "us-east-1"}
		}},
		{"findings/control-consolidated-CloudTrail.2.json", func(f *Finding) (any, any) {
			return []any{f.Compliance.SecurityControlID, f.Severity.Normalized, f.Severity.Label}, []any{"CloudTrail.2", 40.0, "MEDIUM"}
		}},
		{"findings/control-fsbp-CloudTrail.2-legacy.json", func(f *Finding) (any, any) {
			return f.Compliance.SecurityControlID, "CloudTrail.2"
		}},
		{"findings/asr-afsbp-ec2.2.json", func(f *Finding) (any, any) { // legacy: ProductFields.ControlId only
			return f.Compliance.SecurityControlID, "EC2.2"
		}},
		{"findings/asr-cis-41.json", func(f *Finding) (any, any) { // CIS 1.2.0: ProductFields.RuleId
			return f.Compliance.SecurityControlID, "4.1"
		}},
		{"findings/asr-afsbp-s3.2.json", func(f *Finding) (any, any) {
			return []any{f.WorkflowStatus, f.WorkflowState, f.Active()}, []any{"RESOLVED", "NEW", false}
		}},
		{"findings/asr-afsbp-s3.4.json", func(f *Finding) (any, any) {
			return f.Remediation.URL, "https://docs.aws.amazon.com/console/securityhub/S3.4/remediation"
		}},
		{"findings/health-other-resource.json", func(f *Finding) (any, any) {
			return []string{f.Resources[0].Type, f.Resources[0].ID}, []string{"Other", "4557227d-9257-4e49-8d5b-18a99ced4be9.cmf.pinpoint.sysmon-iad.adzel.com"}
		}},
		{"findings/inspector-classic-network-reachability.json", func(f *Finding) (any, any) {
			return []string{f.ID, f.Severity.Original, f.Region}, []string{"inspector/us-east-1/111122223333/629ff13fbbb44c872f7bba3e7f79f60cb6d443d8", "6.0", "us-east-1"}
		}},
		{"getfindings/awscli-example-1-nexttoken.json", func(f *Finding) (any, any) { // Original is the number 0
			return []string{f.Severity.Original, f.Severity.Label}, []string{"0", "INFORMATIONAL"}
		}},
		{"getfindings/custodian-custom-product-bad-arn.json", func(f *Finding) (any, any) {
			return []any{f.CreatedAt, f.ProductName, f.Severity.Label, f.Resources[0].Tags["Name"]},
				[]any{time.Date(2018, 11, 28, 23, 26, 17, 728987000, time.UTC), "Default", "LOW", "bar-run"}
		}},
		{"getfindings/custodian-inspector2-log4j-critical.json", func(f *Finding) (any, any) {
			return []any{f.Vulnerabilities, f.Severity.Label, bytes.Contains(f.Resources[0].Details, []byte(`"AwsEcrContainerImage"`))},
				[]any{[]Vulnerability{{ID: "CVE-2021-44228", Severity: "CRITICAL"}}, "CRITICAL", true}
		}},
		{"findings/guardduty-ssh-bruteforce.json", func(f *Finding) (any, any) { // to-the-second timestamps
			return f.FirstObservedAt, time.Date(2020, 8, 22, 9, 15, 57, 0, time.UTC)
		}},
		{"arrays/findingsmanager-5-suppressed-archived.json", func(f *Finding) (any, any) {
			return []any{f.WorkflowStatus, f.Active()}, []any{"SUPPRESSED", false}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			got, want := tt.check(first(t, tt.rel))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestMalformedFixtures(t *testing.T) {
	fx := fixtures.Dir(t)
	tests := []struct {
		file     string
		line     int
		offset   int64
		reason   string
		findings int
	}{
		{"awscli-example-2-missing-colon.json", 12, 665, "invalid character '{' after object key", 0},
		{"control-consolidated-missing-comma.json", 38, 1914, "invalid character '\"' after object key:value pair", 0},
		{"control-nist-unicode-whitespace.json", 46, 2501, "invalid character U+2028", 0},
		{"health-trailing-brackets.json", 44, 2801, "invalid character ']' after top-level value", 1},
	}
	paths, _ := filepath.Glob(filepath.Join(fx, "malformed", "*.json"))
	if len(paths) != len(tests) {
		t.Errorf("malformed/ holds %d files, the table %d: keep them in step", len(paths), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c := streamFile(t, filepath.Join(fx, "malformed", tt.file))
			if len(c.errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(c.errs), c.errs)
			}
			e := c.errs[0]
			if e.File != tt.file || e.Line != tt.line || e.Offset != tt.offset || !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("got %q (file %q line %d byte %d), want file %q line %d byte %d reason ~%q",
					e.Error(), e.File, e.Line, e.Offset, tt.file, tt.line, tt.offset, tt.reason)
			}
			if !strings.HasPrefix(e.Error(), "decode "+tt.file+": line ") {
				t.Errorf("message %q does not lead with the file and line", e.Error())
			}
			if !errors.Is(e, ErrSyntax) {
				t.Errorf("error does not wrap ErrSyntax")
			}
			if len(c.findings) != tt.findings {
				t.Errorf("got %d findings, want %d", len(c.findings), tt.findings)
			}
		})
	}
}

func TestBatchUpdateRequestsAreNotFindings(t *testing.T) {
	c := streamFile(t, filepath.Join(fixtures.Dir(t), batchRequests))
	if len(c.findings) != 0 || len(c.errs) != 9 {
		t.Fatalf("got %d findings, %d errors; want 0 and one error per request body (9)", len(c.findings), len(c.errs))
	}
	for _, e := range c.errs {
		if !errors.Is(e, ErrNotFinding) || !strings.Contains(e.Reason, "BatchUpdateFindings") {
			t.Errorf("error %v should say it is a BatchUpdateFindings request, not a finding", e)
		}
	}
	if c.errs[1].Line != 21 {
		t.Errorf("second request body reported at line %d, want 21", c.errs[1].Line)
	}
}

// TestMalformedFixturesDoNotStopTheStream concatenates every malformed
// fixture, each followed by a valid finding, into one input: each broken
// document costs one error and every valid finding still decodes.
func TestMalformedFixturesDoNotStopTheStream(t *testing.T) {
	fx := fixtures.Dir(t)
	valid, err := os.ReadFile(filepath.Join(fx, "findings/config-s3-bucket.json"))
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(fx, "malformed", "*.json"))
	var in bytes.Buffer
	for _, p := range paths {
		bad, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(bad)
		in.WriteByte('\n')
		in.Write(valid)
		in.WriteByte('\n')
	}
	c := streamAll(t, "all.json", &in, Options{})
	// health-trailing-brackets.json holds a valid finding before its stray brackets.
	if len(c.errs) != len(paths) || len(c.findings) != len(paths)+1 {
		t.Errorf("got %d errors and %d findings, want %d and %d:\n%q", len(c.errs), len(c.findings), len(paths), len(paths)+1, c.order)
	}
}
