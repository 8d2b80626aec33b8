package filter

import (
	"slices"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/internal/fixtures/asfftest"
)

// mustJSON compiles a JSON filter or fails the test.
func mustJSON(t testing.TB, s string) *Filters {
	t.Helper()
	f, err := fromJSON([]byte(s))
	if err != nil {
		t.Fatalf("fromJSON(%s): %v", s, err)
	}
	return f
}

// now is the fixed clock relative date filters are evaluated against.
var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// sshFinding mirrors the GuardDuty SSH brute force sample's fields.
func sshFinding() *asff.Finding {
	return &asff.Finding{
		ID:           "arn:aws:guardduty:us-west-2:123456789012:detector/abc/finding/def",
		ProductArn:   "arn:aws:securityhub:us-west-2::product/aws/guardduty",
		ProductName:  "GuardDuty",
		CompanyName:  "Amazon",
		Region:       "us-west-2",
		GeneratorID:  "arn:aws:guardduty:us-west-2:123456789012:detector/abc",
		AwsAccountID: "123456789012",
		Types:        []string{"TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce"},
		Title:        "198.51.100.0 is performing SSH brute force attacks against i-99999999.",
		Description:  "198.51.100.0 is performing SSH brute force attacks against i-99999999.",
		Severity:     asff.Severity{Label: "LOW", Normalized: 20},
		UpdatedAt:    time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC),
		CreatedAt:    time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
		ProductFields: map[string]string{
			"aws/guardduty/service/action/actionType": "NETWORK_CONNECTION",
			"aws/securityhub/ProductName":             "GuardDuty",
		},
		Resources: []asff.Resource{{
			Type: "AwsEc2Instance", ID: "arn:aws:ec2:us-west-2:123456789012:instance/i-99999999",
			Partition: "aws", Region: "us-west-2",
			Tags: map[string]string{"Environment": "prod", "Team": "payments"},
		}},
	}
}

// twoResources has an IAM role and an IAM policy resource.
func twoResources() *asff.Finding {
	x := sshFinding()
	x.Resources = []asff.Resource{
		{Type: "AwsIamRole", ID: "arn:aws:iam::123456789012:role/admin", Tags: map[string]string{"Environment": "dev"}},
		{Type: "AwsIamPolicy", ID: "arn:aws:iam::123456789012:policy/wide", Tags: map[string]string{"Owner": "secops team"}},
	}
	return x
}

type matchCase struct {
	name   string
	filter string
	x      *asff.Finding
	want   bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := mustJSON(t, c.filter)
			if got := f.Match(c.x, now); got != c.want {
				t.Errorf("Match(%s) = %v, want %v", c.filter, got, c.want)
			}
		})
	}
}

func TestStringComparisons(t *testing.T) {
	x := sshFinding()
	sf := func(field, cmp, v string) string {
		return `{"` + field + `":[{"Value":"` + v + `","Comparison":"` + cmp + `"}]}`
	}
	runMatchCases(t, []matchCase{
		{"EQUALS hit", sf("ProductName", "EQUALS", "GuardDuty"), x, true},
		{"EQUALS miss", sf("ProductName", "EQUALS", "Inspector"), x, false},
		{"EQUALS is case-sensitive", sf("ProductName", "EQUALS", "guardduty"), x, false},
		{"EQUALS is whole value", sf("ProductName", "EQUALS", "Guard"), x, false},
		{"PREFIX hit", sf("Region", "PREFIX", "us-"), x, true},
		{"PREFIX miss", sf("Region", "PREFIX", "eu-"), x, false},
		{"CONTAINS hit", sf("Title", "CONTAINS", "SSH brute force"), x, true},
		{"CONTAINS miss", sf("Title", "CONTAINS", "RDP"), x, false},
		{"CONTAINS is case-sensitive", sf("Title", "CONTAINS", "ssh"), x, false},
		{"NOT_EQUALS holds", sf("AwsAccountId", "NOT_EQUALS", "111111111111"), x, true},
		{"NOT_EQUALS fails", sf("AwsAccountId", "NOT_EQUALS", "123456789012"), x, false},
		{"PREFIX_NOT_EQUALS holds", sf("GeneratorId", "PREFIX_NOT_EQUALS", "security-control/"), x, true},
		{"PREFIX_NOT_EQUALS fails", sf("GeneratorId", "PREFIX_NOT_EQUALS", "arn:aws:guardduty"), x, false},
		{"NOT_CONTAINS holds", sf("Description", "NOT_CONTAINS", "RDP"), x, true},
		{"NOT_CONTAINS fails", sf("Description", "NOT_CONTAINS", "brute"), x, false},
		{"Id EQUALS", sf("Id", "EQUALS", x.ID), x, true},
		{"ProductArn PREFIX", sf("ProductArn", "PREFIX", "arn:aws:securityhub:us-west-2::product/aws/"), x, true},
		{"CompanyName", sf("CompanyName", "EQUALS", "Amazon"), x, true},
		{"SeverityLabel", sf("SeverityLabel", "EQUALS", "LOW"), x, true},
		{"SeverityLabel other", sf("SeverityLabel", "EQUALS", "HIGH"), x, false},
		{"absent ComplianceStatus fails EQUALS", sf("ComplianceStatus", "EQUALS", "FAILED"), x, false},
		{"absent ComplianceStatus passes NOT_EQUALS", sf("ComplianceStatus", "NOT_EQUALS", "PASSED"), x, true},
		{"absent control id fails PREFIX", sf("ComplianceSecurityControlId", "PREFIX", "EC2."), x, false},
		{"absent RecordState reads as ACTIVE", sf("RecordState", "EQUALS", "ACTIVE"), x, true},
		{"absent Workflow.Status reads as NEW", sf("WorkflowStatus", "EQUALS", "NEW"), x, true},
	})
}

