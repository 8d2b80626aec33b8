package ocsffilter

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"gopkg.in/yaml.v3"

	"hubtriage/strictyaml"

	"hubtriage/filter"
)

// The field names and comparisons GetFindingsV2 accepts, per filter kind,
// from the Security Hub SDK's enums: a name outside them is a config error.
var (
	stringFields  = enumStrings(types.OcsfStringField("").Values())
	numberFields  = enumStrings(types.OcsfNumberField("").Values())
	dateFields    = enumStrings(types.OcsfDateField("").Values())
	booleanFields = enumStrings(types.OcsfBooleanField("").Values())
	mapFields     = enumStrings(types.OcsfMapField("").Values())
	ipFields      = enumStrings(types.OcsfIpField("").Values())

	stringComparisons = enumStrings(types.StringFilterComparison("").Values())
	mapComparisons    = enumStrings(types.MapFilterComparison("").Values())
	dateComparisons   = enumStrings(types.DateRangeComparison("").Values())
	dateUnits         = enumStrings(types.DateRangeUnit("").Values())
	operators         = enumStrings(types.AllowedOperators("").Values())
)

func enumStrings[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// parser walks the YAML node tree strictly, collecting every problem.
type parser struct{ errs []error }

func (p *parser) fail(path string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &filter.FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// object calls fields[key] for each member of the mapping n; unknown keys
// are errors.
func (p *parser) object(n *yaml.Node, path string, fields map[string]func(v *yaml.Node, path string)) {
	n = strictyaml.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(path, n, "must be an object")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fn, ok := fields[k.Value]
		sub := join(path, k.Value)
		if !ok {
			p.fail(sub, k, "unknown key (want one of %s)", strings.Join(sortedKeys(fields), ", "))
			continue
		}
		if rv := strictyaml.Resolve(v); rv != nil && rv.Kind == yaml.ScalarNode && rv.Tag == "!!null" {
			continue // null is as if absent, as JSON encoders write unset members
		}
		fn(v, sub)
	}
}

// list calls fn for each element of the sequence n.
func (p *parser) list(n *yaml.Node, path string, fn func(v *yaml.Node, path string)) {
	n = strictyaml.Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.fail(path, n, "must be a list")
		return
	}
	for i, v := range n.Content {
		fn(v, fmt.Sprintf("%s[%d]", path, i))
	}
}

func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	n = strictyaml.Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		p.fail(path, n, "must be a value")
		return "", false
	}
	return n.Value, true
}

// enum reads a scalar that must be one of allowed.
func (p *parser) enum(n *yaml.Node, path, what string, allowed []string) string {
	s, ok := p.scalar(n, path)
	if ok && !slices.Contains(allowed, s) {
		p.fail(path, n, "unknown %s %q (want one of %s)", what, s, strings.Join(allowed, ", "))
		return ""
	}
	return s
}

func (p *parser) number(n *yaml.Node, path string) *float64 {
	s, ok := p.scalar(n, path)
	if !ok {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.fail(path, n, "must be a number (got %q)", s)
		return nil
	}
	return &v
}

// parseFilters reads an OcsfFindingFilters object.
func (p *parser) parseFilters(n *yaml.Node) *Filter {
	f := &Filter{op: "AND"}
	p.object(n, "", map[string]func(*yaml.Node, string){
		"CompositeFilters": func(v *yaml.Node, path string) {
			p.list(v, path, func(e *yaml.Node, path string) { f.groups = append(f.groups, p.parseGroup(e, path)) })
		},
		"CompositeOperator": func(v *yaml.Node, path string) { f.op = p.enum(v, path, "operator", operators) },
	})
	return f
}

// parseGroup reads a CompositeFilter.
func (p *parser) parseGroup(n *yaml.Node, path string) *group {
	g := &group{op: "AND"}
	leaf := func(kind kind, fields []string) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			p.list(v, path, func(e *yaml.Node, path string) {
				if c := p.parseLeaf(e, path, kind, fields); c != nil {
					g.conds = append(g.conds, c)
				}
			})
		}
	}
	p.object(n, path, map[string]func(*yaml.Node, string){
		"Operator":       func(v *yaml.Node, path string) { g.op = p.enum(v, path, "operator", operators) },
		"StringFilters":  leaf(kindString, stringFields),
		"NumberFilters":  leaf(kindNumber, numberFields),
		"DateFilters":    leaf(kindDate, dateFields),
		"BooleanFilters": leaf(kindBoolean, booleanFields),
		"MapFilters":     leaf(kindMap, mapFields),
		"IpFilters":      leaf(kindIP, ipFields),
		"NestedCompositeFilters": func(v *yaml.Node, path string) {
			p.list(v, path, func(e *yaml.Node, path string) { g.nested = append(g.nested, p.parseGroup(e, path)) })
		},
	})
	return g
}

