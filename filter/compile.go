package filter

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

var (
	stringComparisons = []string{"EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "CONTAINS_WORD"}
	mapComparisons    = []string{"EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"}
	rangeComparisons  = []string{"WITHIN", "OLDER_THAN"}
)

// conflicts lists the comparison pairs Security Hub refuses on one field
// (StringFilter and MapFilter docs: "You can't have both a CONTAINS filter
// and a NOT_CONTAINS filter on the same field. Similarly, you can't provide
// both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS filter on the
// same field. Combining filters in this way returns an error.").
var conflicts = [][2]string{
	{"CONTAINS", "NOT_CONTAINS"},
	{"EQUALS", "NOT_EQUALS"},
	{"EQUALS", "PREFIX_NOT_EQUALS"},
}

// compile validates the parsed fields and builds their matchers, reporting
// every semantic problem (missing or bad values, conflicting comparisons).
func compile(specs []*fieldSpec, errs *errorList) *Filters {
	f := &Filters{specs: specs}
	for _, s := range specs {
		var m matcher
		switch s.field.kind {
		case kindString:
			m = compileStrings(s, errs)
		case kindNumber:
			m = compileNumbers(s, errs)
		case kindDate:
			m = compileDates(s, errs)
		case kindMap:
			m = compileMaps(s, errs)
		case kindIP:
			m = compileIPs(s, errs)
		case kindBool:
			m = compileBools(s, errs)
		case kindKeyword:
			m = compileKeywords(s, errs)
		}
		if m != nil {
			f.matchers = append(f.matchers, m)
		}
	}
	sort.SliceStable(f.matchers, func(i, j int) bool { return f.matchers[i].cost() < f.matchers[j].cost() })
	return f
}

// missing reports whether key was absent from entry i (as opposed to present
// with a bad value, which the parser already reported).
func (s *fieldSpec) missing(i int, key string) bool {
	if i >= len(s.lines) || s.lines[i] == nil {
		return true
	}
	_, given := s.lines[i][key]
	return !given
}

// requireString checks a required, non-empty string of entry i.
func requireString(s *fieldSpec, errs *errorList, i int, key string, v *string) bool {
	switch {
	case v == nil:
		if s.missing(i, key) {
			errs.add(s.entryPath(i, key), s.lineOf(i, key), "required")
		}
		return false
	case *v == "":
		errs.add(s.entryPath(i, key), s.lineOf(i, key), "must not be empty")
		return false
	}
	return true
}

// checkComparison checks a Comparison against allowed, returning false after
// reporting it when it is missing or unknown.
func checkComparison(s *fieldSpec, errs *errorList, i int, cmp string, allowed []string) bool {
	path, line := s.entryPath(i, "Comparison"), s.lineOf(i, "Comparison")
	switch {
	case cmp == "" && s.missing(i, "Comparison"):
		errs.add(path, line, "required; one of %s", strings.Join(allowed, ", "))
	case cmp == "":
	case !contains(allowed, cmp):
		errs.add(path, line, "%s", oneOfMsg(cmp, allowed))
	default:
		return true
	}
	return false
}

// comparisonSet remembers the first entry that used each comparison, to
// report combinations Security Hub rejects.
type comparisonSet map[string]int

// checkConflict reports entry i's comparison if it conflicts with an earlier one.
func (c comparisonSet) checkConflict(s *fieldSpec, errs *errorList, i int, cmp, where string) {
	for _, pair := range conflicts {
		for k := range 2 {
			if cmp != pair[k] {
				continue
			}
			if j, ok := c[pair[1-k]]; ok {
				errs.add(s.entryPath(i, "Comparison"), s.lineOf(i, "Comparison"),
					"%s cannot be combined with %s (%s)%s: Security Hub rejects it", cmp, pair[1-k], s.entryPath(j, ""), where)
			}
		}
	}
	if _, ok := c[cmp]; !ok {
		c[cmp] = i
	}
}

// compileStrings builds a string field's matcher.
//
// Semantics, from the Security Hub StringFilter reference: "CONTAINS, EQUALS,
// and PREFIX filters on the same field are joined by OR"; "NOT_CONTAINS,
// NOT_EQUALS, and PREFIX_NOT_EQUALS filters on the same field are joined by
// AND"; "You can combine PREFIX filters with NOT_EQUALS or PREFIX_NOT_EQUALS
// filters for the same field. Security Hub CSPM first processes the PREFIX
// filters, and then the NOT_EQUALS or PREFIX_NOT_EQUALS filters." So a
// finding matches when (any positive comparison holds) AND (every negative
// one holds). The combinations the reference says return an error (see
// conflicts) are rejected here too. Values are compared case-sensitively.
func compileStrings(s *fieldSpec, errs *errorList) matcher {
	m := &strMatcher{one: s.field.str, count: s.field.count, at: s.field.at}
	seen := comparisonSet{}
	for i, e := range s.strs {
		if s.malformed[i] {
			continue
		}
		okValue := requireString(s, errs, i, "Value", e.Value)
		cmp := string(e.Comparison)
		if !checkComparison(s, errs, i, cmp, stringComparisons) {
			continue
		}
		seen.checkConflict(s, errs, i, cmp, " on the same field")
		if !okValue {
			continue
		}
		if (cmp == "EQUALS" || cmp == "NOT_EQUALS") && s.field.enum != nil && !contains(s.field.enum, *e.Value) {
			errs.add(s.entryPath(i, "Value"), s.lineOf(i, "Value"), "%s", oneOfMsg(*e.Value, s.field.enum))
			continue
		}
		c, negative := stringCond(cmp, *e.Value)
		if negative {
			m.neg = append(m.neg, c)
		} else {
			m.pos = append(m.pos, c)
		}
	}
	if len(m.pos)+len(m.neg) == 0 {
		return nil
	}
	return m
}

// stringCond compiles a valid comparison into its positive form and whether
// it is negated.
func stringCond(cmp, v string) (strCond, bool) {
	switch cmp {
	case "EQUALS":
		return strCond{opEquals, v}, false
	case "PREFIX":
		return strCond{opPrefix, v}, false
	case "CONTAINS":
		return strCond{opContains, v}, false
	case "CONTAINS_WORD":
		return strCond{opWord, v}, false
	case "NOT_EQUALS":
		return strCond{opEquals, v}, true
	case "PREFIX_NOT_EQUALS":
		return strCond{opPrefix, v}, true
	default: // NOT_CONTAINS
		return strCond{opContains, v}, true
	}
}

// compileNumbers builds a number field's matcher; each NumberFilter needs at
// least one bound.
func compileNumbers(s *fieldSpec, errs *errorList) matcher {
	m := &numMatcher{get: s.field.num}
	for i, e := range s.nums {
		if s.malformed[i] {
			continue
		}
		var c numCond
		c.eq, c.hasEq = deref(e.Eq)
		c.gt, c.hasGt = deref(e.Gt)
		c.gte, c.hasGte = deref(e.Gte)
		c.lt, c.hasLt = deref(e.Lt)
		c.lte, c.hasLte = deref(e.Lte)
		if !(c.hasEq || c.hasGt || c.hasGte || c.hasLt || c.hasLte) {
			if len(s.lines) == 0 || len(s.lines[i]) == 1 { // nothing given, not just something invalid
				errs.add(s.entryPath(i, ""), s.lineOf(i, ""), "needs at least one of Eq, Gt, Gte, Lt, Lte")
			}
			continue
		}
		m.conds = append(m.conds, c)
	}
	if len(m.conds) == 0 {
		return nil
	}
	return m
}

// deref returns *p and whether p was set.
func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// compileDates builds a date field's matcher. Each DateFilter is either an
// absolute Start/End (RFC 3339, either may be omitted) or a DateRange of DAYS
// relative to the now given to Match.
func compileDates(s *fieldSpec, errs *errorList) matcher {
	m := &dateMatcher{one: s.field.date, count: s.field.dateN, at: s.field.dateAt}
	for i, e := range s.dates {
		if s.malformed[i] {
			continue
		}
		c, ok := dateCondition(s, errs, i, e)
		if ok {
			m.conds = append(m.conds, c)
		}
	}
	if len(m.conds) == 0 {
		return nil
	}
	return m
}

// dateCondition validates and compiles DateFilter i.
func dateCondition(s *fieldSpec, errs *errorList, i int, e types.DateFilter) (dateCond, bool) {
	absolute := e.Start != nil || e.End != nil || !s.missing(i, "Start") || !s.missing(i, "End")
	switch {
	case e.DateRange != nil && absolute:
		errs.add(s.entryPath(i, "DateRange"), s.lineOf(i, "DateRange"), "give either DateRange or Start/End, not both")
		return dateCond{}, false
	case e.DateRange != nil:
		return dateRangeCondition(s, errs, i, e.DateRange)
	case !absolute && s.missing(i, "DateRange"):
		errs.add(s.entryPath(i, ""), s.lineOf(i, ""), "needs Start and/or End, or DateRange")
		return dateCond{}, false
	}
	var c dateCond
	okStart := timestamp(s, errs, i, "Start", e.Start, &c.start)
	okEnd := timestamp(s, errs, i, "End", e.End, &c.end)
	if !okStart || !okEnd {
		return c, false
	}
	if !c.start.IsZero() && !c.end.IsZero() && c.start.After(c.end) {
		errs.add(s.entryPath(i, "End"), s.lineOf(i, "End"), "is before Start, so nothing can match")
		return c, false
	}
	return c, !c.start.IsZero() || !c.end.IsZero()
}

// timestamp parses an optional RFC 3339 timestamp into *dst.
func timestamp(s *fieldSpec, errs *errorList, i int, key string, v *string, dst *time.Time) bool {
	if v == nil {
		return s.missing(i, key) // present but invalid was already reported
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		errs.add(s.entryPath(i, key), s.lineOf(i, key), "must be an RFC 3339 timestamp like 2024-05-01T00:00:00Z (got %q)", *v)
		return false
	}
	*dst = t
	return true
}

// dateRangeCondition validates and compiles a relative DateRange.
func dateRangeCondition(s *fieldSpec, errs *errorList, i int, r *types.DateRange) (dateCond, bool) {
	ok := true
	switch {
	case r.Value == nil:
		if s.missing(i, "DateRange.Value") {
			errs.add(s.entryPath(i, "DateRange.Value"), s.lineOf(i, "DateRange"), "required (a number of days)")
		}
		ok = false
	case *r.Value <= 0:
		errs.add(s.entryPath(i, "DateRange.Value"), s.lineOf(i, "DateRange.Value"), "must be a positive number of days (got %d)", *r.Value)
		ok = false
	}
	switch unit := string(r.Unit); {
	case unit == "" && s.missing(i, "DateRange.Unit"):
		errs.add(s.entryPath(i, "DateRange.Unit"), s.lineOf(i, "DateRange"), "required; must be DAYS")
		ok = false
	case unit != "DAYS":
		if unit != "" {
			errs.add(s.entryPath(i, "DateRange.Unit"), s.lineOf(i, "DateRange.Unit"), "%s", oneOfMsg(unit, []string{"DAYS"}))
		}
		ok = false
	}
	cmp := string(r.Comparison)
	if cmp != "" && !contains(rangeComparisons, cmp) {
		errs.add(s.entryPath(i, "DateRange.Comparison"), s.lineOf(i, "DateRange.Comparison"), "%s", oneOfMsg(cmp, rangeComparisons))
		ok = false
	}
	if !ok {
		return dateCond{}, false
	}
	return dateCond{relative: true, older: cmp == "OLDER_THAN", span: time.Duration(*r.Value) * 24 * time.Hour}, true
}

// compileMaps builds a map field's matcher, grouping filters by Key. Within
// a key the MapFilter reference's rules apply: "CONTAINS and EQUALS filters
// on the same field are joined by OR", "NOT_CONTAINS and NOT_EQUALS filters
// on the same field are joined by AND", and CONTAINS with NOT_CONTAINS or
// EQUALS with NOT_EQUALS "returns an error". Different keys are AND-ed.
func compileMaps(s *fieldSpec, errs *errorList) matcher {
	m := &mapMatcher{count: s.field.mapCount, at: s.field.mapAt}
	index := map[string]int{}
	seen := map[string]comparisonSet{}
	for i, e := range s.maps {
		if s.malformed[i] {
			continue
		}
		okKey := requireString(s, errs, i, "Key", e.Key)
		okValue := requireString(s, errs, i, "Value", e.Value)
		cmp := string(e.Comparison)
		if !checkComparison(s, errs, i, cmp, mapComparisons) || !okKey || !okValue {
			continue
		}
		if seen[*e.Key] == nil {
			seen[*e.Key] = comparisonSet{}
			index[*e.Key] = len(m.groups)
			m.groups = append(m.groups, mapGroup{key: *e.Key})
		}
		seen[*e.Key].checkConflict(s, errs, i, cmp, fmt.Sprintf(" for key %q", *e.Key))
		g := &m.groups[index[*e.Key]]
		c, negative := stringCond(cmp, *e.Value)
		if negative {
			g.neg = append(g.neg, c)
		} else {
			g.pos = append(g.pos, c)
		}
	}
	if len(m.groups) == 0 {
		return nil
	}
	return m
}

// compileIPs builds an IpFilter field's matcher: each Cidr is an IPv4 or
// IPv6 prefix ("10.0.0.0/8") or a single address (a /32 or /128), of the
// field's address family; the finding matches when one of its addresses is
// inside one of them.
func compileIPs(s *fieldSpec, errs *errorList) matcher {
	m := &ipMatcher{count: s.field.count, at: s.field.at}
	for i, e := range s.ips {
		if s.malformed[i] || !requireString(s, errs, i, "Cidr", e.Cidr) {
			continue
		}
		p, err := parseCIDR(*e.Cidr)
		switch {
		case err != nil:
			errs.add(s.entryPath(i, "Cidr"), s.lineOf(i, "Cidr"), "must be a CIDR block like 10.0.0.0/8 or an address (got %q)", *e.Cidr)
		case p.Addr().BitLen() != s.field.ipBits:
			errs.add(s.entryPath(i, "Cidr"), s.lineOf(i, "Cidr"), "%s holds IPv%d addresses, so %q can never match",
				s.name, map[int]int{32: 4, 128: 6}[s.field.ipBits], *e.Cidr)
		default:
			m.prefixes = append(m.prefixes, p)
		}
	}
	if len(m.prefixes) == 0 {
		return nil
	}
	return m
}

// parseCIDR reads a prefix or a single address, masked to its prefix.
func parseCIDR(v string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("not a CIDR block: %q", v)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// compileBools builds a BooleanFilter field's matcher: the finding matches
// when its value equals one of the filters' values.
func compileBools(s *fieldSpec, errs *errorList) matcher {
	m := &boolMatcher{get: s.field.boolean}
	for i, e := range s.bools {
		if s.malformed[i] {
			continue
		}
		if e.Value == nil {
			if s.missing(i, "Value") {
				errs.add(s.entryPath(i, "Value"), s.lineOf(i, "Value"), "required (true or false)")
			}
			continue
		}
		m.accept[boolIndex(*e.Value)] = true
	}
	if !m.accept[0] && !m.accept[1] {
		return nil
	}
	return m
}

// compileKeywords builds the Keyword field's matcher. AWS deprecated
// Keyword without saying what it matched; hubtriage gives it the meaning
// of a keyword search: the finding matches when one of the values occurs
// as a whole word (as CONTAINS_WORD) in any string value of its JSON.
func compileKeywords(s *fieldSpec, errs *errorList) matcher {
	m := &keywordMatcher{}
	for i, e := range s.keywords {
		if s.malformed[i] || !requireString(s, errs, i, "Value", e.Value) {
			continue
		}
		m.words = append(m.words, *e.Value)
	}
	if len(m.words) == 0 {
		return nil
	}
	return m
}
