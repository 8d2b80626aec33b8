package filter

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"gopkg.in/yaml.v3"

	"hubtriage/strictyaml"
)

// fieldSpec is one filter field as written: the AWS-typed entries (exactly
// one slice set, per the field's kind) and where each part came from.
type fieldSpec struct {
	name     string
	line     int
	field    field
	strs     []types.StringFilter
	nums     []types.NumberFilter
	dates    []types.DateFilter
	maps     []types.MapFilter
	ips      []types.IpFilter
	bools    []types.BooleanFilter
	keywords []types.KeywordFilter
	// lines maps an entry-relative key path ("", "Value", "DateRange.Unit")
	// to its input line, one map per entry; nil when the input had no lines.
	lines []map[string]int
	// malformed marks entries that were not objects at all (already reported).
	malformed map[int]bool
}

// entryPath is the path of key inside entry i, e.g. `Title[2].Comparison`.
func (s *fieldSpec) entryPath(i int, key string) string {
	if key == "" {
		return fmt.Sprintf("%s[%d]", s.name, i)
	}
	return fmt.Sprintf("%s[%d].%s", s.name, i, key)
}

// lineOf returns the input line of key inside entry i, falling back to the
// entry's own line and then the field's line.
func (s *fieldSpec) lineOf(i int, key string) int {
	if i < len(s.lines) && s.lines[i] != nil {
		if l, ok := s.lines[i][key]; ok {
			return l
		}
		if l, ok := s.lines[i][""]; ok {
			return l
		}
	}
	return s.line
}

// FromYAML parses an AwsSecurityFindingFilters document: a mapping from AWS
// field names to lists of StringFilter, NumberFilter, DateFilter or MapFilter
// objects, exactly as the Security Hub API and `aws securityhub get-findings
// --filters` take it (JSON is valid YAML). A nil, null or empty node gives a
// filter that matches every finding.
//
// It reports every problem it finds, not just the first, each as a
// *FieldError whose Path is relative to the filter and whose Line is the
// node's line. On any error the returned *Filters is nil.
func FromYAML(n *yaml.Node) (*Filters, []error) {
	var errs errorList
	specs := parseDocument(n, &errs)
	f := compile(specs, &errs)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].(*FieldError).Line < errs[j].(*FieldError).Line })
		return nil, errs
	}
	return f, nil
}

// parseDocument walks the top-level mapping into field specs, recording
// structural problems (wrong node kinds, unknown or duplicate keys).
func parseDocument(n *yaml.Node, errs *errorList) []*fieldSpec {
	n = strictyaml.Resolve(n)
	if n == nil || n.Kind == 0 || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		errs.add("", n.Line, "a filter must be a mapping of AwsSecurityFindingFilters field names to lists (got %s)", describe(n))
		return nil
	}
	var specs []*fieldSpec
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], strictyaml.Resolve(n.Content[i+1])
		name := k.Value
		if seen[name] {
			errs.add(name, k.Line, "field given twice; put all its filters in one list")
			continue
		}
		seen[name] = true
		f, err := lookupField(name)
		if err != nil {
			fe := err.(*FieldError)
			fe.Path, fe.Line = name, k.Line
			*errs = append(*errs, fe)
			continue
		}
		if s := parseField(name, k.Line, f, v, errs); s != nil {
			specs = append(specs, s)
		}
	}
	return specs
}

// parseField reads one field's list of filters.
func parseField(name string, line int, f field, v *yaml.Node, errs *errorList) *fieldSpec {
	if v.Kind != yaml.SequenceNode {
		errs.add(name, v.Line, "must be a list of %s objects (got %s)", f.kind, describe(v))
		return nil
	}
	s := &fieldSpec{name: name, line: line, field: f}
	for i, e := range v.Content {
		e = strictyaml.Resolve(e)
		lines := map[string]int{"": e.Line}
		s.lines = append(s.lines, lines)
		p := entryParser{errs: errs, path: s.entryPath(i, ""), lines: lines}
		if e.Kind != yaml.MappingNode {
			errs.add(p.path, e.Line, "must be a %s object (got %s)", f.kind, describe(e))
			if s.malformed == nil {
				s.malformed = map[int]bool{}
			}
			s.malformed[i] = true
		}
		switch f.kind {
		case kindString:
			s.strs = append(s.strs, p.stringFilter(e))
		case kindNumber:
			s.nums = append(s.nums, p.numberFilter(e))
		case kindDate:
			s.dates = append(s.dates, p.dateFilter(e))
		case kindMap:
			s.maps = append(s.maps, p.mapFilter(e))
		case kindIP:
			s.ips = append(s.ips, p.ipFilter(e))
		case kindBool:
			s.bools = append(s.bools, p.boolFilter(e))
		case kindKeyword:
			s.keywords = append(s.keywords, p.keywordFilter(e))
		}
	}
	return s
}

// entryParser reads the keys of one filter entry, recording the line of each
// key and reporting problems under path.
type entryParser struct {
	errs   *errorList
	path   string // e.g. `Title[0]`
	prefix string // key prefix inside the entry, e.g. "DateRange."
	lines  map[string]int
}

// object calls set for each key of the mapping n, which must be one of
// allowed; unknown and repeated keys are reported. A non-mapping n is
// ignored (the caller reported it).
func (p entryParser) object(n *yaml.Node, allowed []string, set func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], strictyaml.Resolve(n.Content[i+1])
		path := p.path + "." + p.prefix + k.Value
		switch {
		case !contains(allowed, k.Value):
			p.errs.add(path, k.Line, "unknown key; %s", oneOfMsg(k.Value, allowed))
		case seen[k.Value]:
			p.errs.add(path, k.Line, "key given twice")
		default:
			seen[k.Value] = true
			p.lines[p.prefix+k.Value] = v.Line
			set(k.Value, v)
		}
	}
}

