package shtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The new Security Hub's GetFindingsV2 (POST /findingsv2) over OCSF
// findings loaded with LoadOCSF. The server evaluates the OcsfFindingFilters
// it supports on its own (StringFilters EQUALS, PREFIX, NOT_EQUALS,
// CONTAINS; DateFilters Start/End; NumberFilters; Operator,
// CompositeOperator and NestedCompositeFilters) and rejects the rest with
// ValidationException (the V2 operations' error for bad input) rather than
// ignore them. It pages like GetFindings.

// GetFindingsV2 is the operation name in Requests.
const GetFindingsV2 Operation = "GetFindingsV2"

// LoadOCSF stores OCSF findings (raw JSON objects) for GetFindingsV2, after
// those already loaded, replacing one with the same finding_info.uid and
// metadata.product.uid.
func (s *Server) LoadOCSF(findings ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, raw := range findings {
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("load OCSF finding %d: %w", i, err)
		}
		k := ocsfKey(doc)
		if k == "|" {
			return fmt.Errorf("load OCSF finding %d: no finding_info.uid or metadata.product.uid", i)
		}
		replaced := false
		for j, old := range s.ocsf {
			if ocsfKey(old.doc) == k {
				s.ocsf[j], replaced = ocsfFinding{doc: doc, raw: raw}, true
			}
		}
		if !replaced {
			s.ocsf = append(s.ocsf, ocsfFinding{doc: doc, raw: raw})
		}
	}
	return nil
}

type ocsfFinding struct {
	doc map[string]any
	raw json.RawMessage
}

func ocsfKey(doc map[string]any) string {
	uid, _ := lookupPath(doc, "finding_info.uid").(string)
	product, _ := lookupPath(doc, "metadata.product.uid").(string)
	return product + "|" + uid
}

// lookupPath follows a dotted path through objects (not lists).
func lookupPath(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// pathValues follows a dotted path through objects and every list element.
func pathValues(v any, path []string) []any {
	if list, ok := v.([]any); ok {
		var out []any
		for _, e := range list {
			out = append(out, pathValues(e, path)...)
		}
		return out
	}
	if len(path) == 0 {
		return []any{v}
	}
	m, ok := v.(map[string]any)
	if !ok || m[path[0]] == nil {
		return nil
	}
	return pathValues(m[path[0]], path[1:])
}

type getFindingsV2Request struct {
	Filters    *v2Filters
	MaxResults int
	NextToken  string
	Scopes     json.RawMessage
}

type v2Filters struct {
	CompositeFilters  []v2Composite
	CompositeOperator string
}

type v2Composite struct {
	Operator               string
	StringFilters          []v2Field[v2String]
	DateFilters            []v2Field[v2Date]
	NumberFilters          []v2Field[v2Number]
	NestedCompositeFilters []v2Composite
	BooleanFilters         json.RawMessage
	MapFilters             json.RawMessage
	IpFilters              json.RawMessage
}

type v2Field[T any] struct {
	FieldName string
	Filter    T
}

type v2String struct{ Value, Comparison string }
type v2Date struct {
	Start, End string
	DateRange  json.RawMessage
}
type v2Number struct{ Eq, Gt, Gte, Lt, Lte *float64 }

// getFindingsV2 answers one page of the OCSF findings matching the filters.
func (s *Server) getFindingsV2(body []byte) (any, json.RawMessage, error) {
	var req getFindingsV2Request
	var raw struct{ Filters json.RawMessage }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("GetFindingsV2 request: %w", err)
	}
	_ = json.Unmarshal(body, &raw) // decoded above, so valid
	rawFilters := raw.Filters
	if req.MaxResults == 0 {
		req.MaxResults = maxPageSize
	}
	if req.MaxResults < 1 || req.MaxResults > maxPageSize {
		return nil, rawFilters, fmt.Errorf("MaxResults: must be between 1 and %d (got %d)", maxPageSize, req.MaxResults)
	}
	offset := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(req.NextToken, tokenPrefix))
		if err != nil || !strings.HasPrefix(req.NextToken, tokenPrefix) || n < 0 {
			return nil, rawFilters, fmt.Errorf("NextToken: invalid token %q", req.NextToken)
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []json.RawMessage
	for _, f := range s.ocsf {
		ok, err := req.Filters.match(f.doc)
		if err != nil {
			return nil, rawFilters, err
		}
		if ok {
			matched = append(matched, f.raw)
		}
	}
	end := min(offset+req.MaxResults, len(matched))
	resp := struct {
		Findings  []json.RawMessage
		NextToken *string `json:",omitempty"`
	}{Findings: append([]json.RawMessage{}, matched[min(offset, end):end]...)}
	if end < len(matched) {
		next := tokenPrefix + strconv.Itoa(end)
		resp.NextToken = &next
	}
	return resp, rawFilters, nil
}

