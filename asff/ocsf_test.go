package asff

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hubtriage/internal/fixtures"
)

// ocsfDir is the folder of real OCSF samples beside the module.
func ocsfDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(fixtures.Dir(t)), "ocsf")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ocsfCounts is the number of findings in each real OCSF sample; every
// *.json file of the folder must be listed.
var ocsfCounts = map[string]int{
	"cruxstack-2003-cspm-config.1.json":                          1,
	"cruxstack-2004-guardduty-runtime-newbinaryexecuted.json":    1,
	"docs-exposure-finding-2004-lambda.json":                     1,
	"elastic-2002-inspector-ec2-cve-2021-47412.json":             1,
	"elastic-2002-inspector-ec2-cve-2025-8194-unicode.json":      1,
	"elastic-2002-inspector-lambda-cve-2025-47906.json":          1,
	"elastic-2003-cspm-redshift.3-resolved.json":                 1,
	"elastic-getfindingsv2-page1-2003-sqs.json":                  2,
	"elastic-getfindingsv2-page2-2003-iam-kms.json":              2,
	"elastic-getfindingsv2-page3-last-2003-ssm.json":             1,
	"sumologic-imported-v2-event-guardduty-2004-suppressed.json": 1,
}

// ocsfFindings decodes every real OCSF sample, failing on any error.
func ocsfFindings(t testing.TB) map[string][]*Finding {
	t.Helper()
	dir := ocsfDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := map[string][]*Finding{}
	for _, p := range files {
		name := filepath.Base(p)
		want, listed := ocsfCounts[name]
		if !listed {
			t.Errorf("%s is not listed in ocsfCounts", name)
		}
		c := streamFile(t, p)
		if len(c.errs) != 0 || len(c.findings) != want {
			t.Errorf("%s: %d findings (want %d), errors %v", name, len(c.findings), want, c.errs)
		}
		out[name] = c.findings
	}
	if len(out) != len(ocsfCounts) {
		t.Errorf("found %d OCSF samples, want %d", len(out), len(ocsfCounts))
	}
	return out
}

// TestOCSFSamplesDecode decodes every real sample (a Findings Imported V2
// event, GetFindingsV2 pages, raw findings) and checks that each finding
// keeps its original JSON byte for byte.
func TestOCSFSamplesDecode(t *testing.T) {
	for name, fs := range ocsfFindings(t) {
		file, _ := os.ReadFile(filepath.Join(ocsfDir(t), name))
		for _, f := range fs {
			if f.Format != FormatOCSF || !bytes.Contains(file, f.Raw) || !stdjson.Valid(f.Raw) || f.Raw[0] != '{' {
				t.Errorf("%s %s: format %v, Raw not the finding's own bytes", name, f.ID, f.Format)
			}
		}
	}
}

