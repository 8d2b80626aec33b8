package ocsffilter

import (
	"net/netip"
	"strings"
	"time"
	"unicode"

	json "github.com/goccy/go-json"
)

// parse decodes an OCSF finding's JSON for evaluation.
func parse(raw []byte) (any, error) {
	var doc any
	err := json.Unmarshal(raw, &doc)
	return doc, err
}

// values returns every value the dotted path reaches in v, descending into
// every element of a list on the way and flattening a list at the end.
func values(v any, path []string) []any {
	if len(path) == 0 {
		if list, ok := v.([]any); ok {
			return list
		}
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[path[0]]
		if !ok || child == nil {
			return nil
		}
		return values(child, path[1:])
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, values(e, path)...)
		}
		return out
	}
	return nil
}

// negative comparisons must hold for every value; the others for any.
func negative(comparison string) bool {
	switch comparison {
	case "NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS":
		return true
	}
	return false
}

func (c *cond) match(doc any, now time.Time) bool {
	vals := values(doc, c.path)
	test := func(v any) bool { return c.test(v, now) }
	if c.kind == kindMap {
		return c.matchMap(vals)
	}
	if (c.kind == kindString) && negative(c.comparison) {
		for _, v := range vals {
			if !test(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if test(v) {
			return true
		}
	}
	return false
}

// test checks one value against the condition.
func (c *cond) test(v any, now time.Time) bool {
	switch c.kind {
	case kindString:
		s, ok := v.(string)
		return ok && compareString(c.comparison, s, c.value)
	case kindNumber:
		f, ok := v.(float64)
		return ok && c.inRange(f)
	case kindBoolean:
		b, ok := v.(bool)
		return ok && b == *c.boolean
	case kindDate:
		s, ok := v.(string)
		if !ok {
			return false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return err == nil && c.inDates(t, now)
	case kindIP:
		s, ok := v.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		return err == nil && c.cidr.Contains(a.Unmap())
	}
	return false
}

func compareString(comparison, s, want string) bool {
	switch comparison {
	case "EQUALS":
		return s == want
	case "NOT_EQUALS":
		return s != want
	case "PREFIX":
		return strings.HasPrefix(s, want)
	case "PREFIX_NOT_EQUALS":
		return !strings.HasPrefix(s, want)
	case "CONTAINS":
		return strings.Contains(s, want)
	case "NOT_CONTAINS":
		return !strings.Contains(s, want)
	case "CONTAINS_WORD":
		return containsWord(s, want)
	}
	return false
}

// containsWord reports whether word occurs in s bounded by non-letters and
// non-digits.
func containsWord(s, word string) bool {
	if word == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isWordByte(s[start-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(b byte) bool {
	r := rune(b)
	return r >= 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (c *cond) inRange(f float64) bool {
	return (c.eq == nil || f == *c.eq) && (c.gt == nil || f > *c.gt) && (c.gte == nil || f >= *c.gte) &&
		(c.lt == nil || f < *c.lt) && (c.lte == nil || f <= *c.lte)
}

func (c *cond) inDates(t, now time.Time) bool {
	if !c.start.IsZero() && t.Before(c.start) || !c.end.IsZero() && t.After(c.end) {
		return false
	}
	if !c.rangeSet {
		return true
	}
	edge := now.AddDate(0, 0, -c.rangeDays)
	if c.comparison == "OLDER_THAN" {
		return t.Before(edge)
	}
	return !t.Before(edge)
}

// matchMap evaluates a map condition over entries that are {name, value}
// (or {key, value}) objects, or over an object's members.
func (c *cond) matchMap(vals []any) bool {
	var found []string
	for _, v := range vals {
		switch x := v.(type) {
		case map[string]any:
			name, hasName := x["name"].(string)
			if !hasName {
				name, hasName = x["key"].(string)
			}
			if hasName {
				if name == c.key {
					found = append(found, text(x["value"]))
				}
				continue
			}
			if val, ok := x[c.key]; ok {
				found = append(found, text(val))
			}
		}
	}
	if negative(c.comparison) {
		for _, s := range found {
			if !compareString(c.comparison, s, c.value) {
				return false
			}
		}
		return true
	}
	for _, s := range found {
		if compareString(c.comparison, s, c.value) {
			return true
		}
	}
	return false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
