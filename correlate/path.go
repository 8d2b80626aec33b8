package correlate

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
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
// as compact JSON. A path that reaches nothing gives none, and so does raw
// that is not JSON.
//
// raw is scanned in place, descending only into the members the path
// names, so the cost is a scan of the document, not a decoding of it.
func (p path) values(raw []byte) []string {
	if len(p) == 0 {
		return nil
	}
	var out []string
	add := func(v []byte) {
		if s, ok := rawText(v); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if !p.walkRaw(raw, add) {
		return nil
	}
	return out
}

// walkRaw calls fn with every raw value the path reaches in the JSON value
// v. It reports false when v is not well-formed where it was read.
func (p path) walkRaw(v []byte, fn func([]byte)) bool {
	if len(p) == 0 {
		fn(v)
		return true
	}
	child, found, ok := member(v, p[0].key)
	if !ok || !found {
		return ok
	}
	if !p[0].each {
		return p[1:].walkRaw(child, fn)
	}
	return eachElement(child, func(e []byte) bool { return p[1:].walkRaw(e, fn) })
}

// member returns the raw value of the last member named key of the JSON
// value v (JSON decoding into a map keeps the last of duplicate keys);
// found is false when v is not an object or has no such member.
func member(v []byte, key string) (val []byte, found, ok bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil, false, true // not an object: nothing to descend into
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == '}' {
		return nil, false, true
	}
	for i < len(v) {
		end := skipString(v, i)
		if end < 0 {
			return nil, false, false
		}
		name := v[i:end]
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return nil, false, false
		}
		start := skipSpace(v, i+1)
		vend := skipValue(v, start)
		if vend < 0 {
			return nil, false, false
		}
		if stringEquals(name, key) {
			val, found = v[start:vend], true
		}
		i = skipSpace(v, vend)
		if i < len(v) && v[i] == '}' {
			return val, found, true
		}
		if i >= len(v) || v[i] != ',' {
			return nil, false, false
		}
		i = skipSpace(v, i+1)
	}
	return nil, false, false
}

// eachElement calls fn with every element of the JSON array v until fn
// returns false; anything but an array has no elements.
func eachElement(v []byte, fn func([]byte) bool) bool {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return true
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return true
	}
	for i < len(v) {
		end := skipValue(v, i)
		if end < 0 || !fn(v[i:end]) {
			return false
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ']' {
			return true
		}
		if i >= len(v) || v[i] != ',' {
			return false
		}
		i = skipSpace(v, i+1)
	}
	return false
}

// stringEquals reports whether the JSON string literal lit decodes to s.
func stringEquals(lit []byte, s string) bool {
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1:len(lit)-1]) == s
	}
	var d string
	return json.Unmarshal(lit, &d) == nil && d == s
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string literal starting at i, or
// -1 when there is none.
func skipString(v []byte, i int) int {
	if i >= len(v) || v[i] != '"' {
		return -1
	}
	for i++; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at i, or -1.
// Nested objects and arrays are matched by bracket depth only; values that
// are read are checked again when decoded.
func skipValue(v []byte, i int) int {
	if i >= len(v) {
		return -1
	}
	switch v[i] {
	case '"':
		return skipString(v, i)
	case '{', '[':
		depth := 0
		for i < len(v) {
			switch v[i] {
			case '"':
				if i = skipString(v, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(v) && !strings.ContainsRune(",}] \t\n\r", rune(v[i])) {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// rawText renders a raw JSON value as values does: strings unquoted,
// numbers as the shortest decimal of their float64, booleans as text,
// objects and lists as compact JSON; null and malformed values give none.
func rawText(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), true
		}
	case 't', 'f', 'n':
		switch string(v) {
		case "true", "false":
			return string(v), true
		}
		return "", false
	case '{', '[':
	default:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	var doc any
	if err := json.Unmarshal(v, &doc); err != nil {
		return "", false
	}
	return scalarText(doc)
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

// typedPaths read the distinct_by paths that name a field of the finding
// model from the decoded finding instead of its JSON: an OCSF finding's
// JSON has OCSF names, but its mapped fields are the ASFF ones (see
// docs/ocsf.md), so a rule written for ASFF counts OCSF contributors too.
var typedPaths = map[string]func(f *asff.Finding) []string{
	"Vulnerabilities[].Id": func(f *asff.Finding) []string {
		out := make([]string, 0, len(f.Vulnerabilities))
		for _, v := range f.Vulnerabilities {
			out = append(out, v.ID)
		}
		return out
	},
	"Resources[].Id": func(f *asff.Finding) []string {
		out := make([]string, 0, len(f.Resources))
		for _, r := range f.Resources {
			out = append(out, r.ID)
		}
		return out
	},
	"Types[]":                      func(f *asff.Finding) []string { return f.Types },
	"Types":                        func(f *asff.Finding) []string { return f.Types },
	"Id":                           func(f *asff.Finding) []string { return []string{f.ID} },
	"Title":                        func(f *asff.Finding) []string { return []string{f.Title} },
	"GeneratorId":                  func(f *asff.Finding) []string { return []string{f.GeneratorID} },
	"AwsAccountId":                 func(f *asff.Finding) []string { return []string{f.AwsAccountID} },
	"Region":                       func(f *asff.Finding) []string { return []string{f.Region} },
	"Severity.Label":               func(f *asff.Finding) []string { return []string{f.Severity.Label} },
	"Compliance.SecurityControlId": func(f *asff.Finding) []string { return []string{f.Compliance.SecurityControlID} },
	"RelatedFindings[].Id":         func(f *asff.Finding) []string { return relatedIDs(f) },
}

func relatedIDs(f *asff.Finding) []string {
	out := make([]string, 0, len(f.RelatedFindings))
	for _, r := range f.RelatedFindings {
		out = append(out, r.ID)
	}
	return out
}

// String renders the path as written.
func (p path) String() string {
	parts := make([]string, len(p))
	for i, st := range p {
		parts[i] = st.key
		if st.each {
			parts[i] += "[]"
		}
	}
	return strings.Join(parts, ".")
}

// findingValues returns the distinct values the path reaches in f: from
// its JSON for ASFF findings, from the mapped fields for OCSF ones (paths
// outside typedPaths reach nothing there).
func (p path) findingValues(f *asff.Finding) []string {
	if f.Format != asff.FormatOCSF {
		return p.values(f.Raw)
	}
	get, ok := typedPaths[p.String()]
	if !ok {
		return nil
	}
	var out []string
	for _, v := range get(f) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