// TestOCSFMapping checks the mapping of docs/ocsf.md on the real samples.
func TestOCSFMapping(t *testing.T) {
	all := ocsfFindings(t)
	one := func(name string, i int) *Finding { return all[name][i] }
	type want struct {
		id, productArn, product, company, account, region, label, workflow, record string
		active                                                                     bool
		control, compliance, resType, resID, generator                             string
		types, cves                                                                []string
	}
	tests := []struct {
		f    *Finding
		want want
	}{
		{one("sumologic-imported-v2-event-guardduty-2004-suppressed.json", 0), want{
			id:         "arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4",
			productArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty", product: "GuardDuty", company: "Amazon",
			account: "869728294964", region: "us-east-1", label: "LOW", workflow: "SUPPRESSED", record: "ACTIVE", active: false,
			resType: "AwsIamAccessKey", resID: "AWS::IAM::AccessKey:ASIA4U76YS3TEOA3O", generator: "b4c71b47fb852d3fc0e99a82fa2841aa",
			types: []string{"Stealth:IAMUser/CloudTrailLoggingDisabled", "TTPs/Defense Evasion/Stealth:IAMUser-CloudTrailLoggingDisabled"},
		}},
		{one("cruxstack-2003-cspm-config.1.json", 0), want{
			id:         "arn:aws:securityhub:us-east-1:123456789012:subscription/cis-aws-foundations-benchmark/v/1.2.0/2.5/finding/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
			productArn: "arn:aws:securityhub:us-east-1::product/aws/securityhub", product: "Security Hub", company: "AWS",
			account: "123456789012", region: "us-east-1", label: "CRITICAL", workflow: "NEW", record: "ACTIVE", active: true,
			control: "Config.1", compliance: "FAILED", resType: "AwsAccount", resID: "AWS::::Account:123456789012",
			generator: "security-control/Config.1",
			types:     []string{"Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark", "Posture Management"},
		}},
		{one("elastic-getfindingsv2-page1-2003-sqs.json", 0), want{
			id:         "arn:aws:securityhub:us-east-2:123456789012:security-control/SQS.3/finding/7abcdef4-abcd-1234-5678-501234567894",
			productArn: "arn:aws:securityhub:us-east-2::product/aws/securityhub", product: "Security Hub", company: "AWS",
			account: "123456789012", region: "us-east-2", label: "INFORMATIONAL", workflow: "RESOLVED", record: "ACTIVE", active: false,
			control: "SQS.3", compliance: "PASSED", resType: "AwsSqsQueue", resID: "arn:aws:sqs:us-east-2:123456789012:securityhubfinding",
			generator: "security-control/SQS.3",
			types:     []string{"Software and Configuration Checks/Industry and Regulatory Standards", "Posture Management"},
		}},
		{one("elastic-2002-inspector-lambda-cve-2025-47906.json", 0), want{
			id:         "arn:aws:inspector2:us-east-2:123456789012:finding/2123456789abcdefabcdef12345679",
			productArn: "arn:aws:securityhub:us-east-2::product/aws/inspector", product: "Inspector", company: "Amazon",
			account: "123456789012", region: "us-east-2", label: "MEDIUM", workflow: "NEW", record: "ACTIVE", active: true,
			resType: "AwsLambdaFunction", resID: "arn:aws:lambda:us-east-2:123456789012:function:cloudtrail-test-ab-LambdaFunction-jVHJUsdbdkj6",
			types: []string{"Software and Configuration Checks/Vulnerabilities/CVE"}, cves: []string{"CVE-2025-47906"},
		}},
		{one("cruxstack-2004-guardduty-runtime-newbinaryexecuted.json", 0), want{
			id:         "arn:aws:guardduty:us-east-1:123456789012:detector/00000000000000000000000000000000/finding/ffffffffffffffffffffffffffffffff",
			productArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty", product: "GuardDuty", company: "Amazon",
			account: "123456789012", region: "us-east-1", label: "MEDIUM", workflow: "NEW", record: "ACTIVE", active: true,
			resType: "AwsEc2Instance", resID: "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
			generator: "00000000000000000000000000000000",
			types:     []string{"Threats", "Execution:Runtime/NewBinaryExecuted", "TTPs/Execution/Execution:Runtime-NewBinaryExecuted"},
		}},
	}
	for _, tt := range tests {
		f := tt.f
		got := want{
			id: f.ID, productArn: f.ProductArn, product: f.ProductName, company: f.CompanyName, account: f.AwsAccountID,
			region: f.Region, label: f.Severity.Label, workflow: f.WorkflowStatus, record: f.RecordState, active: f.Active(),
			control: f.Compliance.SecurityControlID, compliance: f.Compliance.Status, generator: f.GeneratorID, types: f.Types,
		}
		if len(f.Resources) > 0 {
			got.resType, got.resID = f.Resources[0].Type, f.Resources[0].ID
		}
		for _, v := range f.Vulnerabilities {
			got.cves = append(got.cves, v.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", f.ID, got, tt.want)
		}
	}
	crux := one("cruxstack-2004-guardduty-runtime-newbinaryexecuted.json", 0)
	if crux.CreatedAt.Format("2006-01-02T15:04:05.000Z") != "2025-10-03T20:49:21.464Z" ||
		crux.FirstObservedAt.Format("2006-01-02T15:04:05.000Z") != "2025-10-03T20:37:13.911Z" {
		t.Errorf("times: created %v first seen %v", crux.CreatedAt, crux.FirstObservedAt)
	}
	if tags := crux.Resources[0].Tags; tags["Name"] != "example-action-runner" || tags["ghr:runner_name_prefix"] != "" {
		t.Errorf("tags %v", tags)
	}
	if !bytes.Contains(crux.Resources[0].Data, []byte(`"instance_id": "i-0123456789abcdef0"`)) {
		t.Errorf("resource data not kept: %.80s", crux.Resources[0].Data)
	}
	exposure := one("docs-exposure-finding-2004-lambda.json", 0)
	if len(exposure.RelatedFindings) != 3 || exposure.RelatedFindings[0].ProductArn != "arn:aws:securityhub:us-east-1::product/aws/inspector" {
		t.Errorf("related events %+v", exposure.RelatedFindings)
	}
	if exposure.UpdatedAt.IsZero() || exposure.CreatedAt.Nanosecond() != 337224100 {
		t.Errorf("exposure times: created %v updated %v", exposure.CreatedAt, exposure.UpdatedAt)
	}
	page2 := one("elastic-getfindingsv2-page2-2003-iam-kms.json", 0)
	if want := []string{"ruleset/cis-aws-foundations-benchmark/v/1.2.0", "standards/aws-foundational-security-best-practices/v/1.0.0"}; !reflect.DeepEqual(page2.Compliance.Standards, want) {
		t.Errorf("standards %v, want %v", page2.Compliance.Standards, want)
	}
}

// TestOCSFShapes streams the real samples in the other shapes producers
// write: one array, NDJSON (Prowler, ElectricEye, Security Lake exports),
// GetFindingsV2 pages concatenated, and mixed with ASFF.
func TestOCSFShapes(t *testing.T) {
	dir := ocsfDir(t)
	var raws []string
	for name := range ocsfCounts {
		if strings.HasPrefix(name, "elastic-20") || strings.HasPrefix(name, "cruxstack") || strings.HasPrefix(name, "docs") {
			b, _ := os.ReadFile(filepath.Join(dir, name))
			var buf bytes.Buffer
			if err := stdjson.Compact(&buf, b); err != nil {
				t.Fatal(err)
			}
			raws = append(raws, buf.String())
		}
	}
	var pages []string
	for _, p := range []string{"page1-2003-sqs", "page2-2003-iam-kms", "page3-last-2003-ssm"} {
		b, _ := os.ReadFile(filepath.Join(dir, "elastic-getfindingsv2-"+p+".json"))
		pages = append(pages, string(b))
	}
	n := len(raws)
	tests := []struct {
		name, in string
		want     int
	}{
		{"array", "[" + strings.Join(raws, ",") + "]", n},
		{"ndjson", strings.Join(raws, "\n") + "\n", n},
		{"pretty-printed concatenated", strings.Join(pages, ""), 5},
		{"v2 event detail alone", `{"findings":[` + raws[0] + `]}`, 1},
		{"mixed with asff", raws[0] + "\n" + minimal("a") + "\n" + raws[1], 3},
		{"array of pages", "[" + strings.Join(pages, ",") + "]", 5},
	}
	for _, tt := range tests {
		got := streamString(t, tt.in)
		if len(got.findings) != tt.want || len(got.errs) != 0 {
			t.Errorf("%s: %d findings (want %d), errors %v", tt.name, len(got.findings), tt.want, got.errs)
		}
	}
}

// TestOCSFProblems: an OCSF finding without its identity, with a bad
// time, or with invalid JSON is an error naming the field or position
// (never "Severity: want a JSON object"), and the stream goes on.
func TestOCSFProblems(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(ocsfDir(t), "elastic-2002-inspector-lambda-cve-2025-47906.json"))
	good := strings.TrimSpace(string(b))
	tests := []struct{ name, in, reason string }{
		{"no finding_info.uid", strings.Replace(good, `"uid":"arn:aws:inspector2`, `"uid_x":"arn:aws:inspector2`, 1), "missing required field finding_info.uid"},
		{"bad time", strings.Replace(good, `"created_time_dt":"2025-09-23T21:19:28.239Z"`, `"created_time_dt":"last tuesday"`, 1), "field finding_info.created_time_dt:"},
		{"number as string", strings.Replace(good, `"severity_id":3`, `"severity_id":"3"`, 1), "OCSF finding: field severity_id"},
		{"broken json", strings.Replace(good, `"severity_id":3`, `"severity_id" 3`, 1), "OCSF finding: invalid character"},
	}
	for _, tt := range tests {
		if tt.in == good {
			t.Fatalf("%s: replacement did not apply", tt.name)
		}
		got := streamString(t, minimal("a")+"\n"+tt.in+"\n"+minimal("b"))
		if len(got.findings) != 2 || len(got.errs) != 1 || !strings.Contains(got.errs[0].Reason, tt.reason) {
			t.Errorf("%s: %d findings, errors %v; want one error saying %q", tt.name, len(got.findings), got.errs, tt.reason)
			continue
		}
		if e := got.errs[0]; e.Line < 2 || strings.Contains(e.Reason, "Severity: want") {
			t.Errorf("%s: error %v", tt.name, e)
		}
	}
	var de *DecodeError
	if _, err := DecodeFinding([]byte(tests[0].in)); !errors.As(err, &de) || !errors.Is(err, ErrMissingField) {
		t.Errorf("DecodeFinding: %v", err)
	}
}