// parseLeaf reads one {FieldName, Filter} entry of the given kind.
func (p *parser) parseLeaf(n *yaml.Node, path string, k kind, fields []string) *cond {
	c := &cond{kind: k}
	var filterNode *yaml.Node
	filterPath := join(path, "Filter")
	p.object(n, path, map[string]func(*yaml.Node, string){
		"FieldName": func(v *yaml.Node, path string) {
			c.field = p.enum(v, path, "OCSF "+k.String()+" field", fields)
			c.path = strings.Split(c.field, ".")
		},
		"Filter": func(v *yaml.Node, _ string) { filterNode = v },
	})
	switch {
	case c.field == "" && len(p.errs) == 0:
		p.fail(join(path, "FieldName"), n, "is required")
		return nil
	case filterNode == nil:
		p.fail(filterPath, n, "is required")
		return nil
	}
	before := len(p.errs)
	p.parseComparison(c, filterNode, filterPath)
	if c.field == "" || len(p.errs) > before {
		return nil
	}
	return c
}

// parseComparison reads the Filter object of a condition.
func (p *parser) parseComparison(c *cond, n *yaml.Node, path string) {
	before := len(p.errs)
	str := func(dst *string) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) { *dst, _ = p.scalar(v, path) }
	}
	switch c.kind {
	case kindString:
		p.object(n, path, map[string]func(*yaml.Node, string){
			"Value":      str(&c.value),
			"Comparison": func(v *yaml.Node, path string) { c.comparison = p.enum(v, path, "comparison", stringComparisons) },
		})
		p.require(c.comparison != "" || len(p.errs) > before, path, "Comparison", n)
	case kindMap:
		p.object(n, path, map[string]func(*yaml.Node, string){
			"Key":        str(&c.key),
			"Value":      str(&c.value),
			"Comparison": func(v *yaml.Node, path string) { c.comparison = p.enum(v, path, "comparison", mapComparisons) },
		})
		p.require(c.comparison != "" || len(p.errs) > before, path, "Comparison", n)
		p.require(c.key != "" || len(p.errs) > before, path, "Key", n)
	case kindNumber:
		bound := func(dst **float64) func(*yaml.Node, string) {
			return func(v *yaml.Node, path string) { *dst = p.number(v, path) }
		}
		p.object(n, path, map[string]func(*yaml.Node, string){
			"Eq": bound(&c.eq), "Gt": bound(&c.gt), "Gte": bound(&c.gte), "Lt": bound(&c.lt), "Lte": bound(&c.lte),
		})
		p.require(c.eq != nil || c.gt != nil || c.gte != nil || c.lt != nil || c.lte != nil || len(p.errs) > before, path, "Eq, Gt, Gte, Lt or Lte", n)
	case kindBoolean:
		p.object(n, path, map[string]func(*yaml.Node, string){
			"Value": func(v *yaml.Node, path string) {
				s, _ := p.scalar(v, path)
				b, err := strconv.ParseBool(s)
				if err != nil {
					p.fail(path, v, "must be true or false (got %q)", s)
				}
				c.boolean = &b
			},
		})
		p.require(c.boolean != nil || len(p.errs) > before, path, "Value", n)
	case kindDate:
		p.parseDate(c, n, path)
	case kindIP:
		p.object(n, path, map[string]func(*yaml.Node, string){
			"Cidr": func(v *yaml.Node, path string) {
				s, _ := p.scalar(v, path)
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					p.fail(path, v, "must be a CIDR like 10.0.0.0/8 (got %q)", s)
				}
				c.cidr = pfx
			},
		})
		p.require(c.cidr.IsValid() || len(p.errs) > before, path, "Cidr", n)
	}
}

func (p *parser) parseDate(c *cond, n *yaml.Node, path string) {
	before := len(p.errs)
	at := func(dst *time.Time) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			s, _ := p.scalar(v, path)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				p.fail(path, v, "must be an RFC 3339 time like 2025-01-02T15:04:05Z (got %q)", s)
			}
			*dst = t
		}
	}
	p.object(n, path, map[string]func(*yaml.Node, string){
		"Start": at(&c.start),
		"End":   at(&c.end),
		"DateRange": func(v *yaml.Node, path string) {
			c.rangeSet = true
			p.object(v, path, map[string]func(*yaml.Node, string){
				"Value": func(v *yaml.Node, path string) {
					if f := p.number(v, path); f != nil {
						c.rangeDays = int(*f)
					}
				},
				"Unit":       func(v *yaml.Node, path string) { p.enum(v, path, "unit", dateUnits) },
				"Comparison": func(v *yaml.Node, path string) { c.comparison = p.enum(v, path, "comparison", dateComparisons) },
			})
		},
	})
	p.require(c.rangeSet || !c.start.IsZero() || !c.end.IsZero() || len(p.errs) > before, path, "Start, End or DateRange", n)
}

// require reports what as missing unless ok (callers pass ok true when
// the Filter already had an error, so one mistake is one error).
func (p *parser) require(ok bool, path, what string, n *yaml.Node) {
	if !ok {
		p.fail(path, n, "%s is required", what)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