// str reads a scalar as text. Any scalar is accepted so that unquoted YAML
// such as an account id (`Value: 123456789012`) keeps its exact digits.
func (p entryParser) str(key string, v *yaml.Node) *string {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		p.errs.add(p.path+"."+p.prefix+key, v.Line, "must be a string (got %s)", describe(v))
		return nil
	}
	return aws.String(v.Value)
}

// number reads a numeric scalar; quoted numbers are rejected like AWS does.
func (p entryParser) number(key string, v *yaml.Node) *float64 {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
		if f, err := strconv.ParseFloat(v.Value, 64); err == nil {
			return &f
		}
	}
	p.errs.add(p.path+"."+p.prefix+key, v.Line, "must be a number (got %s)", describe(v))
	return nil
}

// integer reads a whole-number scalar that fits an int32.
func (p entryParser) integer(key string, v *yaml.Node) *int32 {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		if i, err := strconv.ParseInt(v.Value, 10, 32); err == nil {
			return aws.Int32(int32(i))
		}
	}
	p.errs.add(p.path+"."+p.prefix+key, v.Line, "must be a whole number (got %s)", describe(v))
	return nil
}

// stringFilter reads {Value, Comparison}.
func (p entryParser) stringFilter(n *yaml.Node) types.StringFilter {
	var out types.StringFilter
	p.object(n, []string{"Value", "Comparison"}, func(k string, v *yaml.Node) {
		s := p.str(k, v)
		switch {
		case s == nil:
		case k == "Value":
			out.Value = s
		default:
			out.Comparison = types.StringFilterComparison(*s)
		}
	})
	return out
}

// numberFilter reads {Eq, Gt, Gte, Lt, Lte}.
func (p entryParser) numberFilter(n *yaml.Node) types.NumberFilter {
	var out types.NumberFilter
	dst := map[string]**float64{"Eq": &out.Eq, "Gt": &out.Gt, "Gte": &out.Gte, "Lt": &out.Lt, "Lte": &out.Lte}
	p.object(n, []string{"Eq", "Gt", "Gte", "Lt", "Lte"}, func(k string, v *yaml.Node) {
		*dst[k] = p.number(k, v)
	})
	return out
}

// dateFilter reads {Start, End} or {DateRange: {Value, Unit, Comparison}}.
func (p entryParser) dateFilter(n *yaml.Node) types.DateFilter {
	var out types.DateFilter
	p.object(n, []string{"Start", "End", "DateRange"}, func(k string, v *yaml.Node) {
		switch k {
		case "Start":
			out.Start = p.str(k, v)
		case "End":
			out.End = p.str(k, v)
		default:
			out.DateRange = p.dateRange(v)
		}
	})
	return out
}

// dateRange reads {Value, Unit, Comparison}.
func (p entryParser) dateRange(n *yaml.Node) *types.DateRange {
	if n.Kind != yaml.MappingNode {
		p.errs.add(p.path+".DateRange", n.Line, "must be an object like {Value: 7, Unit: DAYS} (got %s)", describe(n))
		return nil
	}
	out := &types.DateRange{}
	sub := p
	sub.prefix = "DateRange."
	sub.object(n, []string{"Value", "Unit", "Comparison"}, func(k string, v *yaml.Node) {
		switch k {
		case "Value":
			out.Value = sub.integer(k, v)
		case "Unit":
			if s := sub.str(k, v); s != nil {
				out.Unit = types.DateRangeUnit(*s)
			}
		default:
			if s := sub.str(k, v); s != nil {
				out.Comparison = types.DateRangeComparison(*s)
			}
		}
	})
	return out
}

// mapFilter reads {Key, Value, Comparison}.
func (p entryParser) mapFilter(n *yaml.Node) types.MapFilter {
	var out types.MapFilter
	p.object(n, []string{"Key", "Value", "Comparison"}, func(k string, v *yaml.Node) {
		s := p.str(k, v)
		switch {
		case s == nil:
		case k == "Key":
			out.Key = s
		case k == "Value":
			out.Value = s
		default:
			out.Comparison = types.MapFilterComparison(*s)
		}
	})
	return out
}

// ipFilter reads {Cidr}.
func (p entryParser) ipFilter(n *yaml.Node) types.IpFilter {
	var out types.IpFilter
	p.object(n, []string{"Cidr"}, func(k string, v *yaml.Node) { out.Cidr = p.str(k, v) })
	return out
}

// boolFilter reads {Value} (true or false).
func (p entryParser) boolFilter(n *yaml.Node) types.BooleanFilter {
	var out types.BooleanFilter
	p.object(n, []string{"Value"}, func(k string, v *yaml.Node) {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
			b := v.Value == "true"
			out.Value = &b
			return
		}
		p.errs.add(p.path+"."+k, v.Line, "must be true or false (got %s)", describe(v))
	})
	return out
}

// keywordFilter reads {Value}.
func (p entryParser) keywordFilter(n *yaml.Node) types.KeywordFilter {
	var out types.KeywordFilter
	p.object(n, []string{"Value"}, func(k string, v *yaml.Node) { out.Value = p.str(k, v) })
	return out
}

// isNull reports whether n is a YAML/JSON null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's shape for error messages.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "an object"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.Tag == "!!str":
		return strconv.Quote(n.Value)
	default:
		return n.Value
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
