// Package eventpattern derives the EventBridge event pattern of the rule
// that sends "Security Hub Findings - Imported" events to the hubtriage
// Lambda from a config's rule filters, so findings no rule can match are
// dropped by EventBridge instead of costing an invocation.
//
// The pattern is a pre-selection, never the decision: it matches a superset
// of what the rules match (the Lambda runs the full filters again), so
// whatever cannot be expressed is left out of the pattern rather than
// approximated in a way that could drop a finding. Per rule, every filter
// field becomes one condition; the rules are joined with "$or", and so are
// the findings the pipeline needs whatever the rules say: archived,
// resolved, suppressed and passed ones, which clear the state of a finding
// that was alerted on (Options.SkipInactive leaves these to reconcile).
//
// How AwsSecurityFindingFilters comparisons map to EventBridge:
//
//	EQUALS             exact value ("HIGH")
//	PREFIX             {"prefix": v}
//	CONTAINS           {"wildcard": "*v*"} (with * and \ escaped)
//	NOT_EQUALS         {"anything-but": [v, ...]}
//	PREFIX_NOT_EQUALS  {"anything-but": {"prefix": v}} (the first one only)
//	NOT_CONTAINS       {"anything-but": {"wildcard": "*v*"}} (the first one only)
//	SeverityNormalized {"numeric": [">=", a, "<", b]}, one per NumberFilter
//	IpFilter           {"cidr": "10.0.0.0/8"}, one per filter
//
// Enumerated fields (SeverityLabel, RecordState, WorkflowStatus,
// WorkflowState, ComplianceStatus) become the exact list of values the
// filter lets through, computed with the filter package itself, plus
// {"exists": false} when the field is optional and the filter accepts a
// finding without it. Negative comparisons on other optional fields get the
// same "or absent" alternative, since Security Hub filters accept a missing
// value there. ComplianceSecurityControlId is also matched on the
// ControlId and RuleId product fields of legacy control findings.
//
// The pattern reads attributes where Security Hub puts them on the findings
// it sends today (Severity.Label, ProductName, CompanyName, Region,
// Workflow.Status are always set). The decoder also reads fallbacks for
// findings from before Security Hub set them (the 2019 samples in the
// fixtures); such old findings are replayed from files, not sent by
// EventBridge, so the pattern ignores those fallbacks.
//
// Left to the Lambda (reported as Notes): date filters (CreatedAt,
// UpdatedAt, ... have no EventBridge comparison), negative comparisons
// when the same field also has a positive one (EventBridge cannot AND two
// conditions on one field), further PREFIX_NOT_EQUALS / NOT_CONTAINS
// values, negative comparisons on optional fields inside lists (Resources,
// RelatedFindings: EventBridge cannot test absence there), map keys
// starting with "$", and any field whose conditions would multiply a rule
// into more than MaxTermsPerRule alternatives.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/asff"
	"hubtriage/config"
	"hubtriage/correlate"
	"hubtriage/filter"
)

// Event constants of the pattern.
const (
	Source             = "aws.securityhub"
	DetailTypeImported = "Security Hub Findings - Imported"
	// SourceGuardDuty sends "GuardDuty Finding" events (asff.DetailTypeGuardDuty).
	SourceGuardDuty = "aws.guardduty"
)

// DefaultMaxLength is EventBridge's default quota on the size of an event
// pattern, in characters. The quota is adjustable (Service Quotas, "Event
// pattern size"); pass the raised value to Pattern.Split.
const DefaultMaxLength = 2048

// MaxTermsPerRule bounds the alternatives one rule expands into.
const MaxTermsPerRule = 32

// ErrTooLong is returned when one alternative of the pattern alone exceeds
// the size limit, so no split can fit it.
var ErrTooLong = errors.New("event pattern alternative exceeds the EventBridge pattern size limit")

