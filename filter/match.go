package filter

import (
	"encoding/json"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"hubtriage/asff"
)

// matcher is one compiled field of a filter. match must not allocate.
type matcher interface {
	match(x *asff.Finding, now time.Time) bool
	// cost orders matchers so cheap, usually selective ones run first.
	cost() int
}

// strOp is the positive form of a string comparison; NOT_EQUALS,
// PREFIX_NOT_EQUALS and NOT_CONTAINS are the negations of opEquals, opPrefix
// and opContains.
type strOp uint8

const (
	opEquals strOp = iota
	opPrefix
	opContains
	opWord // CONTAINS_WORD, which has no negation
)

// strCond is one compiled string comparison (case-sensitive, like AWS).
type strCond struct {
	op strOp
	v  string
}

// test reports whether s satisfies the positive form of the comparison.
func (c strCond) test(s string) bool {
	switch c.op {
	case opEquals:
		return s == c.v
	case opPrefix:
		return strings.HasPrefix(s, c.v)
	case opWord:
		return containsWord(s, c.v)
	default:
		return strings.Contains(s, c.v)
	}
}

// containsWord reports whether w occurs in s as a whole word (or words):
// not preceded or followed by a letter, digit or underscore where w itself
// begins or ends with one. "CloudFront" is a word of "Amazon CloudFront
// distribution" but not of "CloudFrontOrigin". Like every comparison it is
// case-sensitive.
func containsWord(s, w string) bool {
	if w == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(w)
	last, _ := utf8.DecodeLastRuneInString(w)
	for off := 0; off <= len(s)-len(w); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (start == 0 || !isWordRune(first) || !isWordRune(before)) &&
			(end == len(s) || !isWordRune(last) || !isWordRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		off = start + size
	}
	return false
}

// isWordRune reports whether r belongs to a word.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// anyCond reports whether s satisfies the positive form of any of conds.
func anyCond(conds []strCond, s string) bool {
	for _, c := range conds {
		if c.test(s) {
			return true
		}
	}
	return false
}

// strMatcher evaluates a string field. AWS joins EQUALS, PREFIX and CONTAINS
// on one field with OR and NOT_EQUALS, PREFIX_NOT_EQUALS and NOT_CONTAINS
// with AND, processing the positive ones first (see the comment on
// compileStrings), so a finding matches when some value satisfies some
// positive comparison (or there are none) and no value is caught by any
// negative one. neg holds negative comparisons in their positive form.
// A multi-valued field (one value per resource, type, related finding)
// therefore matches positively if any element does and negatively only if
// no element is excluded; a finding with no elements matches only negations.
type strMatcher struct {
	one   func(*asff.Finding) string
	count func(*asff.Finding) int
	at    func(*asff.Finding, int) string
	pos   []strCond
	neg   []strCond
}

func (m *strMatcher) cost() int {
	if m.one != nil {
		return 0
	}
	return 3
}

func (m *strMatcher) match(x *asff.Finding, _ time.Time) bool {
	if m.one != nil {
		s := m.one(x)
		return (len(m.pos) == 0 || anyCond(m.pos, s)) && !anyCond(m.neg, s)
	}
	n := m.count(x)
	if len(m.pos) > 0 {
		found := false
		for i := 0; i < n && !found; i++ {
			found = anyCond(m.pos, m.at(x, i))
		}
		if !found {
			return false
		}
	}
	for i := 0; i < n && len(m.neg) > 0; i++ {
		if anyCond(m.neg, m.at(x, i)) {
			return false
		}
	}
	return true
}

// numCond is one NumberFilter: every bound it sets must hold.
type numCond struct {
	hasEq, hasGt, hasGte, hasLt, hasLte bool
	eq, gt, gte, lt, lte                float64
}

func (c *numCond) test(v float64) bool {
	return (!c.hasEq || v == c.eq) &&
		(!c.hasGt || v > c.gt) && (!c.hasGte || v >= c.gte) &&
		(!c.hasLt || v < c.lt) && (!c.hasLte || v <= c.lte)
}

// numMatcher matches when any of its NumberFilters holds, the way several
// values of one field are alternatives in Security Hub. A finding without
// the value matches none.
type numMatcher struct {
	get   func(*asff.Finding) (float64, bool)
	conds []numCond
}

func (m *numMatcher) cost() int { return 1 }

func (m *numMatcher) match(x *asff.Finding, _ time.Time) bool {
	v, ok := m.get(x)
	if !ok {
		return false
	}
	for i := range m.conds {
		if m.conds[i].test(v) {
			return true
		}
	}
	return false
}

// dateCond is one DateFilter: an absolute [start, end] (either bound may be
// open, both inclusive) or a range relative to now of days×24h: WITHIN means
// at or after now minus the range, OLDER_THAN strictly before it.
type dateCond struct {
	start, end time.Time
	relative   bool
	older      bool
	span       time.Duration
}

func (c *dateCond) test(t, now time.Time) bool {
	if t.IsZero() {
		return false // the finding has no such timestamp
	}
	if c.relative {
		cutoff := now.Add(-c.span)
		if c.older {
			return t.Before(cutoff)
		}
		return !t.Before(cutoff)
	}
	return (c.start.IsZero() || !t.Before(c.start)) && (c.end.IsZero() || !t.After(c.end))
}