// TestOCSFTwinsShareIdentity: a CSPM control finding and its OCSF twin
// (same account, region, control and resource), and a GuardDuty finding
// and its OCSF twin (same product finding id), are one identity.
func TestOCSFTwinsShareIdentity(t *testing.T) {
	ssmOCSF := ocsfFindings(t)["elastic-getfindingsv2-page3-last-2003-ssm.json"][0]
	ssmASFF := streamFile(t, filepath.Join("testdata", "ocsf", "control-ssm.1-asff-twin.json")).findings[0]
	if ssmOCSF.Identity() != ssmASFF.Identity() || ssmASFF.Format != FormatASFF {
		t.Errorf("control twins: %q vs %q", ssmOCSF.Identity(), ssmASFF.Identity())
	}
	gdOCSF := streamFile(t, filepath.Join("testdata", "ocsf", "guardduty-backdoor-ec2.ocsf.json")).findings[0]
	gdASFF := streamFile(t, filepath.Join("..", "correlate", "testdata", "findings", "guardduty-backdoor-ec2.json")).findings[0]
	if gdOCSF.Identity() != gdASFF.Identity() {
		t.Errorf("GuardDuty twins: %q vs %q", gdOCSF.Identity(), gdASFF.Identity())
	}
	if gdOCSF.Resources[0].ID != gdASFF.Resources[0].ID || gdOCSF.Resources[0].Type != gdASFF.Resources[0].Type ||
		!reflect.DeepEqual(gdOCSF.Types[len(gdOCSF.Types)-1:], gdASFF.Types) {
		t.Errorf("GuardDuty twins differ: %+v / %v vs %+v / %v", gdOCSF.Resources[0], gdOCSF.Types, gdASFF.Resources[0], gdASFF.Types)
	}
}

