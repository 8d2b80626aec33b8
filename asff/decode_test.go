package asff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// finding builds a finding JSON object from an Id/ProductArn pair plus extra
// members (raw JSON, without braces).
func finding(extra string) string {
	s := `{"Id":"f-1","ProductArn":"arn:aws:securityhub:ap-south-1::product/aws/guardduty"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func decode(t *testing.T, s string) *Finding {
	t.Helper()
	f, err := DecodeFinding([]byte(s))
	if err != nil {
		t.Fatalf("DecodeFinding(%s): %v", s, err)
	}
	return f
}

func TestSeverityResolution(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"label wins", `"Severity":{"Label":"HIGH","Normalized":10},"ProductFields":{"aws/securityhub/SeverityLabel":"LOW"}`, "HIGH"},
		{"label is upper-cased", `"Severity":{"Label":"critical"}`, "CRITICAL"},
		{"product field when no label", `"Severity":{"Normalized":10},"ProductFields":{"aws/securityhub/SeverityLabel":"MEDIUM"}`, "MEDIUM"},
		{"unknown label falls through", `"Severity":{"Label":"SEVERE","Normalized":95}`, "CRITICAL"},
		{"normalized 0", `"Severity":{"Normalized":0}`, "INFORMATIONAL"},
		{"normalized 1", `"Severity":{"Normalized":1}`, "LOW"},
		{"normalized 39", `"Severity":{"Normalized":39}`, "LOW"},
		{"normalized 40", `"Severity":{"Normalized":40}`, "MEDIUM"},
		{"normalized 69", `"Severity":{"Normalized":69}`, "MEDIUM"},
		{"normalized 70", `"Severity":{"Normalized":70}`, "HIGH"},
		{"normalized 89", `"Severity":{"Normalized":89}`, "HIGH"},
		{"normalized 90", `"Severity":{"Normalized":90}`, "CRITICAL"},
		{"normalized 100", `"Severity":{"Normalized":100}`, "CRITICAL"},
		{"normalized as string", `"Severity":{"Normalized":"75"}`, "HIGH"},
		{"nothing says", ``, "INFORMATIONAL"},
		{"null label", `"Severity":{"Label":null,"Normalized":45}`, "MEDIUM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(t, finding(tt.extra)).Severity.Label; got != tt.want {
				t.Errorf("label %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSeverityNumbersAndStrings(t *testing.T) {
	f := decode(t, finding(`"Severity":{"Normalized":"40","Original":8.5,"Product":"8"}`))
	if f.Severity.Normalized != 40 || f.Severity.Original != "8.5" {
		t.Errorf("severity %+v, want Normalized 40 and Original \"8.5\"", f.Severity)
	}
	f = decode(t, finding(`"Severity":{"Normalized":40,"Original":"MEDIUM"}`))
	if f.Severity.Normalized != 40 || f.Severity.Original != "MEDIUM" {
		t.Errorf("severity %+v", f.Severity)
	}
}

func TestFallbacks(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		got   func(*Finding) string
		want  string
	}{
		{"product name from product fields", `"ProductFields":{"aws/securityhub/ProductName":"GuardDuty"}`, func(f *Finding) string { return f.ProductName }, "GuardDuty"},
		{"top-level product name wins", `"ProductName":"Inspector","ProductFields":{"aws/securityhub/ProductName":"GuardDuty"}`, func(f *Finding) string { return f.ProductName }, "Inspector"},
		{"company name from product fields", `"ProductFields":{"aws/securityhub/CompanyName":"Amazon"}`, func(f *Finding) string { return f.CompanyName }, "Amazon"},
		{"region from product arn", ``, func(f *Finding) string { return f.Region }, "ap-south-1"},
		{"top-level region wins", `"Region":"eu-north-1"`, func(f *Finding) string { return f.Region }, "eu-north-1"},
		{"consolidated control id", `"Compliance":{"Status":"FAILED","SecurityControlId":"S3.8"},"ProductFields":{"ControlId":"PCI.S3.1"}`, func(f *Finding) string { return f.Compliance.SecurityControlID }, "S3.8"},
		{"legacy control id", `"ProductFields":{"ControlId":"EC2.2","RuleId":"4.3"}`, func(f *Finding) string { return f.Compliance.SecurityControlID }, "EC2.2"},
		{"CIS 1.2.0 rule id", `"ProductFields":{"RuleId":"2.7"}`, func(f *Finding) string { return f.Compliance.SecurityControlID }, "2.7"},
		{"workflow status", `"Workflow":{"Status":"SUPPRESSED"},"WorkflowState":"NEW"`, func(f *Finding) string { return f.WorkflowStatus + "/" + f.WorkflowState }, "SUPPRESSED/NEW"},
		{"remediation", `"Remediation":{"Recommendation":{"Text":"fix it","Url":"https://example.com/r"}}`, func(f *Finding) string { return f.Remediation.Text + " " + f.Remediation.URL }, "fix it https://example.com/r"},
		{"source url", `"SourceUrl":"https://example.com/s"`, func(f *Finding) string { return f.SourceURL }, "https://example.com/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(decode(t, finding(tt.extra))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRegionWithoutARN(t *testing.T) {
	f := decode(t, `{"Id":"x","ProductArn":"product/custom"}`)
	if f.Region != "" {
		t.Errorf("region %q from a non-ARN product, want empty", f.Region)
	}
}

func TestNonStringFieldValuesAreStringified(t *testing.T) {
	f := decode(t, finding(`"ProductFields":{"count":4,"archived":false,"none":null,"obj":{"a":[1,2]},"esc":"a\"b\u00e9"},
		"UserDefinedFields":{"ticket":12345,"owner":"sec"},
		"Resources":[{"Type":"Other","Id":"r","Tags":{"cost":7}}]`))
	wantPF := map[string]string{"count": "4", "archived": "false", "none": "", "obj": `{"a":[1,2]}`, "esc": `a"bé`}
	if !reflect.DeepEqual(f.ProductFields, wantPF) {
		t.Errorf("ProductFields %#v, want %#v", f.ProductFields, wantPF)
	}
	if f.UserDefinedFields["ticket"] != "12345" || f.UserDefinedFields["owner"] != "sec" {
		t.Errorf("UserDefinedFields %#v", f.UserDefinedFields)
	}
	if f.Resources[0].Tags["cost"] != "7" {
		t.Errorf("tags %#v", f.Resources[0].Tags)
	}
}

