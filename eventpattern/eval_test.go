package eventpattern

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// matches evaluates an EventBridge event pattern against an event the way
// the EventBridge documentation describes content filtering: fields are
// AND-ed, the matchers of a field are OR-ed, arrays in the event are
// flattened (a field inside an array of objects holds the values of every
// element), and "$or" takes alternatives at any level. It is the tests'
// model of EventBridge, written from the documentation, not from the code
// under test. For anything-but on several values it takes the stricter
// reading (every value must pass), so a pattern that passes here passes
// EventBridge under either reading.
func matches(pattern map[string]any, event any) (bool, error) {
	for k, v := range pattern {
		var ok bool
		var err error
		if k == "$or" {
			ok, err = matchOr(v, event)
		} else {
			ok, err = matchField(v, values(event, k))
		}
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func matchOr(v any, event any) (bool, error) {
	alts, ok := v.([]any)
	if !ok || len(alts) < 2 {
		return false, fmt.Errorf("$or needs an array of at least two patterns, got %v", v)
	}
	for _, a := range alts {
		sub, ok := a.(map[string]any)
		if !ok {
			return false, fmt.Errorf("$or element %v is not an object", a)
		}
		if ok, err := matches(sub, event); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// matchField matches a pattern value (object: nested pattern; array:
// matchers) against the event nodes found at that key.
func matchField(pv any, nodes []any) (bool, error) {
	switch p := pv.(type) {
	case map[string]any:
		for _, n := range nodes {
			if _, isObj := n.(map[string]any); !isObj {
				continue
			}
			if ok, err := matches(p, n); err != nil || ok {
				return ok, err
			}
		}
		// A nested pattern on an absent object can still match through
		// exists:false leaves.
		if len(nodes) == 0 {
			return matches(p, map[string]any{})
		}
		return false, nil
	case []any:
		if len(p) == 0 {
			return false, fmt.Errorf("empty matcher array")
		}
		var leaves []any
		for _, n := range nodes {
			if _, isObj := n.(map[string]any); !isObj {
				leaves = append(leaves, n)
			}
		}
		for _, m := range p {
			ok, err := matchOne(m, leaves)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("pattern value %v is neither an object nor an array", pv)
}

// values returns the nodes under key k of node, flattening arrays.
func values(node any, k string) []any {
	var out []any
	var walk func(n any)
	walk = func(n any) {
		switch x := n.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if v, ok := x[k]; ok {
				flatten(v, &out)
			}
		}
	}
	walk(node)
	return out
}

func flatten(v any, out *[]any) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			flatten(e, out)
		}
		return
	}
	*out = append(*out, v)
}

// matchOne applies one matcher to the leaf values of a field.
func matchOne(m any, leaves []any) (bool, error) {
	obj, isObj := m.(map[string]any)
	if !isObj {
		for _, l := range leaves {
			if l == m {
				return true, nil
			}
		}
		return false, nil
	}
	if len(obj) != 1 {
		return false, fmt.Errorf("matcher %v must have exactly one key", obj)
	}
	for op, arg := range obj {
		if op == "exists" {
			return (len(leaves) > 0) == arg.(bool), nil
		}
		if len(leaves) == 0 {
			return false, nil
		}
		if op == "anything-but" {
			for _, l := range leaves {
				ok, err := anythingBut(arg, l)
				if err != nil || !ok {
					return false, err
				}
			}
			return true, nil
		}
		for _, l := range leaves {
			ok, err := apply(op, arg, l)
			if err != nil || ok {
				return ok, err
			}
		}
	}
	return false, nil
}

func anythingBut(arg, l any) (bool, error) {
	switch a := arg.(type) {
	case []any:
		for _, v := range a {
			if v == l {
				return false, nil
			}
		}
		return true, nil
	case map[string]any:
		if len(a) != 1 {
			return false, fmt.Errorf("anything-but %v must have one key", a)
		}
		for op, v := range a {
			if _, isList := v.([]any); isList {
				return false, fmt.Errorf("anything-but %s takes one value here, got %v", op, v)
			}
			ok, err := apply(op, v, l)
			return !ok, err
		}
	case string:
		return l != a, nil
	}
	return false, fmt.Errorf("bad anything-but %v", arg)
}

func apply(op string, arg, l any) (bool, error) {
	s, isStr := l.(string)
	switch op {
	case "prefix":
		return isStr && strings.HasPrefix(s, arg.(string)), nil
	case "equals-ignore-case":
		return isStr && strings.EqualFold(s, arg.(string)), nil
	case "wildcard":
		re, err := wildcardRegexp(arg.(string))
		return isStr && err == nil && re.MatchString(s), err
	case "numeric":
		f, isNum := l.(float64)
		return isNum && numeric(arg.([]any), f), nil
	case "cidr":
		prefix, err := netip.ParsePrefix(arg.(string))
		if err != nil {
			return false, fmt.Errorf("bad cidr %v: %w", arg, err)
		}
		a, err := netip.ParseAddr(s)
		return isStr && err == nil && prefix.Contains(a), nil
	}
	return false, fmt.Errorf("unknown matcher %q", op)
}

func wildcardRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && (p[i+1] == '*' || p[i+1] == '\\'):
			b.WriteString(regexp.QuoteMeta(string(p[i+1])))
			i++
		case p[i] == '*':
			b.WriteString(".*")
		default:
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func numeric(ops []any, v float64) bool {
	for i := 0; i+1 < len(ops); i += 2 {
		x := toFloat(ops[i+1])
		var ok bool
		switch ops[i] {
		case "<":
			ok = v < x
		case "<=":
			ok = v <= x
		case "=":
			ok = v == x
		case ">=":
			ok = v >= x
		case ">":
			ok = v > x
		}
		if !ok {
			return false
		}
	}
	return true
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}
