package eventpattern

import (
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/asff"
	"hubtriage/filter"
)

// stringCond converts one StringFilter field.
func stringCond(name string, entries []types.StringFilter, note func(string, string)) ([]term, bool) {
	if ef, ok := enumFields[name]; ok {
		return enumCond(name, ef, entries)
	}
	places, ok := stringPlaces[name]
	if !ok {
		note(name, "left to the Lambda: no known place in the event")
		return nil, false
	}
	pos, neg, skipped := split(entries)
	for _, s := range skipped {
		note(name, "left to the Lambda: "+s)
	}
	if len(pos) > 0 {
		if len(neg) > 0 {
			note(name, "negative comparisons left to the Lambda: EventBridge cannot AND them with the positive ones on one field")
		}
		return onEvery(places, pos), false
	}
	if len(neg) == 0 {
		return nil, false
	}
	matcher, rest := negative(neg)
	for _, r := range rest {
		note(name, "left to the Lambda: "+r)
	}
	return negativeAlts(name, places, matcher, note), false
}

// onEvery matches the same matchers on each place (any place may hold the
// value the decoder reads).
func onEvery(places []place, matchers []any) []term {
	alts := make([]term, len(places))
	for i, p := range places {
		alts[i] = term{key(p): matchers}
	}
	return alts
}

// negativeAlts lets through findings whose value passes the anything-but
// matcher, or that have no value at all (which every negative comparison
// accepts).
func negativeAlts(name string, places []place, matcher any, note func(string, string)) []term {
	if places[0].always {
		return []term{{key(places[0]): {matcher}}}
	}
	absent := term{}
	for _, p := range places {
		if p.list {
			note(name, "left to the Lambda: EventBridge cannot test that a value inside a list is absent")
			return nil
		}
		absent[key(p)] = []any{map[string]any{"exists": false}}
	}
	alts := onEvery(places, []any{matcher})
	return append(alts, absent)
}

// split sorts the comparisons into positive matchers, negative filters and
// unsupported comparisons. A positive comparison that cannot be expressed
// drops the whole field (dropping only it would narrow the pattern).
func split(entries []types.StringFilter) (pos []any, neg []types.StringFilter, skipped []string) {
	for _, e := range entries {
		v := deref(e.Value)
		switch e.Comparison {
		case types.StringFilterComparisonEquals:
			pos = append(pos, v)
		case types.StringFilterComparisonPrefix:
			pos = append(pos, map[string]any{"prefix": v})
		case types.StringFilterComparisonContains:
			pos = append(pos, map[string]any{"wildcard": "*" + escapeWildcard(v) + "*"})
		case types.StringFilterComparisonNotEquals, types.StringFilterComparisonPrefixNotEquals,
			types.StringFilterComparisonNotContains:
			neg = append(neg, e)
		default:
			return nil, nil, []string{fmt.Sprintf("comparison %s has no EventBridge equivalent", e.Comparison)}
		}
	}
	return pos, neg, nil
}

// negative builds one anything-but matcher from the AND-ed negative
// comparisons: all NOT_EQUALS values at once, else the first
// PREFIX_NOT_EQUALS, else the first NOT_CONTAINS. What it leaves out only
// widens the pattern, and is returned as notes.
func negative(neg []types.StringFilter) (any, []string) {
	var equals []any
	var prefixes, contains []string
	for _, e := range neg {
		switch e.Comparison {
		case types.StringFilterComparisonNotEquals:
			equals = append(equals, deref(e.Value))
		case types.StringFilterComparisonPrefixNotEquals:
			prefixes = append(prefixes, deref(e.Value))
		default:
			contains = append(contains, deref(e.Value))
		}
	}
	var rest []string
	leftOut := func(what string, vs []string) {
		for _, v := range vs {
			rest = append(rest, fmt.Sprintf("%s %q", what, v))
		}
	}
	switch {
	case len(equals) > 0:
		leftOut("PREFIX_NOT_EQUALS", prefixes)
		leftOut("NOT_CONTAINS", contains)
		return map[string]any{"anything-but": equals}, rest
	case len(prefixes) > 0:
		leftOut("PREFIX_NOT_EQUALS", prefixes[1:])
		leftOut("NOT_CONTAINS", contains)
		return map[string]any{"anything-but": map[string]any{"prefix": prefixes[0]}}, rest
	}
	leftOut("NOT_CONTAINS", contains[1:])
	return map[string]any{"anything-but": map[string]any{"wildcard": "*" + escapeWildcard(contains[0]) + "*"}}, rest
}