func TestStringCombination(t *testing.T) {
	x := sshFinding()
	runMatchCases(t, []matchCase{
		{"positives are OR-ed", `{"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"},{"Value":"LOW","Comparison":"EQUALS"}]}`, x, true},
		{"positives all miss", `{"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"},{"Value":"CRITICAL","Comparison":"EQUALS"}]}`, x, false},
		{"EQUALS OR PREFIX", `{"Region":[{"Value":"eu-west-1","Comparison":"EQUALS"},{"Value":"us-","Comparison":"PREFIX"}]}`, x, true},
		{"negatives are AND-ed: both hold", `{"Title":[{"Value":"RDP","Comparison":"NOT_CONTAINS"},{"Value":"DNS","Comparison":"NOT_CONTAINS"}]}`, x, true},
		{"negatives are AND-ed: one fails", `{"Title":[{"Value":"RDP","Comparison":"NOT_CONTAINS"},{"Value":"SSH","Comparison":"NOT_CONTAINS"}]}`, x, false},
		{"PREFIX then NOT_EQUALS keeps", `{"Region":[{"Value":"us-","Comparison":"PREFIX"},{"Value":"us-east-1","Comparison":"NOT_EQUALS"}]}`, x, true},
		{"PREFIX then NOT_EQUALS excludes", `{"Region":[{"Value":"us-","Comparison":"PREFIX"},{"Value":"us-west-2","Comparison":"NOT_EQUALS"}]}`, x, false},
		{"PREFIX miss with NOT_EQUALS holding", `{"Region":[{"Value":"eu-","Comparison":"PREFIX"},{"Value":"us-east-1","Comparison":"NOT_EQUALS"}]}`, x, false},
		{"fields are AND-ed: both hold", `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}],"SeverityLabel":[{"Value":"LOW","Comparison":"EQUALS"}]}`, x, true},
		{"fields are AND-ed: one fails", `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}],"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"}]}`, x, false},
		{"empty filter matches", `{}`, x, true},
		{"empty list matches", `{"Title":[]}`, x, true},
	})
}

