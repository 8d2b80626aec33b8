package shtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"time"
)

// stringFields are the StringFilter attributes the server honours, with the
// finding values each one matches (any value of a list).
var stringFields = map[string]func(*finding) []string{
	"Id":                          top("Id"),
	"ProductArn":                  top("ProductArn"),
	"AwsAccountId":                top("AwsAccountId"),
	"GeneratorId":                 top("GeneratorId"),
	"Title":                       top("Title"),
	"RecordState":                 top("RecordState"),
	"WorkflowState":               top("WorkflowState"),
	"WorkflowStatus":              nested("Workflow", "Status"),
	"SeverityLabel":               nested("Severity", "Label"),
	"ComplianceStatus":            nested("Compliance", "Status"),
	"ComplianceSecurityControlId": nested("Compliance", "SecurityControlId"),
	"Type":                        func(f *finding) []string { return f.strs("Types") },
	"ResourceId":                  func(f *finding) []string { return f.strs("Resources", "Id") },
	"ResourceType":                func(f *finding) []string { return f.strs("Resources", "Type") },
	"AwsAccountName":              top("AwsAccountName"),
	"VerificationState":           top("VerificationState"),
	"VulnerabilitiesFixAvailable": func(f *finding) []string { return f.strs("Vulnerabilities", "FixAvailable") },
	"VulnerabilitiesExploitAvailable": func(f *finding) []string {
		return f.strs("Vulnerabilities", "ExploitAvailable")
	},
}

// numberFields are the NumberFilter attributes the server honours.
var numberFields = map[string][]string{
	"Confidence":  {"Confidence"},
	"Criticality": {"Criticality"},
}

// ipFields are the IpFilter attributes the server honours.
var ipFields = map[string][]string{
	"NetworkSourceIpV4":      {"Network", "SourceIpV4"},
	"NetworkDestinationIpV4": {"Network", "DestinationIpV4"},
}

// boolFields are the BooleanFilter attributes the server honours.
var boolFields = map[string][]string{
	"Sample": {"Sample"},
}

// dateFields are the DateFilter attributes the server honours.
var dateFields = map[string]func(*finding) []string{
	"CreatedAt":       top("CreatedAt"),
	"UpdatedAt":       top("UpdatedAt"),
	"FirstObservedAt": top("FirstObservedAt"),
	"LastObservedAt":  top("LastObservedAt"),
}