func TestASFFResourceType(t *testing.T) {
	for in, want := range map[string]string{
		"AWS::EC2::Instance": "AwsEc2Instance", "AWS::::Account": "AwsAccount", "AWS::RDS::DBInstance": "AwsRdsDbInstance",
		"AWS::DynamoDB::Table": "AwsDynamoDbTable", "AWS::CloudTrail::Trail": "AwsCloudTrailTrail",
		"AWS::IAM::AccessKey": "AwsIamAccessKey", "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
		"AWS::ElasticLoadBalancingV2::LoadBalancer": "AwsElbv2LoadBalancer", "AWS::S3::Bucket": "AwsS3Bucket",
		"AwsLambdaFunction": "AwsLambdaFunction", "Other": "Other",
	} {
		if got := asffResourceType(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}

// FuzzOCSF feeds mutated OCSF documents through the stream decoder. For
// any input: no panic; the fast OCSF decoder agrees with encoding/json; every result is a finding or a *DecodeError; an
// OCSF finding has its identity, a valid label, Raw that is valid JSON
// found in the input, and an identity; decoding it alone gives the same.
func FuzzOCSF(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(ocsfDir(f), "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"class_uid":2003,"finding_info":{"uid":"x"},"metadata":{"product":{"uid":"p"}},"severity_id":99,"severity":"Fatal"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if s := skipSpace(in, 0); s < len(in) && in[s] == '{' {
			checkFastOCSF(t, in[s:s+trimRightSpace(in[s:])])
		}
		c := streamAll(t, "fuzz.json", bytes.NewReader(in), Options{Workers: 1})
		for _, g := range c.findings {
			if g.Format != FormatOCSF {
				continue
			}
			if g.ID == "" || g.ProductArn == "" || g.Identity() == "" {
				t.Fatalf("bad finding %+v", g)
			}
			if _, ok := labelScores[g.Severity.Label]; !ok {
				t.Fatalf("label %q", g.Severity.Label)
			}
			if !stdjson.Valid(g.Raw) || !bytes.Contains(in, g.Raw) {
				t.Fatalf("Raw %q is not valid JSON from the input", g.Raw)
			}
			alone, err := DecodeFinding(g.Raw)
			if err != nil {
				t.Fatalf("decoded alone: %v", err)
			}
			if alone.Identity() != g.Identity() {
				t.Fatalf("decoded alone: identity %q vs %q", alone.Identity(), g.Identity())
			}
		}
	})
}
