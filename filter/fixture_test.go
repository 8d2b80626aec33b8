package filter

import (
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/internal/fixtures/asfftest"
)

// matching returns the indexes of the findings f matches.
func matching(f *Filters, xs []*asff.Finding, now time.Time) []int {
	var idx []int
	for i, x := range xs {
		if f.Match(x, now) {
			idx = append(idx, i)
		}
	}
	return idx
}

func TestGuardDutySSHFixture(t *testing.T) {
	x := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	// The finding was updated 2020-09-30T12:14:00.206Z.
	soon := time.Date(2020, 10, 15, 0, 0, 0, 0, time.UTC)
	later := time.Date(2020, 11, 15, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		filter string
		now    time.Time
		want   bool
	}{
		{"ProductName from ProductFields", `{"ProductName":[{"Value":"GuardDuty","Comparison":"EQUALS"}]}`, soon, true},
		{"CompanyName", `{"CompanyName":[{"Value":"Amazon","Comparison":"EQUALS"}]}`, soon, true},
		{"Type prefix", `{"Type":[{"Value":"TTPs/Initial Access/","Comparison":"PREFIX"}]}`, soon, true},
		{"Type exact other", `{"Type":[{"Value":"TTPs/Initial Access/UnauthorizedAccess:EC2-RDPBruteForce","Comparison":"EQUALS"}]}`, soon, false},
		{"severity MEDIUM", `{"SeverityLabel":[{"Value":"MEDIUM","Comparison":"EQUALS"}]}`, soon, true},
		{"normalized 40 within Gte 40", `{"SeverityNormalized":[{"Gte":40}]}`, soon, true},
		{"normalized 40 not Gt 40", `{"SeverityNormalized":[{"Gt":40}]}`, soon, false},
		{"tag Name", `{"ResourceTags":[{"Key":"Name","Value":"kubectl","Comparison":"EQUALS"}]}`, soon, true},
		{"tag Name NOT_EQUALS", `{"ResourceTags":[{"Key":"Name","Value":"kubectl","Comparison":"NOT_EQUALS"}]}`, soon, false},
		{"ProductFields port 22", `{"ProductFields":[{"Key":"aws/guardduty/service/action/networkConnectionAction/localPortDetails/port","Value":"22","Comparison":"EQUALS"}]}`, soon, true},
		{"ProductFields archived false", `{"ProductFields":[{"Key":"aws/guardduty/service/archived","Value":"true","Comparison":"NOT_EQUALS"}]}`, soon, true},
		{"resource id contains instance", `{"ResourceId":[{"Value":"i-0c10c2c7863d1a356","Comparison":"CONTAINS"}]}`, soon, true},
		{"resource region", `{"ResourceRegion":[{"Value":"us-east-1","Comparison":"EQUALS"}]}`, soon, true},
		{"no compliance passes NOT_EQUALS PASSED", `{"ComplianceStatus":[{"Value":"PASSED","Comparison":"NOT_EQUALS"}]}`, soon, true},
		{"exact millisecond window", `{"UpdatedAt":[{"Start":"2020-09-30T12:14:00.206Z","End":"2020-09-30T12:14:00.206Z"}]}`, soon, true},
		{"second-precision FirstObservedAt", `{"FirstObservedAt":[{"End":"2020-08-22T09:15:56Z"}]}`, soon, false},
		{"updated within 30 days (soon)", `{"UpdatedAt":[{"DateRange":{"Value":30,"Unit":"DAYS"}}]}`, soon, true},
		{"updated within 30 days (later)", `{"UpdatedAt":[{"DateRange":{"Value":30,"Unit":"DAYS"}}]}`, later, false},
		{"SSH title and active", `{"Title":[{"Value":"SSH brute force","Comparison":"CONTAINS"}],"RecordState":[{"Value":"ACTIVE","Comparison":"EQUALS"}]}`, soon, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustJSON(t, c.filter).Match(x, c.now); got != c.want {
				t.Errorf("Match(%s) = %v, want %v", c.filter, got, c.want)
			}
		})
	}
}

