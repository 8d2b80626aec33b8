package eventpattern

import (
	"hubtriage/asff"
)

// place is where a finding field sits in the event's detail.findings[]
// objects.
type place struct {
	path []string
	// always: Security Hub sets it on every finding it sends (ASFF required
	// fields), so an anything-but on it needs no "or absent" alternative.
	always bool
	// list: the path crosses an array (Types, Resources, RelatedFindings),
	// where EventBridge cannot test that a value is absent.
	list bool
}

func at(path ...string) place { return place{path: path} }

// Product fields that hold the control id of legacy (per-standard) control
// findings, which lack Compliance.SecurityControlId; the decoder reads them.
const (
	pfControlID = "ControlId"
	pfRuleID    = "RuleId"
)

// stringPlaces maps each StringFilter field to the places the decoder reads
// its value from, in order of precedence. A positive comparison is matched
// on any of them (a superset of "the first one present").
//
// Attributes Security Hub sets on every finding it sends today are marked
// always and matched only where Security Hub puts them, although the
// decoder also reads product-field fallbacks for files from before
// Security Hub set them (2019 samples lack ProductName, CompanyName,
// Region, Severity.Label and Workflow).
var stringPlaces = map[string][]place{
	"AwsAccountId": {{path: []string{"AwsAccountId"}, always: true}},
	"CompanyName":  {{path: []string{"CompanyName"}, always: true}},
	"ComplianceSecurityControlId": {
		at("Compliance", "SecurityControlId"), at("ProductFields", pfControlID), at("ProductFields", pfRuleID),
	},
	"Description":               {{path: []string{"Description"}, always: true}},
	"GeneratorId":               {{path: []string{"GeneratorId"}, always: true}},
	"Id":                        {{path: []string{"Id"}, always: true}},
	"ProductArn":                {{path: []string{"ProductArn"}, always: true}},
	"ProductName":               {{path: []string{"ProductName"}, always: true}},
	"RecommendationText":        {at("Remediation", "Recommendation", "Text")},
	"Region":                    {{path: []string{"Region"}, always: true}},
	"SourceUrl":                 {at("SourceUrl")},
	"Title":                     {{path: []string{"Title"}, always: true}},
	"Type":                      {{path: []string{"Types"}, always: true, list: true}},
	"ResourceType":              {{path: []string{"Resources", "Type"}, always: true, list: true}},
	"ResourceId":                {{path: []string{"Resources", "Id"}, always: true, list: true}},
	"ResourcePartition":         {{path: []string{"Resources", "Partition"}, list: true}},
	"ResourceRegion":            {{path: []string{"Resources", "Region"}, list: true}},
	"RelatedFindingsId":         {{path: []string{"RelatedFindings", "Id"}, list: true}},
	"RelatedFindingsProductArn": {{path: []string{"RelatedFindings", "ProductArn"}, list: true}},
}

// enumField is a StringFilter field whose decoded value is one of a few
// values: any filter on it becomes the exact list of values it lets
// through, evaluated by the filter package itself.
type enumField struct {
	values []string
	set    func(f *asff.Finding, v string)
	place  place
}

var enumFields = map[string]enumField{
	"SeverityLabel": {
		values: []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"},
		set:    func(f *asff.Finding, v string) { f.Severity.Label = v },
		place:  place{path: []string{"Severity", "Label"}, always: true},
	},
	"RecordState": {
		values: []string{"ACTIVE", "ARCHIVED"},
		set:    func(f *asff.Finding, v string) { f.RecordState = v },
		place:  place{path: []string{"RecordState"}, always: true},
	},
	"WorkflowStatus": {
		values: []string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"},
		set:    func(f *asff.Finding, v string) { f.WorkflowStatus = v },
		place:  place{path: []string{"Workflow", "Status"}, always: true},
	},
	"WorkflowState": {
		values: []string{"NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"},
		set:    func(f *asff.Finding, v string) { f.WorkflowState = v },
		place:  place{path: []string{"WorkflowState"}, always: true},
	},
	"ComplianceStatus": {
		values: []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"},
		set:    func(f *asff.Finding, v string) { f.Compliance.Status = v },
		place:  at("Compliance", "Status"),
	},
}

// mapPlaces maps each MapFilter field to the object holding its keys.
var mapPlaces = map[string]place{
	"ResourceTags":      {path: []string{"Resources", "Tags"}, list: true},
	"ProductFields":     at("ProductFields"),
	"UserDefinedFields": at("UserDefinedFields"),
}
