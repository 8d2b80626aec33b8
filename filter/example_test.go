package filter_test

import (
	"fmt"
	"time"

	"hubtriage/asff"
	"hubtriage/filter"
)

// A filter copied from `aws securityhub get-findings --filters` works as is.
func ExampleFromJSON() {
	f, err := filter.FromJSON([]byte(`{
		"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}, {"Value": "HIGH", "Comparison": "EQUALS"}],
		"ResourceType": [{"Value": "AwsIam", "Comparison": "PREFIX"}, {"Value": "AwsIamPolicy", "Comparison": "NOT_EQUALS"}],
		"UpdatedAt": [{"DateRange": {"Value": 7, "Unit": "DAYS"}}]
	}`))
	if err != nil {
		fmt.Println(err)
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

	_, err = filter.FromJSON([]byte(`{"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUAL"}]}`))
	fmt.Println(err)
	// Output:
	// [SeverityLabel ResourceType UpdatedAt]
	// true false
	// SeverityLabel[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS (got "EQUAL") (line 1)
}
