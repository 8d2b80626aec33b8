package filter

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"hubtriage/asff"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// kind is the AWS filter type a field takes.
type kind int

const (
	kindString kind = iota // []StringFilter
	kindNumber             // []NumberFilter
	kindDate               // []DateFilter
	kindMap                // []MapFilter
)

// String names the kind as the AWS API does.
func (k kind) String() string {
	return [...]string{"StringFilter", "NumberFilter", "DateFilter", "MapFilter"}[k]
}

// field describes how one AwsSecurityFindingFilters field reads a finding.
// Exactly the accessors for its kind are set: str (single value) or
// strCount/strAt (one value per element) for strings, num, date, and
// mapCount/mapAt for maps.
type field struct {
	kind kind
	// enum lists the only values the finding field can take; EQUALS and
	// NOT_EQUALS values outside it are rejected as typos, because a
	// case-sensitive comparison with them could never match.
	enum []string

	str      func(*asff.Finding) string
	strCount func(*asff.Finding) int
	strAt    func(*asff.Finding, int) string
	num      func(*asff.Finding) float64
	date     func(*asff.Finding) time.Time
	mapCount func(*asff.Finding) int
	mapAt    func(*asff.Finding, int) map[string]string
}

var (
	severityLabels   = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	recordStates     = []string{"ACTIVE", "ARCHIVED"}
	workflowStatuses = []string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}
	workflowStates   = []string{"NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"}
	complianceStatus = []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
)

// fields is the read-only table of the AwsSecurityFindingFilters fields
// hubtriage evaluates locally. Every key is also a field of
// types.AwsSecurityFindingFilters of the matching slice type (tested).
var fields = map[string]field{
	"AwsAccountId":                {str: func(x *asff.Finding) string { return x.AwsAccountID }},
	"CompanyName":                 {str: func(x *asff.Finding) string { return x.CompanyName }},
	"ComplianceSecurityControlId": {str: func(x *asff.Finding) string { return x.Compliance.SecurityControlID }},
	"ComplianceStatus":            {str: func(x *asff.Finding) string { return x.Compliance.Status }, enum: complianceStatus},
	"Description":                 {str: func(x *asff.Finding) string { return x.Description }},
	"GeneratorId":                 {str: func(x *asff.Finding) string { return x.GeneratorID }},
	"Id":                          {str: func(x *asff.Finding) string { return x.ID }},
	"ProductArn":                  {str: func(x *asff.Finding) string { return x.ProductArn }},
	"ProductName":                 {str: func(x *asff.Finding) string { return x.ProductName }},
	"RecommendationText":          {str: func(x *asff.Finding) string { return x.Remediation.Text }},
	"RecordState":                 {str: recordState, enum: recordStates},
	"Region":                      {str: func(x *asff.Finding) string { return x.Region }},
	"SeverityLabel":               {str: func(x *asff.Finding) string { return x.Severity.Label }, enum: severityLabels},
	"SourceUrl":                   {str: func(x *asff.Finding) string { return x.SourceURL }},
	"Title":                       {str: func(x *asff.Finding) string { return x.Title }},
	"WorkflowState":               {str: func(x *asff.Finding) string { return x.WorkflowState }, enum: workflowStates},
	"WorkflowStatus":              {str: workflowStatus, enum: workflowStatuses},

	"Type": {
		strCount: func(x *asff.Finding) int { return len(x.Types) },
		strAt:    func(x *asff.Finding, i int) string { return x.Types[i] },
	},
	"ResourceType":              resourceString(func(r *asff.Resource) string { return r.Type }),
	"ResourceId":                resourceString(func(r *asff.Resource) string { return r.ID }),
	"ResourcePartition":         resourceString(func(r *asff.Resource) string { return r.Partition }),
	"ResourceRegion":            resourceString(func(r *asff.Resource) string { return r.Region }),
	"RelatedFindingsId":         relatedString(func(r *asff.RelatedFinding) string { return r.ID }),
	"RelatedFindingsProductArn": relatedString(func(r *asff.RelatedFinding) string { return r.ProductArn }),

	"SeverityNormalized": {kind: kindNumber, num: func(x *asff.Finding) float64 { return x.Severity.Normalized }},

	"CreatedAt":       {kind: kindDate, date: func(x *asff.Finding) time.Time { return x.CreatedAt }},
	"FirstObservedAt": {kind: kindDate, date: func(x *asff.Finding) time.Time { return x.FirstObservedAt }},
	"LastObservedAt":  {kind: kindDate, date: func(x *asff.Finding) time.Time { return x.LastObservedAt }},
	"UpdatedAt":       {kind: kindDate, date: func(x *asff.Finding) time.Time { return x.UpdatedAt }},

	"ResourceTags": {
		kind:     kindMap,
		mapCount: func(x *asff.Finding) int { return len(x.Resources) },
		mapAt:    func(x *asff.Finding, i int) map[string]string { return x.Resources[i].Tags },
	},
	"ProductFields":     singleMap(func(x *asff.Finding) map[string]string { return x.ProductFields }),
	"UserDefinedFields": singleMap(func(x *asff.Finding) map[string]string { return x.UserDefinedFields }),
}