func TestListsAndDetails(t *testing.T) {
	f := decode(t, finding(`"Types":["TTPs/Discovery/Recon:EC2-Portscan"],
		"Resources":[{"Type":"AwsEc2Instance","Id":"i-1","Partition":"aws","Region":"us-east-1","Details":{"AwsEc2Instance":{"Type":"t3.micro"}}},{"Type":"Other","Id":"o","Details":null}],
		"Vulnerabilities":[{"Id":"CVE-2024-6387","Vendor":{"VendorSeverity":"HIGH"}},{"Id":"CVE-2023-1"}],
		"RelatedFindings":[{"ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty","Id":"g-1"}]`))
	if got := string(f.Resources[0].Details); got != `{"AwsEc2Instance":{"Type":"t3.micro"}}` {
		t.Errorf("Details %s, want the raw object", got)
	}
	if f.Resources[1].Details != nil {
		t.Errorf("null Details = %q, want nil", f.Resources[1].Details)
	}
	want := []Vulnerability{{ID: "CVE-2024-6387", Severity: "HIGH"}, {ID: "CVE-2023-1"}}
	if !reflect.DeepEqual(f.Vulnerabilities, want) {
		t.Errorf("Vulnerabilities %#v", f.Vulnerabilities)
	}
	if len(f.RelatedFindings) != 1 || f.RelatedFindings[0].ID != "g-1" {
		t.Errorf("RelatedFindings %#v", f.RelatedFindings)
	}
	if len(f.Types) != 1 || f.Resources[0].Region != "us-east-1" {
		t.Errorf("Types %v, resource %+v", f.Types, f.Resources[0])
	}
}

