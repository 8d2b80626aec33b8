package asff

import (
	"strings"
	"testing"
)

// arnRegionSplit is arnRegion as it was written with strings.Split.
func arnRegionSplit(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	if len(strings.SplitN(s, ":", 5)) < 5 {
		return ""
	}
	for _, p := range strings.Split(s, ":")[2:min(6, strings.Count(s, ":")+1)] {
		if isRegion(p) {
			return p
		}
	}
	return ""
}

func TestArnRegionAsSplit(t *testing.T) {
	for _, s := range []string{
		"", "arn:", "arn:aws", "arn:aws:s3", "arn:aws:s3:::b", "arn:aws:s3:us-east-1", "arn:aws:s3:us-east-1:",
		"arn:aws:securityhub:eu-west-1::product/aws/guardduty", "arn:aws::securityhub:us-east-1::product/x",
		"arn:aws:::::us-east-1", "arn:aws::::us-east-1", "arn:aws-us-gov:ec2:us-gov-west-1:1:i", "arn:us-east-1:a:b:c",
		"xarn:aws:s3:us-east-1:1:x", "arn:aws:x:y:z:eu-central-2:w",
	} {
		if got, want := arnRegion(s), arnRegionSplit(s); got != want {
			t.Errorf("arnRegion(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestActiveWorkflowFold(t *testing.T) {
	for _, ws := range []string{"", "NEW", "resolved", "Resolved", "SUPPRESSED", "ſuppressed", "NOTIFIED", "RESOLVEDX"} {
		f := &Finding{WorkflowStatus: ws}
		up := strings.ToUpper(ws)
		if want := up != "RESOLVED" && up != "SUPPRESSED"; f.Active() != want {
			t.Errorf("Active(%q) = %v, want %v", ws, f.Active(), want)
		}
	}
}