// recordState reads RecordState, which Security Hub sets to ACTIVE when a
// provider omits it; files decoded without it are treated the same way.
func recordState(x *asff.Finding) string {
	if x.RecordState == "" {
		return "ACTIVE"
	}
	return x.RecordState
}

// workflowStatus reads Workflow.Status, which Security Hub sets to NEW when a
// provider omits it.
func workflowStatus(x *asff.Finding) string {
	if x.WorkflowStatus == "" {
		return "NEW"
	}
	return x.WorkflowStatus
}

// resourceString is a string field with one value per resource.
func resourceString(get func(*asff.Resource) string) field {
	return field{
		strCount: func(x *asff.Finding) int { return len(x.Resources) },
		strAt:    func(x *asff.Finding, i int) string { return get(&x.Resources[i]) },
	}
}

// relatedString is a string field with one value per related finding.
func relatedString(get func(*asff.RelatedFinding) string) field {
	return field{
		strCount: func(x *asff.Finding) int { return len(x.RelatedFindings) },
		strAt:    func(x *asff.Finding, i int) string { return get(&x.RelatedFindings[i]) },
	}
}

// singleMap is a map field the finding holds once.
func singleMap(get func(*asff.Finding) map[string]string) field {
	return field{
		kind:     kindMap,
		mapCount: func(*asff.Finding) int { return 1 },
		mapAt:    func(x *asff.Finding, _ int) map[string]string { return get(x) },
	}
}

// SupportedFields lists, sorted, the AwsSecurityFindingFilters fields that
// hubtriage evaluates.
func SupportedFields() []string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// sdkFieldNames lists every field of types.AwsSecurityFindingFilters.
func sdkFieldNames() []string {
	t := reflect.TypeFor[types.AwsSecurityFindingFilters]()
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

// lookupField resolves a filter field name, or explains why it cannot be
// used: a real AWS field hubtriage does not evaluate (ErrUnsupportedField) or
// a name AWS does not know (ErrUnknownField), with a spelling suggestion.
// The returned *FieldError has no path or line yet.
func lookupField(name string) (field, error) {
	if f, ok := fields[name]; ok {
		return f, nil
	}
	all := sdkFieldNames()
	if contains(all, name) {
		return field{}, &FieldError{Err: ErrUnsupportedField,
			Msg: fmt.Sprintf("%v (supported fields: %s)", ErrUnsupportedField, strings.Join(SupportedFields(), ", "))}
	}
	msg := fmt.Sprintf("%v %q", ErrUnknownField, name)
	if s := suggest(name, all); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if name == "Filters" {
		msg += "; give the value of --filters, not the whole request"
	}
	return field{}, &FieldError{Msg: msg, Err: ErrUnknownField}
}
