package eventpattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"hubtriage/internal/fixtures"
	"hubtriage/ocsffilter"
)

// v2Event wraps a real OCSF sample finding in a Findings Imported V2
// event, or returns the real event sample itself.
func v2Event(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(fixtures.Dir(t)), "ocsf", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["detail-type"]; ok {
		return doc
	}
	if page, ok := doc["Findings"].([]any); ok {
		doc = page[0].(map[string]any)
	}
	return map[string]any{"source": "aws.securityhub", "detail-type": "Findings Imported V2",
		"detail": map[string]any{"findings": []any{doc}}}
}

func ocsfRule(t *testing.T, name, src string) RuleV2 {
	t.Helper()
	f, err := ocsffilter.FromJSON([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return RuleV2{Name: name, OCSF: f}
}

// TestV2PatternOnRealEvents derives V2 patterns from ocsf_filter rules and
// evaluates them on real OCSF samples as EventBridge would.
func TestV2PatternOnRealEvents(t *testing.T) {
	critical := ocsfRule(t, "critical", `{"CompositeFilters":[{"StringFilters":[
		{"FieldName":"severity","Filter":{"Value":"Critical","Comparison":"EQUALS"}},
		{"FieldName":"metadata.product.uid","Filter":{"Value":"arn:aws:securityhub:us-east-1::productv2/aws/","Comparison":"PREFIX"}}]}]}`)
	controls := ocsfRule(t, "controls", `{"CompositeFilters":[{"Operator":"OR","StringFilters":[
		{"FieldName":"compliance.control","Filter":{"Value":"SQS.1","Comparison":"EQUALS"}},
		{"FieldName":"compliance.control","Filter":{"Value":"SSM.","Comparison":"PREFIX"}}]}]}`)
	tests := []struct {
		name    string
		rules   []RuleV2
		skip    bool
		event   string
		want    bool
		narrows bool
	}{
		{"critical config.1 matches", []RuleV2{critical}, true, "cruxstack-2003-cspm-config.1.json", true, true},
		{"medium inspector does not", []RuleV2{critical}, true, "elastic-2002-inspector-ec2-cve-2021-47412.json", false, true},
		{"suppressed guardduty (real V2 event) passes as inactive", []RuleV2{critical}, false, "sumologic-imported-v2-event-guardduty-2004-suppressed.json", true, true},
		{"... but not with SkipInactive", []RuleV2{critical}, true, "sumologic-imported-v2-event-guardduty-2004-suppressed.json", false, true},
		{"alternatives", []RuleV2{controls}, true, "elastic-getfindingsv2-page3-last-2003-ssm.json", true, true},
		{"alternatives, other control", []RuleV2{controls}, true, "elastic-2003-cspm-redshift.3-resolved.json", false, true},
		{"an ASFF-filter rule lets everything through", []RuleV2{critical, {Name: "asff", HasASFFFilter: true}}, true, "elastic-2002-inspector-ec2-cve-2021-47412.json", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DeriveV2(tt.rules, Options{SkipInactive: tt.skip})
			if _, err := p.JSON(false); err != nil {
				t.Fatal(err)
			}
			doc := roundTrip(t, p)
			got, err := matches(doc, v2Event(t, tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || (doc["detail"] != nil) != tt.narrows || (len(p.Notes) == 0) != tt.narrows {
				t.Errorf("match %v (want %v), pattern %v, notes %v", got, tt.want, doc, p.Notes)
			}
		})
	}
}