func (f *v2Filters) match(doc map[string]any) (bool, error) {
	if f == nil {
		return true, nil
	}
	results := make([]bool, len(f.CompositeFilters))
	for i, c := range f.CompositeFilters {
		ok, err := c.match(doc)
		if err != nil {
			return false, fmt.Errorf("Filters.CompositeFilters[%d]: %w", i, err)
		}
		results[i] = ok
	}
	return fold(f.CompositeOperator, results), nil
}

func (c v2Composite) match(doc map[string]any) (bool, error) {
	for name, raw := range map[string]json.RawMessage{"BooleanFilters": c.BooleanFilters, "MapFilters": c.MapFilters, "IpFilters": c.IpFilters} {
		if len(raw) > 0 && string(raw) != "null" && string(raw) != "[]" {
			return false, fmt.Errorf("%s: not evaluated by shtest", name)
		}
	}
	var results []bool
	for _, sf := range c.StringFilters {
		ok, err := matchString(pathValues(doc, strings.Split(sf.FieldName, ".")), sf.Filter)
		if err != nil {
			return false, fmt.Errorf("StringFilters %s: %w", sf.FieldName, err)
		}
		results = append(results, ok)
	}
	for _, df := range c.DateFilters {
		if len(df.Filter.DateRange) > 0 {
			return false, fmt.Errorf("DateFilters %s: DateRange not evaluated by shtest", df.FieldName)
		}
		ok, err := matchDate(pathValues(doc, strings.Split(df.FieldName, ".")), df.Filter)
		if err != nil {
			return false, fmt.Errorf("DateFilters %s: %w", df.FieldName, err)
		}
		results = append(results, ok)
	}
	for _, nf := range c.NumberFilters {
		results = append(results, matchNumber(pathValues(doc, strings.Split(nf.FieldName, ".")), nf.Filter))
	}
	for i, n := range c.NestedCompositeFilters {
		ok, err := n.match(doc)
		if err != nil {
			return false, fmt.Errorf("NestedCompositeFilters[%d]: %w", i, err)
		}
		results = append(results, ok)
	}
	return fold(c.Operator, results), nil
}

// fold combines results with AND (the default) or OR.
func fold(op string, results []bool) bool {
	if op == "OR" {
		for _, r := range results {
			if r {
				return true
			}
		}
		return len(results) == 0
	}
	for _, r := range results {
		if !r {
			return false
		}
	}
	return true
}

func matchString(vals []any, f v2String) (bool, error) {
	var test func(string) bool
	switch f.Comparison {
	case "EQUALS":
		test = func(s string) bool { return s == f.Value }
	case "PREFIX":
		test = func(s string) bool { return strings.HasPrefix(s, f.Value) }
	case "CONTAINS":
		test = func(s string) bool { return strings.Contains(s, f.Value) }
	case "NOT_EQUALS":
		for _, v := range vals {
			if s, _ := v.(string); s == f.Value {
				return false, nil
			}
		}
		return true, nil
	default:
		return false, fmt.Errorf("comparison %q not evaluated by shtest", f.Comparison)
	}
	for _, v := range vals {
		if s, ok := v.(string); ok && test(s) {
			return true, nil
		}
	}
	return false, nil
}

func matchDate(vals []any, f v2Date) (bool, error) {
	var start, end time.Time
	var err error
	if f.Start != "" {
		if start, err = time.Parse(time.RFC3339Nano, f.Start); err != nil {
			return false, fmt.Errorf("value of Start: %w", err)
		}
	}
	if f.End != "" {
		if end, err = time.Parse(time.RFC3339Nano, f.End); err != nil {
			return false, fmt.Errorf("value of End: %w", err)
		}
	}
	for _, v := range vals {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && (start.IsZero() || !t.Before(start)) && (end.IsZero() || !t.After(end)) {
			return true, nil
		}
	}
	return false, nil
}

func matchNumber(vals []any, f v2Number) bool {
	for _, v := range vals {
		n, ok := v.(float64)
		if ok && (f.Eq == nil || n == *f.Eq) && (f.Gt == nil || n > *f.Gt) && (f.Gte == nil || n >= *f.Gte) &&
			(f.Lt == nil || n < *f.Lt) && (f.Lte == nil || n <= *f.Lte) {
			return true
		}
	}
	return false
}
