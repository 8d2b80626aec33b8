package filter_test

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/asff"
	"hubtriage/filter"
)

// A filter copied from `aws securityhub get-findings --filters` works as is
// (JSON is YAML); in a config it is a rule's `filter:`.
func ExampleFromYAML() {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(`{
		"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}, {"Value": "HIGH", "Comparison": "EQUALS"}],
		"ResourceType": [{"Value": "AwsIam", "Comparison": "PREFIX"}, {"Value": "AwsIamPolicy", "Comparison": "NOT_EQUALS"}],
		"UpdatedAt": [{"DateRange": {"Value": 7, "Unit": "DAYS"}}]
	}`), &doc); err != nil {
		fmt.Println(err)
		return
	}
	f, errs := filter.FromYAML(&doc)
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	now := time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	role := &asff.Finding{
		Severity:  asff.Severity{Label: "HIGH"},
		Resources: []asff.Resource{{Type: "AwsIamRole"}},
		UpdatedAt: now.Add(-48 * time.Hour),
	}
	policy := &asff.Finding{
		Severity:  asff.Severity{Label: "CRITICAL"},
		Resources: []asff.Resource{{Type: "AwsIamPolicy"}},
		UpdatedAt: now.Add(-48 * time.Hour),
	}
	fmt.Println(f.Fields())
	fmt.Println(f.Match(role, now), f.Match(policy, now))

	if err := yaml.Unmarshal([]byte(`{"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUAL"}]}`), &doc); err != nil {
		fmt.Println(err)
		return
	}
	_, errs = filter.FromYAML(&doc)
	fmt.Println(errs)
	// Output:
	// [SeverityLabel ResourceType UpdatedAt]
	// true false
	// [SeverityLabel[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD (got "EQUAL") (line 1)]
}