// Options tunes Derive.
type Options struct {
	// SkipInactive leaves out the alternatives for archived, resolved,
	// suppressed and passed findings; the state they would clear is then
	// cleared by the daily reconcile instead of at once.
	SkipInactive bool
	// GuardDuty adds GuardDuty's own "GuardDuty Finding" events that name
	// an instance's security groups: the only events that tell which
	// security groups an instance uses (Security Hub's copies do not), which
	// correlation rules with conditions via AwsEc2SecurityGroup need.
	GuardDuty bool
}

// Rule is one rule's name and compiled filter.
type Rule struct {
	Name   string
	Filter *filter.Filters
}

// Note says what part of a rule's filter the pattern leaves to the Lambda.
type Note struct {
	Rule   string `json:"rule"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (n Note) String() string { return fmt.Sprintf("rule %s: %s: %s", n.Rule, n.Field, n.Reason) }

// Pattern is a derived event pattern.
type Pattern struct {
	// Doc is the pattern, ready for json.Marshal.
	Doc map[string]any
	// Notes lists what the pattern leaves to the Lambda's filters.
	Notes []Note
	// securityHub is the part of Doc for Security Hub's events, joining
	// terms with "$or" (nil terms: it matches every event, or none);
	// others are whole patterns Doc joins to it (GuardDuty's events).
	securityHub map[string]any
	terms       []term
	others      []map[string]any
	// docOf builds the securityHub part matching any of some terms (nil
	// when terms cannot be split off).
	docOf func([]term) map[string]any
}

// FromConfig derives the pattern for cfg's alert rules and, when
// correlation is on, for the conditions of its correlation rules (whose
// findings must reach the Lambda whether or not an alert rule matches
// them), adding GuardDuty's events when a correlation rule needs the
// security groups of instances (Options.GuardDuty).
func FromConfig(cfg *config.Config, opt Options) *Pattern {
	rules := make([]Rule, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		rules = append(rules, Rule{Name: r.Name, Filter: r.Filter})
	}
	if cfg.Correlation.On() {
		for _, r := range cfg.Correlation.Compiled {
			for _, c := range r.Conditions {
				rules = append(rules, Rule{Name: "correlation " + r.Name + "." + c.Name, Filter: c.Filter})
			}
			opt.GuardDuty = opt.GuardDuty || r.HasVia(correlate.TypeSecurityGroup)
		}
	}
	return Derive(rules, opt)
}

// Derive returns a pattern matching every Imported event with a finding
// that one of rules may match (and, unless opt.SkipInactive, every
// inactive finding), and with opt.GuardDuty the GuardDuty events that name
// an instance's security groups.
func Derive(rules []Rule, opt Options) *Pattern {
	p := deriveSecurityHub(rules, opt)
	p.securityHub = p.Doc
	if opt.GuardDuty {
		p.others = []map[string]any{guardDutyTerm()}
		p.Doc = map[string]any{"$or": []any{p.Doc, guardDutyTerm()}}
	}
	return p
}

// guardDutyTerm matches "GuardDuty Finding" events on an instance with
// security groups (resource.instanceDetails.networkInterfaces[].
// securityGroups[].groupId; EventBridge matches inside arrays).
func guardDutyTerm() map[string]any {
	return map[string]any{
		"source":      []any{SourceGuardDuty},
		"detail-type": []any{asff.DetailTypeGuardDuty},
		"detail": map[string]any{"resource": map[string]any{"instanceDetails": map[string]any{"networkInterfaces": map[string]any{
			"securityGroups": map[string]any{"groupId": []any{map[string]any{"exists": true}}}}}}},
	}
}

// deriveSecurityHub is the pattern for Security Hub's Imported events.
func deriveSecurityHub(rules []Rule, opt Options) *Pattern {
	p := &Pattern{}
	var terms []term
	for _, r := range rules {
		rt, notes := ruleTerms(r)
		p.Notes = append(p.Notes, notes...)
		if rt == nil {
			continue // can never match
		}
		if len(rt) == 1 && len(rt[0]) == 0 {
			// A rule the pattern cannot narrow: every finding goes through.
			p.Doc = base()
			return p
		}
		terms = append(terms, rt...)
	}
	if !opt.SkipInactive {
		terms = append(terms, inactiveTerms()...)
	}
	p.terms = dedupe(terms)
	p.docOf = func(ts []term) map[string]any {
		doc := base()
		doc["detail"] = findingsDetail(ts, "Id")
		return doc
	}
	p.Doc = p.docOf(p.terms)
	return p
}

// findingsDetail is the pattern's "detail" member: the findings matching
// any of terms. With no terms it matches only findings without the always
// present field idField, so the rule never fires.
func findingsDetail(terms []term, idField ...string) map[string]any {
	switch len(terms) {
	case 0:
		never := term{key(at(idField...)): {map[string]any{"exists": false}}}
		return map[string]any{"findings": never.nested()}
	case 1:
		return map[string]any{"findings": terms[0].nested()}
	}
	ors := make([]any, len(terms))
	for i, t := range terms {
		ors[i] = t.nested()
	}
	return map[string]any{"findings": map[string]any{"$or": ors}}
}

func base() map[string]any {
	return map[string]any{"source": []any{Source}, "detail-type": []any{DetailTypeImported}}
}

// JSON renders the pattern, indented or compact (for a template
// parameter), whatever its size; see Split for EventBridge's limit.
func (p *Pattern) JSON(indent bool) ([]byte, error) {
	if !indent {
		return encode(p.Doc, "")
	}
	return encode(p.Doc, "  ")
}

// Split returns the pattern as one or more patterns, each at most maxLen
// characters in compact form (EventBridge counts characters), whose union
// matches exactly what the whole pattern matches: deploy one EventBridge
// rule per part. The pattern's "$or" alternatives are packed into parts in
// order, so the result is deterministic. It fails with ErrTooLong when one
// alternative alone is longer than maxLen.
func (p *Pattern) Split(maxLen int) ([]*Pattern, error) {
	if length(mustEncode(p.Doc)) <= maxLen {
		return []*Pattern{p}, nil
	}
	parts, err := splitTerms(p.securityHub, p.terms, p.docOf, maxLen)
	if err != nil {
		return nil, err
	}
	for _, o := range p.others {
		if n := length(mustEncode(o)); n > maxLen {
			return nil, fmt.Errorf("%w: the GuardDuty pattern is %d characters, limit %d", ErrTooLong, n, maxLen)
		}
		parts = append(parts, &Pattern{Doc: o, securityHub: o})
	}
	return parts, nil
}

// mustEncode renders a pattern compactly (its values are strings, numbers
// and maps, which always encode).
func mustEncode(doc map[string]any) []byte {
	b, _ := encode(doc, "")
	return b
}

// splitTerms packs the alternatives of the Security Hub pattern doc into
// patterns of at most maxLen characters.
func splitTerms(doc map[string]any, terms []term, docOf func([]term) map[string]any, maxLen int) ([]*Pattern, error) {
	if n := length(mustEncode(doc)); n <= maxLen {
		return []*Pattern{{Doc: doc, securityHub: doc, terms: terms, docOf: docOf}}, nil
	} else if len(terms) < 2 || docOf == nil {
		return nil, fmt.Errorf("%w: %d characters, limit %d: simplify the rule's filter", ErrTooLong, n, maxLen)
	}
	var parts []*Pattern
	var group []term
	for i, t := range terms {
		next := append(group[:len(group):len(group)], t)
		if length(mustEncode(docOf(next))) <= maxLen {
			group = next
			continue
		}
		if len(group) > 0 {
			parts = append(parts, part(group, docOf))
		}
		if n := length(mustEncode(docOf([]term{t}))); n > maxLen {
			return nil, fmt.Errorf("%w: alternative %d alone is %d characters, limit %d: simplify that rule's filter",
				ErrTooLong, i+1, n, maxLen)
		}
		group = []term{t}
	}
	return append(parts, part(group, docOf)), nil
}

// part is the pattern of some of the alternatives.
func part(terms []term, docOf func([]term) map[string]any) *Pattern {
	doc := docOf(terms)
	return &Pattern{Doc: doc, securityHub: doc, terms: terms, docOf: docOf}
}

// length counts characters the way EventBridge's quota does.
func length(b []byte) int { return utf8.RuneCount(b) }

// encode marshals without HTML escaping, so "<" stays "<" in numeric
// comparisons.
func encode(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode event pattern: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// inactiveTerms match the findings the pipeline resolves (asff.Finding.Active).
func inactiveTerms() []term {
	return []term{
		{key(at("RecordState")): {"ARCHIVED"}},
		{key(at("Workflow", "Status")): {"RESOLVED", "SUPPRESSED"}},
		{key(at("Compliance", "Status")): {"PASSED"}},
	}
}

// ruleTerms expands one rule into alternatives (nil: the rule can never
// match; one empty term: the rule cannot be narrowed).
func ruleTerms(r Rule) ([]term, []Note) {
	var notes []Note
	note := func(field, reason string) { notes = append(notes, Note{Rule: r.Name, Field: field, Reason: reason}) }
	terms := []term{{}}
	for _, fc := range fieldConds(r.Filter, note) {
		if fc.never {
			return nil, append(notes, Note{Rule: r.Name, Field: fc.field, Reason: "no finding can match; the rule never fires"})
		}
		if len(fc.alts) == 0 {
			continue
		}
		if len(terms)*len(fc.alts) > MaxTermsPerRule {
			note(fc.field, fmt.Sprintf("left to the Lambda: it would expand the rule past %d alternatives", MaxTermsPerRule))
			continue
		}
		terms = product(terms, fc.alts)
	}
	return terms, notes
}

// fieldCond is one filter field as pattern alternatives.
type fieldCond struct {
	field string
	alts  []term // OR; empty means no condition
	never bool
}

// fieldConds converts every field of f, in a stable order.
func fieldConds(f *filter.Filters, note func(field, reason string)) []fieldCond {
	sdk := f.SDK()
	v := reflect.ValueOf(sdk).Elem()
	var out []fieldCond
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		fv := v.Field(i)
		if !v.Type().Field(i).IsExported() || fv.Kind() != reflect.Slice || fv.Len() == 0 {
			continue
		}
		fc := fieldCond{field: name}
		switch entries := fv.Interface().(type) {
		case []types.StringFilter:
			fc.alts, fc.never = stringCond(name, entries, note)
		case []types.NumberFilter:
			fc.alts = numberCond(name, entries, note)
		case []types.MapFilter:
			fc.alts = mapConds(name, entries, note)
		case []types.DateFilter:
			note(name, "left to the Lambda: EventBridge patterns cannot compare dates")
		case []types.IpFilter:
			fc.alts = ipCond(name, entries, note)
		default:
			note(name, "left to the Lambda: no EventBridge mapping for this filter type")
		}
		out = append(out, fc)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].alts) < len(out[j].alts) })
	return out
}

// term is one conjunction: place key -> matchers (OR-ed within a place).
type term map[string][]any

func key(p place) string { return strings.Join(p.path, "\x00") }

// product ANDs every term of a with every alternative of b. When both
// constrain one place, a's condition is kept and b's dropped (a superset).
func product(a, b []term) []term {
	out := make([]term, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			t := term{}
			for k, v := range y {
				t[k] = v
			}
			for k, v := range x {
				t[k] = v
			}
			out = append(out, t)
		}
	}
	return out
}

// nested turns a term into the pattern's nested objects.
func (t term) nested() map[string]any {
	root := map[string]any{}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := strings.Split(k, "\x00")
		node := root
		for _, p := range path[:len(path)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[path[len(path)-1]] = t[k]
	}
	return root
}

// dedupe drops repeated terms, keeping the first.
func dedupe(terms []term) []term {
	seen := map[string]bool{}
	out := terms[:0]
	for _, t := range terms {
		b, _ := json.Marshal(t.nested())
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		out = append(out, t)
	}
	return out
}
