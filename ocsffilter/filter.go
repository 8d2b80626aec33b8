// Package ocsffilter implements the filter language of the new Security
// Hub's GetFindingsV2 and automation rules V2 (the SDK's
// types.OcsfFindingFilters), evaluated locally against OCSF findings, so a
// filter copied from the new console works unchanged in a rule's
// ocsf_filter.
//
// A filter is a list of CompositeFilters combined by CompositeOperator (AND
// when absent); each CompositeFilter combines its StringFilters,
// NumberFilters, DateFilters, BooleanFilters, MapFilters, IpFilters and
// NestedCompositeFilters with its Operator (AND when absent). A condition
// names an OCSF field by its dotted path (finding_info.title,
// resources.type); through lists it reaches every element. A positive
// comparison holds when any value satisfies it, a negative one (NOT_EQUALS,
// PREFIX_NOT_EQUALS, NOT_CONTAINS) when every value does, and a field the
// finding lacks satisfies only negative comparisons. String comparisons are
// case-sensitive; CONTAINS_WORD matches whole words.
//
// Conditions read the finding's original OCSF JSON. An ASFF finding never
// matches an ocsf_filter: its fields are not OCSF's, and guessing them back
// through the mapping would make a filter match what the console's filter
// does not.
package ocsffilter

import (
	"errors"
	"net/netip"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/asff"
)

// Filter is a compiled OcsfFindingFilters. A nil Filter matches every
// finding; an empty one every OCSF finding. It is immutable and safe for
// concurrent use.
type Filter struct {
	op     string
	groups []*group
}

type group struct {
	op     string
	conds  []*cond
	nested []*group
}

type kind int

const (
	kindString kind = iota
	kindNumber
	kindDate
	kindBoolean
	kindMap
	kindIP
)

func (k kind) String() string {
	return [...]string{"string", "number", "date", "boolean", "map", "ip"}[k]
}

// cond is one {FieldName, Filter} condition.
type cond struct {
	kind       kind
	field      string
	path       []string
	comparison string
	value, key string
	eq, gt     *float64
	gte, lt    *float64
	lte        *float64
	boolean    *bool
	start, end time.Time
	rangeSet   bool
	rangeDays  int
	cidr       netip.Prefix
}

// FromYAML compiles the OcsfFindingFilters under n (YAML or JSON). Every
// problem is a *filter.FieldError whose path is relative to the filter,
// e.g. CompositeFilters[0].StringFilters[1].FieldName for an unknown field.
func FromYAML(n *yaml.Node) (*Filter, []error) {
	var p parser
	f := p.parseFilters(n)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return f, nil
}

// FromJSON compiles a JSON OcsfFindingFilters, as the console shows it.
func FromJSON(b []byte) (*Filter, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, err
	}
	f, errs := FromYAML(&n)
	return f, errors.Join(errs...)
}

// Match reports whether the finding satisfies the filter. now anchors
// DateRange conditions. An ASFF finding matches only a nil filter.
func (f *Filter) Match(x *asff.Finding, now time.Time) bool {
	if f == nil {
		return true
	}
	if x.Format != asff.FormatOCSF {
		return false
	}
	doc, err := parse(x.Raw)
	if err != nil {
		return false
	}
	return combine(f.op, len(f.groups), func(i int) bool { return f.groups[i].match(doc, now) })
}

func (g *group) match(doc any, now time.Time) bool {
	n := len(g.conds)
	return combine(g.op, n+len(g.nested), func(i int) bool {
		if i < n {
			return g.conds[i].match(doc, now)
		}
		return g.nested[i-n].match(doc, now)
	})
}

// combine folds n results with AND or OR; no operands is true.
func combine(op string, n int, at func(int) bool) bool {
	if n == 0 {
		return true
	}
	for i := range n {
		if at(i) != (op == "AND") {
			return op != "AND"
		}
	}
	return op == "AND"
}
