package eventpattern

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/config"
	"hubtriage/ocsffilter"
)

// DetailTypeImportedV2 is the detail-type of the new Security Hub's
// events, one OCSF finding each.
const DetailTypeImportedV2 = "Findings Imported V2"

// RuleV2 is one rule for the V2 pattern: its ocsf_filter (nil when the rule
// has none) and whether it has an ASFF filter.
type RuleV2 struct {
	Name string
	OCSF *ocsffilter.Filter
	// HasASFFFilter marks a rule selecting with filter: instead; the V2
	// pattern cannot narrow for it (its fields are ASFF's, the events'
	// OCSF), so every V2 event goes through.
	HasASFFFilter bool
}

// FromConfigV2 derives the "Findings Imported V2" pattern for cfg's rules.
func FromConfigV2(cfg *config.Config, opt Options) *Pattern {
	rules := make([]RuleV2, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = RuleV2{Name: r.Name, OCSF: r.OCSFFilter, HasASFFFilter: !r.Filter.Empty()}
	}
	return DeriveV2(rules, opt)
}

// DeriveV2 returns a pattern matching every "Findings Imported V2" event
// whose OCSF finding one of rules may match (and, unless opt.SkipInactive,
// every closed, resolved, suppressed or passed one). It narrows only for
// the ocsf_filter shapes EventBridge can express exactly or as a superset:
// conditions ANDed (at most one per field) or alternatives ORed, with
// string EQUALS and PREFIX; any other rule lets every V2 event through and
// is reported in Notes.
func DeriveV2(rules []RuleV2, opt Options) *Pattern {
	p := &Pattern{Doc: baseV2()}
	p.securityHub = p.Doc
	var terms []term
	for _, r := range rules {
		rt, note := ocsfTerms(r)
		if note != "" {
			p.Notes = append(p.Notes, Note{Rule: r.Name, Field: "ocsf_filter", Reason: note})
			return p // every V2 event goes through
		}
		terms = append(terms, rt...)
	}
	if !opt.SkipInactive {
		terms = append(terms,
			term{"status": {"Resolved", "Suppressed"}},
			term{"activity_name": {"Close"}},
			term{key(at("compliance", "status")): {"Pass"}})
	}
	p.terms = dedupe(terms)
	p.docOf = func(ts []term) map[string]any {
		doc := baseV2()
		doc["detail"] = findingsDetail(ts, "finding_info", "uid")
		return doc
	}
	p.Doc = p.docOf(p.terms)
	p.securityHub = p.Doc
	return p
}

func baseV2() map[string]any {
	return map[string]any{"source": []any{Source}, "detail-type": []any{DetailTypeImportedV2}}
}

// ocsfTerms turns one rule's ocsf_filter into alternatives, or says why it
// cannot.
func ocsfTerms(r RuleV2) ([]term, string) {
	if r.OCSF == nil {
		if r.HasASFFFilter {
			return nil, "the rule selects with an ASFF filter:, which V2 events cannot be matched on"
		}
		return nil, "the rule has no filter"
	}
	f := r.OCSF.SDK()
	var conds []types.OcsfStringFilter
	anyOf := false
	for _, g := range f.CompositeFilters {
		if len(g.NestedCompositeFilters)+len(g.NumberFilters)+len(g.DateFilters)+len(g.BooleanFilters)+len(g.MapFilters)+len(g.IpFilters) > 0 {
			return nil, "only string conditions are expressed in the pattern"
		}
		or := g.Operator == types.AllowedOperatorsOr && len(g.StringFilters) > 1
		if or && (anyOf || len(f.CompositeFilters) > 1) {
			return nil, "alternatives combined with other conditions are not expressed in the pattern"
		}
		anyOf = anyOf || or || (f.CompositeOperator == types.AllowedOperatorsOr && len(f.CompositeFilters) > 1)
		conds = append(conds, g.StringFilters...)
	}
	var terms []term
	one := term{}
	for _, c := range conds {
		v, ok := stringCondition(c.Filter)
		if !ok {
			return nil, "comparison " + string(c.Filter.Comparison) + " is not expressed in the pattern"
		}
		k := key(at(strings.Split(string(c.FieldName), ".")...))
		if anyOf {
			terms = append(terms, term{k: {v}})
			continue
		}
		if _, dup := one[k]; dup {
			return nil, "two conditions on " + string(c.FieldName) + " cannot both be required in a pattern"
		}
		one[k] = []any{v}
	}
	if !anyOf {
		if len(one) == 0 {
			return nil, "the filter has no conditions"
		}
		terms = append(terms, one)
	}
	return terms, ""
}

// stringCondition is the EventBridge form of an EQUALS or PREFIX filter.
func stringCondition(f *types.StringFilter) (any, bool) {
	v := aws.ToString(f.Value)
	switch f.Comparison {
	case types.StringFilterComparisonEquals:
		return v, true
	case types.StringFilterComparisonPrefix:
		return map[string]any{"prefix": v}, true
	}
	return nil, false
}