// dateMatcher matches when any of its DateFilters holds for any of the
// field's timestamps (one per resource or indicator for some fields).
type dateMatcher struct {
	one   func(*asff.Finding) time.Time // set for a single timestamp, else count/at
	count func(*asff.Finding) int
	at    func(*asff.Finding, int) time.Time
	conds []dateCond
}

func (m *dateMatcher) cost() int { return 2 }

func (m *dateMatcher) match(x *asff.Finding, now time.Time) bool {
	if m.one != nil {
		return m.any(m.one(x), now)
	}
	for i, n := 0, m.count(x); i < n; i++ {
		if m.any(m.at(x, i), now) {
			return true
		}
	}
	return false
}

// any reports whether t satisfies one of the conditions.
func (m *dateMatcher) any(t, now time.Time) bool {
	for j := range m.conds {
		if m.conds[j].test(t, now) {
			return true
		}
	}
	return false
}

// mapGroup is the MapFilters of one map field that share a key: positive
// comparisons (EQUALS, CONTAINS) are OR-ed and negative ones (NOT_EQUALS,
// NOT_CONTAINS, kept in positive form in neg) AND-ed, as for strings.
type mapGroup struct {
	key string
	pos []strCond
	neg []strCond
}

// mapMatcher evaluates a map field (ResourceTags over every resource,
// ProductFields, UserDefinedFields). Groups with different keys are AND-ed:
// ResourceTags Env EQUALS prod plus Team EQUALS sec needs both tags. A
// missing key satisfies negative comparisons and no positive one.
type mapMatcher struct {
	count  func(*asff.Finding) int
	at     func(*asff.Finding, int) map[string]string
	groups []mapGroup
}

func (m *mapMatcher) cost() int { return 4 }

func (m *mapMatcher) match(x *asff.Finding, _ time.Time) bool {
	n := m.count(x)
	for gi := range m.groups {
		if !m.groupMatch(&m.groups[gi], x, n) {
			return false
		}
	}
	return true
}

func (m *mapMatcher) groupMatch(g *mapGroup, x *asff.Finding, n int) bool {
	if len(g.pos) > 0 {
		found := false
		for i := 0; i < n && !found; i++ {
			v, ok := m.at(x, i)[g.key]
			found = ok && anyCond(g.pos, v)
		}
		if !found {
			return false
		}
	}
	for i := 0; i < n && len(g.neg) > 0; i++ {
		if v, ok := m.at(x, i)[g.key]; ok && anyCond(g.neg, v) {
			return false
		}
	}
	return true
}

// ipMatcher matches when one of the field's addresses is inside one of the
// prefixes. Values that are not IP addresses match nothing.
type ipMatcher struct {
	count    func(*asff.Finding) int
	at       func(*asff.Finding, int) string
	prefixes []netip.Prefix
}

func (m *ipMatcher) cost() int { return 3 }

func (m *ipMatcher) match(x *asff.Finding, _ time.Time) bool {
	for i, n := 0, m.count(x); i < n; i++ {
		a, err := netip.ParseAddr(m.at(x, i))
		if err != nil {
			continue
		}
		a = a.Unmap()
		for _, p := range m.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// boolMatcher matches when the finding's value is one the filters accept
// (several BooleanFilters are alternatives).
type boolMatcher struct {
	get    func(*asff.Finding) bool
	accept [2]bool // by boolIndex
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (m *boolMatcher) cost() int { return 0 }

func (m *boolMatcher) match(x *asff.Finding, _ time.Time) bool {
	return m.accept[boolIndex(m.get(x))]
}

// keywordMatcher matches when one of its words occurs, as a whole word, in
// a string value (not a key) anywhere in the finding's raw JSON. Values are
// searched as written in the JSON; one holding an escape sequence is
// decoded first, which allocates.
type keywordMatcher struct {
	words []string
}

func (m *keywordMatcher) cost() int { return 5 }

func (m *keywordMatcher) match(x *asff.Finding, _ time.Time) bool {
	found := false
	eachStringValue(x.Raw, func(v string) bool {
		for _, w := range m.words {
			if containsWord(v, w) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// eachStringValue calls fn with every string value of the JSON document
// doc (object keys excluded) until fn returns false. doc is well-formed: it
// is a decoded finding's Raw.
func eachStringValue(doc []byte, fn func(string) bool) {
	for i := 0; i < len(doc); i++ {
		if doc[i] != '"' {
			continue
		}
		end, escaped := stringEnd(doc, i)
		j := end
		for j < len(doc) && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r') {
			j++
		}
		if j >= len(doc) || doc[j] != ':' {
			n := end - 1 - (i + 1)
			if n < 0 {
				return // unterminated: not a decoded finding's Raw
			}
			// Raw is never written to, so the value may share its bytes.
			v := unsafe.String(unsafe.SliceData(doc[i+1:]), n)
			if escaped {
				v = unquote(doc[i:end])
			}
			if !fn(v) {
				return
			}
		}
		i = end - 1
	}
}

// unquote decodes the JSON string q (with its quotes).
func unquote(q []byte) string {
	var s string
	_ = json.Unmarshal(q, &s) // q is a valid JSON string of a decoded finding
	return s
}

// stringEnd returns the index just past the JSON string starting at
// doc[i] (a quote), and whether it holds escape sequences.
func stringEnd(doc []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return len(doc), escaped
}