func TestConsolidatedControlFixture(t *testing.T) {
	x := asfftest.Finding(t, "findings/control-consolidated-CloudTrail.2.json")
	legacy := asfftest.Finding(t, "findings/control-fsbp-CloudTrail.2-legacy.json")
	f := mustJSON(t, `{
		"ComplianceSecurityControlId": [{"Value": "CloudTrail.2", "Comparison": "EQUALS"}],
		"ComplianceStatus": [{"Value": "FAILED", "Comparison": "EQUALS"}],
		"ResourceType": [{"Value": "AwsCloudTrailTrail", "Comparison": "EQUALS"}]
	}`)
	if !f.Match(x, now) {
		t.Error("consolidated CloudTrail.2 finding does not match its own control id")
	}
	if !f.Match(legacy, now) {
		t.Error("legacy FSBP CloudTrail.2 finding (control id from ProductFields) does not match")
	}
	consolidatedOnly := mustJSON(t, `{"GeneratorId": [{"Value": "security-control/", "Comparison": "PREFIX"}]}`)
	if !consolidatedOnly.Match(x, now) || consolidatedOnly.Match(legacy, now) {
		t.Error("GeneratorId PREFIX security-control/ must pick the consolidated finding only")
	}
}

func TestArrayFixtures(t *testing.T) {
	mixed := asfftest.Array(t, "arrays/findingsmanager-19-mixed.json")
	suppressed := asfftest.Array(t, "arrays/findingsmanager-5-suppressed-archived.json")
	archived4 := asfftest.Array(t, "arrays/findingsmanager-4-archived.json")
	xsoar := asfftest.Array(t, "arrays/xsoar-10-archived-controls.json")

	// Expected indexes come from reading the fixtures (see the README table).
	openHigh := mustJSON(t, `{
		"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
		"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "NOT_EQUALS"}, {"Value": "RESOLVED", "Comparison": "NOT_EQUALS"}],
		"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "CRITICAL", "Comparison": "EQUALS"}]
	}`)
	terraform := mustJSON(t, `{"ResourceTags": [{"Key": "ManagedBy", "Value": "Terraform", "Comparison": "EQUALS"}]}`)
	notTerraform := mustJSON(t, `{"ResourceTags": [{"Key": "ManagedBy", "Value": "Terraform", "Comparison": "NOT_EQUALS"}]}`)
	archivedNA := mustJSON(t, `{
		"RecordState": [{"Value": "ARCHIVED", "Comparison": "EQUALS"}],
		"ComplianceStatus": [{"Value": "NOT_AVAILABLE", "Comparison": "EQUALS"}]
	}`)
	karpenter := mustJSON(t, `{"ResourceTags": [{"Key": "karpenter.sh/nodepool", "Value": "platform", "Comparison": "EQUALS"},
		{"Key": "aws:eks:cluster-name", "Value": "fih-", "Comparison": "CONTAINS"}],
		"ComplianceSecurityControlId": [{"Value": "SSM.", "Comparison": "PREFIX"}]}`)
	cases := []struct {
		name string
		f    *Filters
		xs   []*asff.Finding
		want []int
	}{
		// S3.8 x3, the FSBP GuardDuty detector control, Health; Inspector (10) is ARCHIVED.
		{"open HIGH in mixed", openHigh, mixed, []int{0, 1, 2, 11, 15}},
		// GuardDuty.1 x2 are SUPPRESSED, Inspector is ARCHIVED: only Health stays.
		{"open HIGH in suppressed", openHigh, suppressed, []int{4}},
		{"open HIGH in archived-4", openHigh, archived4, nil},
		{"open HIGH in xsoar", openHigh, xsoar, nil},
		// Buckets tagged ManagedBy=Terraform; the ones with key Terraform=ManagedBy must not match.
		{"tag equals", terraform, mixed, []int{2, 6, 9}},
		{"tag not equals", notTerraform, mixed, []int{0, 1, 3, 4, 5, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18}},
		{"archived not available (xsoar)", archivedNA, xsoar, []int{2, 3, 6, 9}},
		{"archived not available (archived-4)", archivedNA, archived4, []int{2}},
		{"karpenter SSM.1 nodes", karpenter, mixed, []int{16, 17, 18}},
		{"karpenter SSM.1 nodes (archived-4 has an untagged one)", karpenter, archived4, []int{3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matching(c.f, c.xs, now); !equalInts(got, c.want) {
				t.Errorf("matched %v, want %v", got, c.want)
			}
		})
	}
}

// equalInts compares index lists, nil equal to empty.
func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