func TestMultiValuedStrings(t *testing.T) {
	two := twoResources()
	none := sshFinding()
	none.Resources, none.Types = nil, nil
	// The AWS example: resource types starting with AwsIam or AwsEc2, minus AwsIamPolicy and AwsEc2NetworkInterface.
	awsExample := `{"ResourceType":[{"Value":"AwsIam","Comparison":"PREFIX"},{"Value":"AwsEc2","Comparison":"PREFIX"},
		{"Value":"AwsIamPolicy","Comparison":"NOT_EQUALS"},{"Value":"AwsEc2NetworkInterface","Comparison":"NOT_EQUALS"}]}`
	role := twoResources()
	role.Resources = role.Resources[:1]
	runMatchCases(t, []matchCase{
		{"Type any element", `{"Type":[{"Value":"TTPs/Initial Access","Comparison":"PREFIX"}]}`, sshFinding(), true},
		{"Type none", `{"Type":[{"Value":"Software and Configuration Checks","Comparison":"PREFIX"}]}`, sshFinding(), false},
		{"ResourceType second resource matches", `{"ResourceType":[{"Value":"AwsIamPolicy","Comparison":"EQUALS"}]}`, two, true},
		{"ResourceType NOT_EQUALS fails if any resource equals", `{"ResourceType":[{"Value":"AwsIamPolicy","Comparison":"NOT_EQUALS"}]}`, two, false},
		{"ResourceType NOT_EQUALS holds when no resource equals", `{"ResourceType":[{"Value":"AwsS3Bucket","Comparison":"NOT_EQUALS"}]}`, two, true},
		{"AWS doc example excludes the policy", awsExample, two, false},
		{"AWS doc example keeps the role", awsExample, role, true},
		{"AWS doc example drops EC2 instance? no, it starts with AwsEc2", awsExample, sshFinding(), true},
		{"ResourceId CONTAINS", `{"ResourceId":[{"Value":"policy/wide","Comparison":"CONTAINS"}]}`, two, true},
		{"ResourceRegion", `{"ResourceRegion":[{"Value":"us-west-2","Comparison":"EQUALS"}]}`, sshFinding(), true},
		{"ResourcePartition", `{"ResourcePartition":[{"Value":"aws-cn","Comparison":"EQUALS"}]}`, sshFinding(), false},
		{"no resources fails positive", `{"ResourceType":[{"Value":"Aws","Comparison":"PREFIX"}]}`, none, false},
		{"no resources passes negative", `{"ResourceType":[{"Value":"AwsIamPolicy","Comparison":"NOT_EQUALS"}]}`, none, true},
		{"no types passes NOT_CONTAINS", `{"Type":[{"Value":"Sensitive Data","Comparison":"NOT_CONTAINS"}]}`, none, true},
	})
}

func TestNumberFilter(t *testing.T) {
	x := sshFinding() // Normalized 20
	runMatchCases(t, []matchCase{
		{"Gte hit", `{"SeverityNormalized":[{"Gte":20}]}`, x, true},
		{"Gt boundary", `{"SeverityNormalized":[{"Gt":20}]}`, x, false},
		{"Lte hit", `{"SeverityNormalized":[{"Lte":20}]}`, x, true},
		{"Lt boundary", `{"SeverityNormalized":[{"Lt":20}]}`, x, false},
		{"Eq", `{"SeverityNormalized":[{"Eq":20}]}`, x, true},
		{"Eq float", `{"SeverityNormalized":[{"Eq":20.5}]}`, x, false},
		{"range inside", `{"SeverityNormalized":[{"Gte":1,"Lte":39}]}`, x, true},
		{"range outside", `{"SeverityNormalized":[{"Gte":70,"Lte":100}]}`, x, false},
		{"entries are alternatives", `{"SeverityNormalized":[{"Gte":70},{"Lt":30}]}`, x, true},
	})
}

func TestDateFilter(t *testing.T) {
	x := sshFinding() // UpdatedAt 2024-06-10T08:00Z, CreatedAt 2024-05-01T08:00Z; now 2024-06-15T12:00Z
	runMatchCases(t, []matchCase{
		{"Start/End inside", `{"UpdatedAt":[{"Start":"2024-06-01T00:00:00Z","End":"2024-06-30T00:00:00Z"}]}`, x, true},
		{"Start/End inclusive", `{"UpdatedAt":[{"Start":"2024-06-10T08:00:00Z","End":"2024-06-10T08:00:00.000Z"}]}`, x, true},
		{"End before", `{"UpdatedAt":[{"End":"2024-06-10T07:59:59Z"}]}`, x, false},
		{"Start only", `{"CreatedAt":[{"Start":"2024-04-30T00:00:00+02:00"}]}`, x, true},
		{"offset honoured: 07:30Z", `{"UpdatedAt":[{"Start":"2024-06-10T08:30:00+01:00"}]}`, x, true},
		{"offset honoured: 08:30Z", `{"UpdatedAt":[{"Start":"2024-06-10T09:30:00+01:00"}]}`, x, false},
		{"within 7 days", `{"UpdatedAt":[{"DateRange":{"Value":7,"Unit":"DAYS"}}]}`, x, true},
		{"within 5 days (5d4h ago)", `{"UpdatedAt":[{"DateRange":{"Value":5,"Unit":"DAYS"}}]}`, x, false},
		{"explicit WITHIN", `{"UpdatedAt":[{"DateRange":{"Value":6,"Unit":"DAYS","Comparison":"WITHIN"}}]}`, x, true},
		{"OLDER_THAN 30 days", `{"CreatedAt":[{"DateRange":{"Value":30,"Unit":"DAYS","Comparison":"OLDER_THAN"}}]}`, x, true},
		{"not OLDER_THAN 60 days", `{"CreatedAt":[{"DateRange":{"Value":60,"Unit":"DAYS","Comparison":"OLDER_THAN"}}]}`, x, false},
		{"missing timestamp never matches", `{"FirstObservedAt":[{"DateRange":{"Value":3650,"Unit":"DAYS"}}]}`, x, false},
		{"missing timestamp not OLDER_THAN", `{"LastObservedAt":[{"DateRange":{"Value":1,"Unit":"DAYS","Comparison":"OLDER_THAN"}}]}`, x, false},
		{"entries are alternatives", `{"UpdatedAt":[{"End":"2020-01-01T00:00:00Z"},{"DateRange":{"Value":7,"Unit":"DAYS"}}]}`, x, true},
	})
	t.Run("relative to now", func(t *testing.T) {
		f := mustJSON(t, `{"UpdatedAt":[{"DateRange":{"Value":7,"Unit":"DAYS"}}]}`)
		if f.Match(x, now.AddDate(0, 1, 0)) {
			t.Error("a finding updated 5 days before now must not be within 7 days of a month later")
		}
	})
}