// SupportedFilters lists the filter (and SortCriteria) attributes the server
// honours; requests using any other attribute fail with
// InvalidInputException.
func SupportedFilters() []string {
	var names []string
	for name := range stringFields {
		names = append(names, name)
	}
	for name := range dateFields {
		names = append(names, name)
	}
	for _, m := range []map[string][]string{numberFields, ipFields, boolFields} {
		for name := range m {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func top(name string) func(*finding) []string {
	return nested(name)
}

func nested(path ...string) func(*finding) []string {
	return func(f *finding) []string {
		if s, ok := f.str(path...); ok {
			return []string{s}
		}
		return nil
	}
}

// stringFilter and dateFilter are the wire shapes of the SDK's
// types.StringFilter and types.DateFilter.
type stringFilter struct {
	Comparison string
	Value      string
}

type dateFilter struct {
	Start, End string
	DateRange  *struct {
		Value int
		Unit  string
	}
}

// matcher is one compiled filter attribute.
type matcher func(*finding) bool

// compileFilters turns a Filters object into matchers that must all hold.
func compileFilters(raw json.RawMessage, now time.Time) ([]matcher, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &attrs); err != nil {
		//lint:ignore ST1005 the field as the Security Hub API spells it
		return nil, fmt.Errorf("Filters: %w", err)
	}
	var out []matcher
	for name, v := range attrs {
		m, err := compileAttr(name, v, now)
		if err != nil {
			//lint:ignore ST1005 the field as the Security Hub API spells it
			return nil, fmt.Errorf("Filters.%s: %w", name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// compileAttr compiles the filter list of one attribute.
func compileAttr(name string, v json.RawMessage, now time.Time) (matcher, error) {
	if get, ok := stringFields[name]; ok {
		var fs []stringFilter
		if err := json.Unmarshal(v, &fs); err != nil {
			return nil, err
		}
		return compileStrings(get, fs)
	}
	if get, ok := dateFields[name]; ok {
		var fs []dateFilter
		if err := json.Unmarshal(v, &fs); err != nil {
			return nil, err
		}
		return compileDates(get, fs, now)
	}
	if path, ok := numberFields[name]; ok {
		var fs []numberFilter
		if err := json.Unmarshal(v, &fs); err != nil {
			return nil, err
		}
		return compileNumbers(path, fs), nil
	}
	if path, ok := ipFields[name]; ok {
		var fs []struct{ Cidr string }
		if err := json.Unmarshal(v, &fs); err != nil {
			return nil, err
		}
		return compileIPs(path, fs)
	}
	if path, ok := boolFields[name]; ok {
		var fs []struct{ Value bool }
		if err := json.Unmarshal(v, &fs); err != nil {
			return nil, err
		}
		return func(f *finding) bool {
			raw, _ := f.lookup(path...)
			var b bool
			_ = json.Unmarshal(raw, &b) // absent or not a boolean: false
			return slices.ContainsFunc(fs, func(x struct{ Value bool }) bool { return x.Value == b })
		}, nil
	}
	return nil, fmt.Errorf("shtest does not implement this filter attribute (supported: %s)", strings.Join(SupportedFilters(), ", "))
}

// numberFilter is the wire shape of types.NumberFilter.
type numberFilter struct {
	Eq, Gt, Gte, Lt, Lte *float64
}

// compileNumbers matches a finding whose number at path satisfies every
// bound of any of the filters; a finding without it matches none.
func compileNumbers(path []string, fs []numberFilter) matcher {
	return func(f *finding) bool {
		raw, ok := f.lookup(path...)
		var v float64
		if !ok || json.Unmarshal(raw, &v) != nil {
			return false
		}
		return slices.ContainsFunc(fs, func(n numberFilter) bool {
			return (n.Eq == nil || v == *n.Eq) && (n.Gt == nil || v > *n.Gt) && (n.Gte == nil || v >= *n.Gte) &&
				(n.Lt == nil || v < *n.Lt) && (n.Lte == nil || v <= *n.Lte)
		})
	}
}

// compileIPs matches a finding whose address at path is in any of the
// CIDR blocks (a bare address is a block of one).
func compileIPs(path []string, fs []struct{ Cidr string }) (matcher, error) {
	var nets []*net.IPNet
	for i, c := range fs {
		cidr := c.Cidr
		if !strings.Contains(cidr, "/") {
			cidr += "/32"
		}
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("[%d].Cidr: %w", i, err)
		}
		nets = append(nets, n)
	}
	return func(f *finding) bool {
		s, _ := f.str(path...)
		ip := net.ParseIP(s)
		return ip != nil && slices.ContainsFunc(nets, func(n *net.IPNet) bool { return n.Contains(ip) })
	}, nil
}

// compileStrings applies Security Hub's combination rules: positive
// comparisons (EQUALS, PREFIX, CONTAINS) are ORed, negative ones
// (NOT_EQUALS, PREFIX_NOT_EQUALS, NOT_CONTAINS) are ANDed, both kinds must
// hold, and a comparison may not be combined with its own negation.
func compileStrings(get func(*finding) []string, fs []stringFilter) (matcher, error) {
	if len(fs) > 20 {
		return nil, fmt.Errorf("at most 20 filter values per attribute (got %d)", len(fs))
	}
	var pos, neg []func(string) bool
	used := map[string]bool{}
	for _, f := range fs {
		test, negated, err := stringTest(f)
		if err != nil {
			return nil, err
		}
		used[f.Comparison] = true
		if negated {
			neg = append(neg, test)
		} else {
			pos = append(pos, test)
		}
	}
	for _, pair := range [][2]string{{"EQUALS", "NOT_EQUALS"}, {"PREFIX", "PREFIX_NOT_EQUALS"}, {"CONTAINS", "NOT_CONTAINS"}} {
		if used[pair[0]] && used[pair[1]] {
			return nil, fmt.Errorf("%s and %s cannot be combined on one attribute", pair[0], pair[1])
		}
	}
	return func(f *finding) bool {
		values := get(f)
		if len(pos) > 0 && !slices.ContainsFunc(values, func(v string) bool { return anyTrue(pos, v) }) {
			return false
		}
		for _, v := range values {
			for _, t := range neg {
				if !t(v) {
					return false
				}
			}
		}
		return true
	}, nil
}

// stringTest compiles one comparison; negated tests pass values that do not
// match.
func stringTest(f stringFilter) (test func(string) bool, negated bool, err error) {
	switch f.Comparison {
	case "EQUALS":
		return func(v string) bool { return v == f.Value }, false, nil
	case "PREFIX":
		return func(v string) bool { return strings.HasPrefix(v, f.Value) }, false, nil
	case "CONTAINS":
		return func(v string) bool { return strings.Contains(v, f.Value) }, false, nil
	case "NOT_EQUALS":
		return func(v string) bool { return v != f.Value }, true, nil
	case "PREFIX_NOT_EQUALS":
		return func(v string) bool { return !strings.HasPrefix(v, f.Value) }, true, nil
	case "NOT_CONTAINS":
		return func(v string) bool { return !strings.Contains(v, f.Value) }, true, nil
	}
	return nil, false, fmt.Errorf("unknown Comparison %q", f.Comparison)
}

func anyTrue(tests []func(string) bool, v string) bool {
	return slices.ContainsFunc(tests, func(t func(string) bool) bool { return t(v) })
}

// compileDates matches a finding whose date falls in any of the filters:
// between Start and End (inclusive, either may be open) or within the last
// DateRange.Value days before now.
func compileDates(get func(*finding) []string, fs []dateFilter, now time.Time) (matcher, error) {
	type window struct{ from, to time.Time }
	var windows []window
	for i, f := range fs {
		var w window
		switch {
		case f.DateRange != nil:
			if f.DateRange.Unit != "DAYS" {
				return nil, fmt.Errorf("[%d].DateRange.Unit: must be DAYS (got %q)", i, f.DateRange.Unit)
			}
			w.from = now.Add(-time.Duration(f.DateRange.Value) * 24 * time.Hour)
		case f.Start == "" && f.End == "":
			return nil, fmt.Errorf("[%d]: needs Start, End or DateRange", i)
		}
		for _, b := range []struct {
			s   string
			dst *time.Time
		}{{f.Start, &w.from}, {f.End, &w.to}} {
			if b.s == "" {
				continue
			}
			t, ok := parseTime(b.s)
			if !ok {
				return nil, fmt.Errorf("[%d]: %q is not an RFC 3339 time", i, b.s)
			}
			*b.dst = t
		}
		windows = append(windows, w)
	}
	return func(f *finding) bool {
		for _, s := range get(f) {
			t, ok := parseTime(s)
			if !ok {
				continue
			}
			for _, w := range windows {
				if (w.from.IsZero() || !t.Before(w.from)) && (w.to.IsZero() || !t.After(w.to)) {
					return true
				}
			}
		}
		return false
	}, nil
}

// sortCriterion is the wire shape of types.SortCriterion.
type sortCriterion struct {
	Field     string
	SortOrder string
}

// sortFindings orders fs by the criteria, stably. Dates compare as times,
// other fields as strings; a finding without the field sorts first.
func sortFindings(fs []*finding, criteria []sortCriterion) error {
	type keyFn func(*finding) (string, time.Time)
	var keys []keyFn
	var desc []bool
	for i, c := range criteria {
		if get, ok := stringFields[c.Field]; ok {
			keys = append(keys, func(f *finding) (string, time.Time) { return first(get(f)), time.Time{} })
		} else if get, ok := dateFields[c.Field]; ok {
			keys = append(keys, func(f *finding) (string, time.Time) { t, _ := parseTime(first(get(f))); return "", t })
		} else {
			return fmt.Errorf("SortCriteria[%d].Field: shtest cannot sort by %q", i, c.Field)
		}
		switch c.SortOrder {
		case "", "asc":
			desc = append(desc, false)
		case "desc":
			desc = append(desc, true)
		default:
			return fmt.Errorf("SortCriteria[%d].SortOrder: must be asc or desc (got %q)", i, c.SortOrder)
		}
	}
	slices.SortStableFunc(fs, func(a, b *finding) int {
		for i, k := range keys {
			as, at := k(a)
			bs, bt := k(b)
			c := cmp.Or(cmp.Compare(as, bs), at.Compare(bt))
			if desc[i] {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
