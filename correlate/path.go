package correlate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
)

// path is a compiled distinct_by field path such as "Vulnerabilities[].Id"
// or "ProductFields.aws/inspector/instanceId": object keys separated by
// dots, "[]" after a key to take every element of a list.
type path []step

type step struct {
	key  string
	each bool // the value is a list: descend into every element
}

// asffTopLevel lists the ASFF finding fields a path may start with, so a
// misspelt field fails at load instead of never counting anything.
var asffTopLevel = []string{
	"Action", "AwsAccountId", "AwsAccountName", "CompanyName", "Compliance", "Confidence", "CreatedAt",
	"Criticality", "Description", "Detection", "FindingProviderFields", "FirstObservedAt", "GeneratorDetails",
	"GeneratorId", "Id", "LastObservedAt", "Malware", "Network", "NetworkPath", "Note", "PatchSummary",
	"Process", "ProcessedAt", "ProductArn", "ProductFields", "ProductName", "RecordState", "Region",
	"RelatedFindings", "Remediation", "Resources", "Sample", "SchemaVersion", "Severity", "SourceUrl",
	"ThreatIntelIndicators", "Threats", "Title", "Types", "UpdatedAt", "UserDefinedFields",
	"VerificationState", "Vulnerabilities", "Workflow", "WorkflowState",
}

// parsePath compiles a distinct_by path.
func parsePath(s string) (path, error) {
	var p path
	for i, part := range strings.Split(s, ".") {
		st := step{key: part}
		if k, ok := strings.CutSuffix(part, "[]"); ok {
			st = step{key: k, each: true}
		}
		if st.key == "" || strings.ContainsAny(st.key, "[]") {
			return nil, fmt.Errorf("must be a field path like Vulnerabilities[].Id (bad part %q in %q)", part, s)
		}
		if i == 0 && !slices.Contains(asffTopLevel, st.key) {
			return nil, fmt.Errorf("%q is not an ASFF finding field (path %q)", st.key, s)
		}
		p = append(p, st)
	}
	return p, nil
}

// values returns the distinct values the path reaches in the finding JSON
// raw, in first-seen order. Scalars are rendered as text; objects and lists
// as compact JSON. A path that reaches nothing gives none.
func (p path) values(raw []byte) []string {
	if len(p) == 0 {
		return nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil
	}
	var out []string
	p.walk(doc, func(v any) {
		if s, ok := scalarText(v); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	})
	return out
}

func (p path) walk(v any, fn func(any)) {
	if len(p) == 0 {
		fn(v)
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	child, ok := obj[p[0].key]
	if !ok {
		return
	}
	if !p[0].each {
		p[1:].walk(child, fn)
		return
	}
	list, _ := child.([]any)
	for _, e := range list {
		p[1:].walk(e, fn)
	}
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", false
	default:
		b, err := json.Marshal(x)
		return string(b), err == nil
	}
}