func TestMapFilter(t *testing.T) {
	x := sshFinding()
	two := twoResources()
	mf := func(field, key, cmp, v string) string {
		return `{"` + field + `":[{"Key":"` + key + `","Value":"` + v + `","Comparison":"` + cmp + `"}]}`
	}
	runMatchCases(t, []matchCase{
		{"tag EQUALS", mf("ResourceTags", "Environment", "EQUALS", "prod"), x, true},
		{"tag EQUALS wrong value", mf("ResourceTags", "Environment", "EQUALS", "dev"), x, false},
		{"tag EQUALS is case-sensitive", mf("ResourceTags", "Environment", "EQUALS", "Prod"), x, false},
		{"tag on second resource", mf("ResourceTags", "Owner", "CONTAINS", "secops"), two, true},
		{"tag NOT_EQUALS fails on any resource", mf("ResourceTags", "Environment", "NOT_EQUALS", "dev"), two, false},
		{"tag NOT_EQUALS holds", mf("ResourceTags", "Environment", "NOT_EQUALS", "dev"), x, true},
		{"missing tag passes NOT_EQUALS", mf("ResourceTags", "CostCenter", "NOT_EQUALS", "42"), x, true},
		{"missing tag fails EQUALS", mf("ResourceTags", "CostCenter", "EQUALS", "42"), x, false},
		{"NOT_CONTAINS", mf("ResourceTags", "Team", "NOT_CONTAINS", "pay"), x, false},
		{"ProductFields EQUALS", mf("ProductFields", "aws/guardduty/service/action/actionType", "EQUALS", "NETWORK_CONNECTION"), x, true},
		{"ProductFields CONTAINS miss", mf("ProductFields", "aws/guardduty/service/action/actionType", "CONTAINS", "DNS"), x, false},
		{"UserDefinedFields absent map", mf("UserDefinedFields", "ticket", "EQUALS", "SEC-1"), x, false},
		{"UserDefinedFields absent map, negative", mf("UserDefinedFields", "ticket", "NOT_EQUALS", "SEC-1"), x, true},
		{"same key OR-ed", `{"ResourceTags":[{"Key":"Environment","Value":"dev","Comparison":"EQUALS"},{"Key":"Environment","Value":"prod","Comparison":"EQUALS"}]}`, x, true},
		{"different keys AND-ed: both hold", `{"ResourceTags":[{"Key":"Environment","Value":"prod","Comparison":"EQUALS"},{"Key":"Team","Value":"payments","Comparison":"EQUALS"}]}`, x, true},
		{"different keys AND-ed: one fails", `{"ResourceTags":[{"Key":"Environment","Value":"prod","Comparison":"EQUALS"},{"Key":"Team","Value":"identity","Comparison":"EQUALS"}]}`, x, false},
	})
	withUDF := sshFinding()
	withUDF.UserDefinedFields = map[string]string{"ticket": "SEC-1"}
	if !mustJSON(t, mf("UserDefinedFields", "ticket", "EQUALS", "SEC-1")).Match(withUDF, now) {
		t.Error("UserDefinedFields ticket EQUALS SEC-1 did not match a finding with that field")
	}
}

