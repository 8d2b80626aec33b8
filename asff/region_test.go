package asff

import (
	"testing"

	"hubtriage/internal/fixtures"
)

// TestRegionFallbacks: a finding without a top-level Region takes it from
// its ProductArn, even the malformed ones with an extra colon that real
// GuardDuty samples carry, and never from a non-region ARN field.
func TestRegionFallbacks(t *testing.T) {
	f, err := DecodeFinding(fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Region != "us-east-1" {
		t.Errorf("Region = %q, want us-east-1 (from arn:aws::securityhub:us-east-1::...)", f.Region)
	}
	for arn, want := range map[string]string{
		"arn:aws:securityhub:eu-west-1::product/aws/guardduty":            "eu-west-1",
		"arn:aws::securityhub:us-east-1::product/aws/guardduty":           "us-east-1",
		"arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/inspector": "us-gov-west-1",
		"arn:aws:securityhub:::product/aws/guardduty":                     "",
		"not-an-arn": "",
	} {
		if got := arnRegion(arn); got != want {
			t.Errorf("arnRegion(%q) = %q, want %q", arn, got, want)
		}
	}
}