// enumCond lists the values of an enumerated field that the filter lets
// through, deciding each with the filter package so the semantics cannot
// drift. never reports that no value passes.
func enumCond(name string, ef enumField, entries []types.StringFilter) (alts []term, never bool) {
	f, err := singleField(name, entries)
	if err != nil {
		return nil, false // the config was validated; be safe: no condition
	}
	var pass []string
	for _, v := range ef.values {
		x := &asff.Finding{}
		ef.set(x, v)
		if f.Match(x, time.Time{}) {
			pass = append(pass, v)
		}
	}
	// A finding without the field: only possible where it is optional.
	absentOK := !ef.place.always && f.Match(&asff.Finding{}, time.Time{})
	if len(pass) == len(ef.values) && (absentOK || ef.place.always) {
		return nil, false
	}
	if len(pass) == 0 && !absentOK {
		return nil, true
	}
	if len(pass) > 0 {
		alts = append(alts, term{key(ef.place): strs(pass)})
	}
	if absentOK {
		alts = append(alts, term{key(ef.place): {map[string]any{"exists": false}}})
	}
	return alts, false
}

// numberCond converts NumberFilters (alternatives) on SeverityNormalized.
func numberCond(name string, entries []types.NumberFilter, note func(string, string)) []term {
	if name != "SeverityNormalized" {
		note(name, "left to the Lambda: no known place in the event")
		return nil
	}
	var matchers []any
	for _, e := range entries {
		var ops []any
		switch {
		case e.Eq != nil:
			ops = []any{"=", *e.Eq}
		default:
			ops = appendOp(ops, ">", e.Gt)
			ops = appendOp(ops, ">=", e.Gte)
			ops = appendOp(ops, "<", e.Lt)
			ops = appendOp(ops, "<=", e.Lte)
		}
		if len(ops) == 0 {
			return nil
		}
		matchers = append(matchers, map[string]any{"numeric": ops})
	}
	norm := at("Severity", "Normalized")
	alts := []term{{key(norm): matchers}}
	f, err := singleNumber(name, entries)
	if err == nil && f.Match(&asff.Finding{}, time.Time{}) {
		// A finding without Normalized decodes as 0, which passes.
		alts = append(alts, term{key(norm): {map[string]any{"exists": false}}})
	}
	return alts
}

func appendOp(ops []any, op string, v *float64) []any {
	if v == nil {
		return ops
	}
	return append(ops, op, *v)
}

// mapConds converts MapFilters: each key is its own condition (AND across
// keys), so the result is the product of the keys' alternatives.
func mapConds(name string, entries []types.MapFilter, note func(string, string)) []term {
	holder, ok := mapPlaces[name]
	if !ok {
		note(name, "left to the Lambda: no known place in the event")
		return nil
	}
	byKey := map[string][]types.StringFilter{}
	var keys []string
	for _, e := range entries {
		k := deref(e.Key)
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], types.StringFilter{Value: e.Value, Comparison: types.StringFilterComparison(e.Comparison)})
	}
	sort.Strings(keys)
	terms := []term{{}}
	for _, k := range keys {
		field := name + "." + k
		if k == "" || strings.HasPrefix(k, "$") {
			note(field, "left to the Lambda: the key cannot be a pattern field")
			continue
		}
		p := place{path: append(append([]string{}, holder.path...), k), list: holder.list}
		pos, neg, skipped := split(byKey[k])
		var alts []term
		switch {
		case len(skipped) > 0:
			note(field, "left to the Lambda: "+skipped[0])
		case len(pos) > 0:
			if len(neg) > 0 {
				note(field, "negative comparisons left to the Lambda: EventBridge cannot AND them with the positive ones on one key")
			}
			alts = []term{{key(p): pos}}
		case len(neg) > 0:
			matcher, rest := negative(neg)
			for _, r := range rest {
				note(field, "left to the Lambda: "+r)
			}
			alts = negativeAlts(field, []place{p}, matcher, note)
		}
		if len(alts) > 0 {
			terms = product(terms, alts)
		}
	}
	if len(terms) == 1 && len(terms[0]) == 0 {
		return nil
	}
	return terms
}

func singleField(name string, entries []types.StringFilter) (*filter.Filters, error) {
	in := &types.AwsSecurityFindingFilters{}
	setField(in, name, entries)
	return filter.FromSDK(in)
}

func singleNumber(name string, entries []types.NumberFilter) (*filter.Filters, error) {
	in := &types.AwsSecurityFindingFilters{}
	setField(in, name, entries)
	return filter.FromSDK(in)
}

func escapeWildcard(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s)
}

func strs(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// setField sets the named field of an SDK filter.
func setField(in *types.AwsSecurityFindingFilters, name string, v any) {
	reflect.ValueOf(in).Elem().FieldByName(name).Set(reflect.ValueOf(v))
}

// ipCond converts one IpFilter field: its CIDR blocks become EventBridge
// "cidr" matchers (OR-ed, as the filters are); a single address is a /32
// or /128 block.
func ipCond(name string, entries []types.IpFilter, note func(string, string)) []term {
	p, ok := ipPlaces[name]
	if !ok {
		note(name, "left to the Lambda: no known place in the event")
		return nil
	}
	matchers := make([]any, 0, len(entries))
	for _, e := range entries {
		c := deref(e.Cidr)
		if !strings.Contains(c, "/") {
			if a, err := netip.ParseAddr(c); err == nil {
				c = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		matchers = append(matchers, map[string]any{"cidr": c})
	}
	return []term{{key(p): matchers}}
}
