package eventpattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"hubtriage/config"
)

// gdEvent reads a GuardDuty "GuardDuty Finding" event fixture.
func gdEvent(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "correlate", "testdata", "findings", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestGuardDutyEventsWhenACorrelationRuleNeedsThem: the built-in
// ec2-exposed-instance-under-attack learns an instance's security groups
// from GuardDuty's own events, so the pattern lets those through (and only
// those naming security groups) while it is on, and not otherwise.
func TestGuardDutyEventsWhenACorrelationRuleNeedsThem(t *testing.T) {
	withGroups := gdEvent(t, "guardduty-event-ssh-bruteforce-target.json")
	noGroups := gdEvent(t, "guardduty-event-ssh-bruteforce-target.json")
	noGroups["detail"].(map[string]any)["resource"] = map[string]any{"resourceType": "S3Bucket",
		"s3BucketDetails": []any{map[string]any{"arn": "arn:aws:s3:::acme-exports"}}}
	otherSource := gdEvent(t, "guardduty-event-ssh-bruteforce-target.json")
	otherSource["source"] = "aws.securityhub"

	severity := loadConfig(t, "severity")
	off := *severity
	off.Correlation = config.Correlation{Enabled: new(bool)}
	builtinOff := loadConfig(t, "severity")
	builtinOff.Correlation.Compiled = nil
	for _, r := range severity.Correlation.Compiled {
		if r.Name != "ec2-exposed-instance-under-attack" {
			builtinOff.Correlation.Compiled = append(builtinOff.Correlation.Compiled, r)
		}
	}
	tests := []struct {
		name  string
		cfg   *config.Config
		event map[string]any
		want  bool
	}{
		{"built-ins on: GuardDuty event naming security groups", severity, withGroups, true},
		{"built-ins on: GuardDuty event on a bucket", severity, noGroups, false},
		{"built-ins on: wrong source", severity, otherSource, false},
		{"correlation off", &off, withGroups, false},
		{"the rule with a via condition turned off", builtinOff, withGroups, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := roundTrip(t, FromConfig(tt.cfg, Options{}))
			got, err := matches(doc, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("pattern matches the event: %v, want %v", got, tt.want)
			}
		})
	}
}