func TestNilAndEmptyMatchEverything(t *testing.T) {
	var nilFilter *Filters
	if !nilFilter.Match(sshFinding(), now) || !nilFilter.Empty() {
		t.Error("a nil filter must match every finding")
	}
	for _, in := range []string{`{}`, `null`} {
		f := mustJSON(t, in)
		if !f.Match(&asff.Finding{}, now) || !f.Empty() {
			t.Errorf("%s must match every finding", in)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f := mustJSON(t, benchFilter)
	x := twoResources()
	if n := testing.AllocsPerRun(200, func() { f.Match(x, now) }); n != 0 {
		t.Errorf("Match allocated %.0f times per call, want 0", n)
	}
}

// benchFilter exercises every matcher kind.
const benchFilter = `{
  "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
  "WorkflowStatus": [{"Value": "RESOLVED", "Comparison": "NOT_EQUALS"}, {"Value": "SUPPRESSED", "Comparison": "NOT_EQUALS"}],
  "SeverityLabel": [{"Value": "LOW", "Comparison": "EQUALS"}, {"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "CRITICAL", "Comparison": "EQUALS"}],
  "SeverityNormalized": [{"Gte": 1}],
  "UpdatedAt": [{"DateRange": {"Value": 30, "Unit": "DAYS"}}],
  "ResourceType": [{"Value": "AwsIam", "Comparison": "PREFIX"}, {"Value": "AwsEc2NetworkInterface", "Comparison": "NOT_EQUALS"}],
  "ResourceTags": [{"Key": "Owner", "Value": "secops", "Comparison": "CONTAINS"}]
}`

// BenchmarkMatch runs filters of growing size over every fixture finding.
func BenchmarkMatch(b *testing.B) {
	corpus := benchCorpus(b)
	filters := []struct{ name, src string }{
		{"severity", `{"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"},{"Value":"HIGH","Comparison":"EQUALS"}]}`},
		{"open-failed-high", `{
			"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
			"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "NOT_EQUALS"}, {"Value": "RESOLVED", "Comparison": "NOT_EQUALS"}],
			"ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
			"SeverityNormalized": [{"Gte": 70}]}`},
		{"cli", cliFilter},
		{"every-kind", benchFilter},
	}
	for _, fc := range filters {
		b.Run(fc.name, func(b *testing.B) {
			f := mustJSON(b, fc.src)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Match(corpus[i%len(corpus)], now)
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "findings/s")
		})
	}
}

// benchCorpus is every decodable fixture finding plus the literal ones.
func benchCorpus(b *testing.B) []*asff.Finding {
	corpus := []*asff.Finding{sshFinding(), twoResources()}
	for _, rel := range []string{"arrays/findingsmanager-19-mixed.json", "arrays/findingsmanager-5-suppressed-archived.json",
		"arrays/findingsmanager-4-archived.json", "arrays/xsoar-10-archived-controls.json"} {
		corpus = append(corpus, asfftest.Array(b, rel)...)
	}
	for _, rel := range []string{"findings/guardduty-ssh-bruteforce.json", "findings/control-consolidated-CloudTrail.2.json",
		"findings/config-s3-bucket.json", "findings/inspector-classic-network-reachability.json", "findings/health-other-resource.json"} {
		corpus = append(corpus, asfftest.Finding(b, rel))
	}
	return corpus
}

// TestOnlyIsALooserFilter: the restriction to some fields keeps their
// criteria and drops the others; nil when none is used.
func TestOnlyIsALooserFilter(t *testing.T) {
	f := mustJSON(t, `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}],"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"}]}`)
	x := sshFinding()
	if f.Match(x, time.Now()) {
		t.Fatal("fixture unexpectedly matches the full filter")
	}
	only := f.Only("ProductName", "GeneratorId")
	if only == nil || !only.Match(x, time.Now()) || !slices.Equal(only.Fields(), []string{"ProductName"}) {
		t.Errorf("Only(ProductName, GeneratorId) = %v fields %v; want ProductName alone, matching the GuardDuty finding", only, only.Fields())
	}
	if other := mustJSON(t, `{"ProductName":[{"Value":"Macie","Comparison":"EQUALS"}]}`).Only("ProductName"); other.Match(x, time.Now()) {
		t.Error("Only kept no criterion: a Macie filter matches a GuardDuty finding")
	}
	if f.Only("GeneratorId") != nil {
		t.Error("Only of an unused field is not nil")
	}
}
