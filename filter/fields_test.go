package filter

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/asff"
)

// fieldCase is a filter on one field that the finding in
// asff/testdata/every-filter-field.json matches, and filters on it that
// the finding does not match. The values are chosen so that reading the
// wrong attribute fails: a negative often holds the value of a sibling
// attribute (the provider's confidence for Confidence, the source address
// for a destination filter).
type fieldCase struct {
	match string
	miss  []string
}

func eq(v string) string  { return `[{"Value": "` + v + `", "Comparison": "EQUALS"}]` }
func neq(v string) string { return `[{"Value": "` + v + `", "Comparison": "NOT_EQUALS"}]` }
func cmp(c, v string) string {
	return `[{"Value": "` + v + `", "Comparison": "` + c + `"}]`
}
func num(op string, v float64) string { return fmt.Sprintf(`[{"%s": %v}]`, op, v) }
func cidr(c string) string            { return `[{"Cidr": "` + c + `"}]` }
func mapEq(k, v, c string) string {
	return `[{"Key": "` + k + `", "Value": "` + v + `", "Comparison": "` + c + `"}]`
}

// around is a DateFilter of the two minutes around t.
func around(t string) string {
	at, err := time.Parse(time.RFC3339, t)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`[{"Start": %q, "End": %q}]`, at.Add(-time.Minute).Format(time.RFC3339), at.Add(time.Minute).Format(time.RFC3339))
}

// ok is a string field matched by EQUALS v and missed by NOT_EQUALS v.
func ok(v string) fieldCase { return fieldCase{eq(v), []string{neq(v)}} }

// okNot is a string field matched by EQUALS v and missed by EQUALS other.
func okNot(v, other string) fieldCase { return fieldCase{eq(v), []string{eq(other)}} }

const (
	guardDutyArn = "arn:aws:securityhub:us-east-1::product/aws/guardduty"
	inspectorArn = "arn:aws:securityhub:us-east-1::product/aws/inspector"
)