func TestTimestamps(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2020-08-22T09:15:57Z", "2020-08-22T09:15:57Z"},
		{"2019-06-24T16:39:05.221Z", "2019-06-24T16:39:05.221Z"},
		{"2018-11-28T23:26:17.728987+00:00", "2018-11-28T23:26:17.728987Z"},
		{"2024-03-01T12:00:00.5+02:00", "2024-03-01T10:00:00.5Z"},
		{"2024-03-01T12:00:00", "2024-03-01T12:00:00Z"},
		{"", "0001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		f := decode(t, finding(`"UpdatedAt":"`+tt.in+`"`))
		if got := f.UpdatedAt.Format(time.RFC3339Nano); got != tt.want {
			t.Errorf("UpdatedAt %q -> %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRawIsACopyOfTheObject(t *testing.T) {
	in := []byte("  " + minimal("a") + "\n")
	f2, err := DecodeFinding(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(f2.Raw) != minimal("a") {
		t.Fatalf("Raw %q, want the object without surrounding space", f2.Raw)
	}
	for i := range in {
		in[i] = 'x'
	}
	if string(f2.Raw) != minimal("a") || f2.ID != "a" {
		t.Errorf("Raw or fields changed with the caller's buffer: %q", f2.Raw)
	}
}

func TestDecodeFindingErrors(t *testing.T) {
	tests := []struct {
		name, in   string
		cause      error
		line       int
		offset     int64
		reasonPart string
	}{
		{"missing id", `{"ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}`, ErrMissingField, 1, 0, "missing required field Id"},
		{"empty id", `{"Id":"","ProductArn":"p"}`, ErrMissingField, 1, 0, "missing required field Id"},
		{"missing product arn", "\n {\"Id\":\"x\"}", ErrMissingField, 2, 2, "missing required field ProductArn"},
		{"array", `[{"Id":"x"}]`, ErrNotFinding, 1, 0, "not a JSON object"},
		{"number", `42`, ErrNotFinding, 1, 0, "not a JSON object"},
		{"empty", ``, ErrNotFinding, 1, 0, "not a JSON object"},
		{"syntax", "{\"Id\":\"x\",\n\"ProductArn\" \"p\"}", ErrSyntax, 2, 24, "invalid character '\"' after object key"},
		{"trailing garbage", `{"Id":"x","ProductArn":"p"} x`, ErrSyntax, 1, 28, "after top-level value"},
		{"wrong type", `{"Id":"x","ProductArn":"p","Types":"one"}`, nil, 1, 0, "field Types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFinding([]byte(tt.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, %v; want a *DecodeError", f, err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			if de.Line != tt.line || (tt.offset != 0 && de.Offset != tt.offset) || !strings.Contains(de.Reason, tt.reasonPart) {
				t.Errorf("got %q (line %d, byte %d), want line %d byte %d reason ~%q", err, de.Line, de.Offset, tt.line, tt.offset, tt.reasonPart)
			}
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	e := &DecodeError{File: "events.json", Line: 12, Offset: 5120, Reason: "invalid character '}' looking for beginning of object key string"}
	want := "decode events.json: line 12 (byte 5120): invalid character '}' looking for beginning of object key string"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
}

// TestFilterOnlyFields decodes a finding carrying every attribute that an
// AwsSecurityFindingFilters field reads (testdata/every-filter-field.json,
// shaped like the SDK's types.AwsSecurityFinding, which mirrors the ASFF
// syntax reference), by both decoding paths.
func TestFilterOnlyFields(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "every-filter-field.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkFastAgainstSlow(t, doc)
	if _, err := fastFinding(doc, skipSpace(doc, 0), new(wireFinding)); err != nil {
		t.Errorf("the fast path declined the finding: %v", err)
	}
	f, err := DecodeFinding(doc)
	if err != nil {
		t.Fatal(err)
	}
	ec2, key := f.Resources[0].DetailFields, f.Resources[1].DetailFields
	for _, c := range []struct {
		name string
		got  any
		want any
	}{
		{"AwsAccountName", f.AwsAccountName, "payments-prod"},
		{"VerificationState", f.VerificationState, "TRUE_POSITIVE"},
		{"Sample", f.Sample, true},
		{"Confidence", *f.Confidence, 85},
		{"Criticality", *f.Criticality, 60},
		{"SeverityProduct", *f.SeverityProduct, 8.0},
		{"FindingProviderFields", words(*f.FindingProviderFields.Confidence, *f.FindingProviderFields.Criticality,
			f.FindingProviderFields.SeverityLabel, f.FindingProviderFields.SeverityOriginal, f.FindingProviderFields.Types,
			f.FindingProviderFields.RelatedFindings[0].ID),
			"80 55 MEDIUM 5.0 [Software and Configuration Checks/Vulnerabilities/CVE] provider-related-1"},
		{"Malware", f.Malware, []Malware{{Name: "Trojan.Linux.Mirai", Path: "/tmp/.x/mirai", State: "OBSERVED", Type: "TROJAN"}}},
		{"Network", words(f.Network.Direction, f.Network.SourceIPv4, *f.Network.SourcePort, f.Network.DestinationIPv6,
			*f.Network.DestinationPort, f.Network.SourceMac), "IN 198.51.100.7 43210 2001:db8:1::25 22 00:25:96:FF:FE:12:34:56"},
		{"Note", words(f.Note.Text, "|", f.Note.UpdatedBy, "|", f.Note.UpdatedAt.Format(time.RFC3339)),
			"Investigating with the platform team. | alice | 2024-06-02T11:00:00Z"},
		{"Process", words(f.Process.Name, f.Process.Path, *f.Process.Pid, *f.Process.ParentPid, f.Process.TerminatedAt.Format(time.RFC3339)),
			"sshd /usr/sbin/sshd 1234 1 2024-06-02T12:00:00Z"},
		{"ThreatIntelIndicators", words(f.ThreatIntelIndicators[0].Category, f.ThreatIntelIndicators[0].SourceURL),
			"BACKDOOR https://threatintel.example.com/198.51.100.7"},
		{"Vulnerabilities", words(f.Vulnerabilities[0].FixAvailable, f.Vulnerabilities[0].ExploitAvailable), "YES NO"},
		{"Compliance.AssociatedStandards", f.Compliance.AssociatedStandards, []string{"standards/aws-foundational-security-best-practices/v/1.0.0"}},
		{"Compliance.SecurityControlParameters", f.Compliance.SecurityControlParameters, []ControlParameter{{Name: "authorizedTcpPorts", Values: []string{"80", "443"}}}},
		{"Resources[0].Application", f.Resources[0].ApplicationName + " " + f.Resources[0].ApplicationArn,
			"payments arn:aws:resource-groups:us-east-1:111122223333:group/payments/0abc"},
		{"AwsEc2Instance", words(ec2.Ec2Instance.Type, ec2.Ec2Instance.IPv4Addresses, ec2.Ec2Instance.VpcID, ec2.Ec2Instance.LaunchedAt.Year()),
			"t3.micro [10.0.1.25 54.240.196.186] vpc-0a1b2c3d 2024"},
		{"Other", ec2.Other, map[string]string{"owner": "platform-team"}},
		{"AwsIamAccessKey", words(key.IamAccessKey.PrincipalName, key.IamAccessKey.Status, key.IamAccessKey.CreatedAt.Year(), key.IamUserName),
			"deploy-bot-principal Active 2023 deploy-user"},
		{"AwsS3Bucket", key.S3Bucket.OwnerName, "payments-owner"},
		{"Container", words(key.Container.Name, key.Container.ImageName, key.Container.LaunchedAt.Month()), "payments-api payments/api:1.4.2 May"},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// words renders values separated by single spaces.
func words(vs ...any) string { return strings.TrimSpace(fmt.Sprintln(vs...)) }

// TestFilterOnlyFieldsAreLenient checks that an odd value in a field only
// filters read leaves that value zero and keeps the finding and the rest.
func TestFilterOnlyFieldsAreLenient(t *testing.T) {
	f, err := DecodeFinding([]byte(`{"Id":"a","ProductArn":"p","Title":"kept","Confidence":"not a number",` +
		`"Network":{"SourcePort":"x","SourceIpV4":["odd"],"Direction":"IN"},"Sample":"yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "kept" || f.Confidence != nil || f.Network.SourcePort != nil || f.Network.SourceIPv4 != "" ||
		f.Network.Direction != "IN" || f.Sample {
		t.Errorf("decoded %+v / %+v", f, f.Network)
	}
}