var everyField = map[string]fieldCase{
	"AwsAccountId":                                   ok("111122223333"),
	"AwsAccountName":                                 ok("payments-prod"),
	"CompanyName":                                    ok("Amazon"),
	"ComplianceAssociatedStandardsId":                {cmp("PREFIX", "standards/aws-foundational-security-best-practices/"), []string{cmp("PREFIX", "standards/cis")}},
	"ComplianceSecurityControlId":                    okNot("EC2.19", "EC2.18"),
	"ComplianceSecurityControlParametersName":        ok("authorizedTcpPorts"),
	"ComplianceSecurityControlParametersValue":       {eq("443"), []string{eq("22"), neq("80")}},
	"ComplianceStatus":                               okNot("FAILED", "PASSED"),
	"Confidence":                                     {num("Eq", 85), []string{num("Eq", 80), num("Lt", 85)}},
	"CreatedAt":                                      {around("2024-06-01T10:05:00Z"), []string{around("2024-06-01T10:00:00Z")}},
	"Criticality":                                    {num("Gte", 60), []string{num("Eq", 55)}},
	"Description":                                    {cmp("CONTAINS", "guessing the SSH password"), []string{cmp("NOT_CONTAINS", "guessing the SSH password")}},
	"FindingProviderFieldsConfidence":                {num("Eq", 80), []string{num("Eq", 85)}},
	"FindingProviderFieldsCriticality":               {num("Lte", 55), []string{num("Eq", 60)}},
	"FindingProviderFieldsRelatedFindingsId":         okNot("provider-related-1", "related-1"),
	"FindingProviderFieldsRelatedFindingsProductArn": okNot(inspectorArn, guardDutyArn),
	"FindingProviderFieldsSeverityLabel":             okNot("MEDIUM", "HIGH"),
	"FindingProviderFieldsSeverityOriginal":          okNot("5.0", "8.0"),
	"FindingProviderFieldsTypes":                     {cmp("PREFIX", "Software and Configuration Checks/"), []string{cmp("PREFIX", "TTPs/")}},
	"FirstObservedAt":                                {around("2024-06-01T10:00:00Z"), []string{around("2024-06-02T10:00:00Z")}},
	"GeneratorId":                                    {cmp("PREFIX", "arn:aws:guardduty:us-east-1:111122223333:detector/"), []string{cmp("PREFIX", "arn:aws:securityhub")}},
	"Id":                                             {cmp("CONTAINS_WORD", "every-field"), []string{cmp("CONTAINS_WORD", "every-fiel"), eq("every-field")}},
	"Keyword":                                        {`[{"Value": "brute"}]`, []string{`[{"Value": "brut"}]`, `[{"Value": "SourceMac"}]`}},
	"LastObservedAt":                                 {around("2024-06-02T10:00:00Z"), []string{around("2024-06-02T10:05:00Z")}},
	"MalwareName":                                    {cmp("PREFIX", "Trojan."), []string{neq("Trojan.Linux.Mirai")}},
	"MalwarePath":                                    ok("/tmp/.x/mirai"),
	"MalwareState":                                   ok("OBSERVED"),
	"MalwareType":                                    ok("TROJAN"),
	"NetworkDestinationDomain":                       okNot("bastion.example.com", "attacker.example.net"),
	"NetworkDestinationIpV4":                         {cidr("10.0.0.0/16"), []string{cidr("198.51.100.0/24")}},
	"NetworkDestinationIpV6":                         {cidr("2001:db8:1::/48"), []string{cidr("2001:db8::7")}},
	"NetworkDestinationPort":                         {num("Eq", 22), []string{num("Eq", 43210)}},
	"NetworkDirection":                               ok("IN"),
	"NetworkProtocol":                                okNot("TCP", "UDP"),
	"NetworkSourceDomain":                            okNot("attacker.example.net", "bastion.example.com"),
	"NetworkSourceIpV4":                              {cidr("198.51.100.7"), []string{cidr("10.0.1.0/24")}},
	"NetworkSourceIpV6":                              {cidr("2001:db8::/120"), []string{cidr("2001:db8:1::/48")}},
	"NetworkSourceMac":                               ok("00:25:96:FF:FE:12:34:56"),
	"NetworkSourcePort":                              {num("Gte", 1024), []string{num("Lt", 1024)}},
	"NoteText":                                       {cmp("CONTAINS", "platform team"), []string{cmp("NOT_CONTAINS", "platform team")}},
	"NoteUpdatedAt":                                  {around("2024-06-02T11:00:00Z"), []string{around("2024-06-02T10:05:00Z")}},
	"NoteUpdatedBy":                                  ok("alice"),
	"ProcessLaunchedAt":                              {around("2024-05-30T08:00:00Z"), []string{around("2024-06-02T12:00:00Z")}},
	"ProcessName":                                    ok("sshd"),
	"ProcessParentPid":                               {num("Eq", 1), []string{num("Eq", 1234)}},
	"ProcessPath":                                    ok("/usr/sbin/sshd"),
	"ProcessPid":                                     {num("Eq", 1234), []string{num("Eq", 1)}},
	"ProcessTerminatedAt":                            {around("2024-06-02T12:00:00Z"), []string{around("2024-05-30T08:00:00Z")}},
	"ProductArn":                                     okNot(guardDutyArn, inspectorArn),
	"ProductFields":                                  {mapEq("aws/guardduty/service/action/actionType", "NETWORK_CONNECTION", "EQUALS"), []string{mapEq("aws/guardduty/service/action/actionType", "NETWORK_CONNECTION", "NOT_EQUALS")}},
	"ProductName":                                    ok("GuardDuty"),
	"RecommendationText":                             {cmp("CONTAINS", "security group"), []string{cmp("NOT_CONTAINS", "security group")}},
	"RecordState":                                    okNot("ACTIVE", "ARCHIVED"),
	"Region":                                         okNot("us-east-1", "us-west-2"),
	"RelatedFindingsId":                              okNot("related-1", "provider-related-1"),
	"RelatedFindingsProductArn":                      okNot(guardDutyArn, inspectorArn),
	"ResourceApplicationArn":                         ok("arn:aws:resource-groups:us-east-1:111122223333:group/payments/0abc"),
	"ResourceApplicationName":                        ok("payments"),
	"ResourceAwsEc2InstanceIamInstanceProfileArn":    ok("arn:aws:iam::111122223333:instance-profile/bastion"),
	"ResourceAwsEc2InstanceImageId":                  ok("ami-0abcdef1234567890"),
	"ResourceAwsEc2InstanceIpV4Addresses":            {cidr("54.240.196.0/24"), []string{cidr("198.51.100.0/24")}},
	"ResourceAwsEc2InstanceIpV6Addresses":            {cidr("2001:db8:1::25"), []string{cidr("2001:db8::7")}},
	"ResourceAwsEc2InstanceKeyName":                  ok("bastion-key"),
	"ResourceAwsEc2InstanceLaunchedAt":               {around("2024-05-01T00:00:00Z"), []string{around("2024-05-20T00:00:00Z")}},
	"ResourceAwsEc2InstanceSubnetId":                 ok("subnet-0a1b2c3d"),
	"ResourceAwsEc2InstanceType":                     {eq("t3.micro"), []string{cmp("PREFIX", "m5.")}},
	"ResourceAwsEc2InstanceVpcId":                    ok("vpc-0a1b2c3d"),
	"ResourceAwsIamAccessKeyCreatedAt":               {around("2023-01-15T00:00:00Z"), []string{around("2024-05-01T00:00:00Z")}},
	"ResourceAwsIamAccessKeyPrincipalName":           okNot("deploy-bot-principal", "deploy-bot"),
	"ResourceAwsIamAccessKeyStatus":                  ok("Active"),
	"ResourceAwsIamAccessKeyUserName":                okNot("deploy-bot", "deploy-user"),
	"ResourceAwsIamUserUserName":                     okNot("deploy-user", "deploy-bot"),
	"ResourceAwsS3BucketOwnerId":                     ok("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
	"ResourceAwsS3BucketOwnerName":                   ok("payments-owner"),
	"ResourceContainerImageId":                       ok("sha256:0123abcd"),
	"ResourceContainerImageName":                     ok("payments/api:1.4.2"),
	"ResourceContainerLaunchedAt":                    {around("2024-05-20T00:00:00Z"), []string{around("2024-05-01T00:00:00Z")}},
	"ResourceContainerName":                          ok("payments-api"),
	"ResourceDetailsOther":                           {mapEq("owner", "platform-team", "EQUALS"), []string{mapEq("owner", "platform-team", "NOT_EQUALS")}},
	"ResourceId":                                     {cmp("PREFIX", "arn:aws:ec2:"), []string{neq("AWS::IAM::AccessKey:AKIAIOSFODNN7EXAMPLE")}},
	"ResourcePartition":                              okNot("aws", "aws-cn"),
	"ResourceRegion":                                 okNot("us-east-1", "eu-west-1"),
	"ResourceTags":                                   {mapEq("environment", "production", "EQUALS"), []string{mapEq("environment", "production", "NOT_EQUALS")}},
	"ResourceType":                                   {eq("AwsIamAccessKey"), []string{neq("AwsEc2Instance")}},
	"Sample":                                         {`[{"Value": true}]`, []string{`[{"Value": false}]`}},
	"SeverityLabel":                                  okNot("HIGH", "MEDIUM"),
	"SeverityNormalized":                             {num("Eq", 70), []string{num("Lt", 70), num("Eq", 8)}},
	"SeverityProduct":                                {num("Eq", 8), []string{num("Eq", 70)}},
	"SourceUrl":                                      {cmp("PREFIX", "https://console.aws.amazon.com/guardduty/"), []string{cmp("PREFIX", "https://threatintel")}},
	"ThreatIntelIndicatorCategory":                   ok("BACKDOOR"),
	"ThreatIntelIndicatorLastObservedAt":             {around("2024-06-01T09:00:00Z"), []string{around("2024-06-01T10:00:00Z")}},
	"ThreatIntelIndicatorSource":                     ok("ProofPoint"),
	"ThreatIntelIndicatorSourceUrl":                  ok("https://threatintel.example.com/198.51.100.7"),
	"ThreatIntelIndicatorType":                       ok("IPV4_ADDRESS"),
	"ThreatIntelIndicatorValue":                      ok("198.51.100.7"),
	"Title":                                          {cmp("CONTAINS", "SSH brute force"), []string{cmp("NOT_CONTAINS", "SSH brute force")}},
	"Type":                                           {cmp("PREFIX", "TTPs/Initial Access/"), []string{cmp("PREFIX", "Software and Configuration Checks")}},
	"UpdatedAt":                                      {around("2024-06-02T10:05:00Z"), []string{around("2024-06-02T10:00:00Z")}},
	"UserDefinedFields":                              {mapEq("ticket", "SEC-1234", "EQUALS"), []string{mapEq("ticket", "SEC-1234", "NOT_EQUALS")}},
	"VerificationState":                              okNot("TRUE_POSITIVE", "FALSE_POSITIVE"),
	"VulnerabilitiesExploitAvailable":                okNot("NO", "YES"),
	"VulnerabilitiesFixAvailable":                    okNot("YES", "NO"),
	"WorkflowState":                                  okNot("NEW", "ASSIGNED"),
	"WorkflowStatus":                                 okNot("NOTIFIED", "NEW"),
}

// TestEveryFieldReadsItsAttribute checks, for every field of
// types.AwsSecurityFindingFilters, that a filter on it matches the finding
// by the ASFF attribute the field names, and not by another; and that the
// filter survives a round trip through the SDK type (the daemon's
// push-down).
func TestEveryFieldReadsItsAttribute(t *testing.T) {
	x := everyFieldFinding(t)
	sdk := reflect.TypeFor[types.AwsSecurityFindingFilters]()
	for i := range sdk.NumField() {
		name := sdk.Field(i).Name
		if !sdk.Field(i).IsExported() {
			continue
		}
		c, ok := everyField[name]
		if !ok {
			t.Errorf("%s: no case in everyField", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := mustJSON(t, `{"`+name+`": `+c.match+`}`)
			if !f.Match(x, now) {
				t.Errorf("%s does not match", c.match)
			}
			back, err := FromSDK(f.SDK())
			if err != nil || !back.Match(x, now) || !reflect.DeepEqual(back.SDK(), f.SDK()) {
				t.Errorf("through the SDK type: %v, or it no longer matches", err)
			}
			for _, miss := range c.miss {
				if mustJSON(t, `{"`+name+`": `+miss+`}`).Match(x, now) {
					t.Errorf("%s matches", miss)
				}
			}
			// RecordState defaults to ACTIVE, as Security Hub sets it.
			if f.Match(bareFinding(), now) && name != "RecordState" {
				t.Errorf("%s matches a finding without the attribute", c.match)
			}
		})
	}
}

// everyFieldFinding decodes the finding that carries every attribute a
// filter field reads.
func everyFieldFinding(t *testing.T) *asff.Finding {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "asff", "testdata", "every-filter-field.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := asff.DecodeFinding(doc)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// bareFinding has only the attributes every finding has.
func bareFinding() *asff.Finding {
	return &asff.Finding{ID: "bare", ProductArn: "arn:aws:securityhub:eu-west-3::product/example/bare",
		Raw: []byte(`{"Id":"bare","ProductArn":"arn:aws:securityhub:eu-west-3::product/example/bare"}`)}
}

func TestContainsWord(t *testing.T) {
	for _, c := range []struct {
		s, w string
		want bool
	}{
		{"Amazon CloudFront distribution", "CloudFront", true},
		{"CloudFrontOrigin", "CloudFront", false},
		{"my_CloudFront", "CloudFront", false},
		{"CloudFront", "CloudFront", true},
		{"a CloudFrontX CloudFront", "CloudFront", true}, // a later occurrence
		{"path /etc/passwd read", "/etc/passwd", true},
		{"x/etc/passwd", "/etc/passwd", true}, // the value starts with a non-word character
		{"SSH brute force", "brute force", true},
		{"SSH brute forced", "brute force", false},
		{"café au lait", "caf", false},
		{"Café", "café", false}, // case-sensitive, like every comparison
		{"anything", "", false},
	} {
		if got := containsWord(c.s, c.w); got != c.want {
			t.Errorf("containsWord(%q, %q) = %v, want %v", c.s, c.w, got, c.want)
		}
	}
}

func TestKeywordMatchesValuesNotKeys(t *testing.T) {
	x, err := asff.DecodeFinding([]byte(`{"Id":"a","ProductArn":"p","Title":"brute\u0020force","Note":{"Text":"see \"runbook\""}}`))
	if err != nil {
		t.Fatal(err)
	}
	for kw, want := range map[string]bool{"force": true, "runbook": true, "Title": false, "Note": false, "brute force": true, "a": true, "b": false} {
		f := mustJSON(t, `{"Keyword": [{"Value": "`+kw+`"}]}`)
		if got := f.Match(x, now); got != want {
			t.Errorf("Keyword %q: %v, want %v", kw, got, want)
		}
	}
}

func TestNewFieldMatchersDoNotAllocate(t *testing.T) {
	x := everyFieldFinding(t)
	f := mustJSON(t, `{"NetworkSourceIpV4": `+cidr("198.51.100.0/24")+`, "ResourceAwsEc2InstanceIpV4Addresses": `+cidr("54.240.196.0/24")+
		`, "Sample": [{"Value": true}], "Confidence": [{"Gte": 50}], "Id": `+cmp("CONTAINS_WORD", "every-field")+
		`, "ThreatIntelIndicatorLastObservedAt": [{"DateRange": {"Value": 30, "Unit": "DAYS"}}], "Keyword": [{"Value": "brute"}]}`)
	if !f.Match(x, time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("the filter does not match")
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(x, now) }); n != 0 {
		t.Errorf("Match allocated %.0f times per call, want 0", n)
	}
}
