package correlate

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"hubtriage/filter"
	"hubtriage/strictyaml"
)

// DefaultWindow is how long contributing findings count when a rule says nothing.
const DefaultWindow = 30 * 24 * time.Hour

// configPath is where the correlation section sits in the config file; error
// paths start with it.
const configPath = "correlation"

// Rule is a compiled correlation rule. It is immutable.
type Rule struct {
	Name   string
	Join   string
	Window time.Duration
	// Conditions are ordered by name.
	Conditions []Cond
	// Builtin is true for the rules shipped with hubtriage.
	Builtin bool

	out output
}

// Cond is a compiled condition.
type Cond struct {
	Name       string
	Filter     *filter.Filters
	MinCount   int
	DistinctBy string
	Via        string

	distinct path
}

// output is the compiled Output.
type output struct {
	title, description *template.Template
	remediation        Remediation
	types              []string
	severity           string
}

// FieldError is one problem in a rule, located by its config path
// (correlation.rules[0].conditions.backdoor.min_count).
type FieldError = strictyaml.FieldError

// Compile checks and compiles the built-in rules left on by cfg.Builtins
// and cfg.Rules. It reports every problem, each a *FieldError whose path
// starts with "correlation."; on any error the rules are nil.
func Compile(cfg Config) ([]*Rule, []error) {
	var errs []error
	var rules []*Rule
	builtins := Builtin()
	known := map[string]bool{}
	for _, s := range builtins {
		known[s.Name] = true
	}
	for _, name := range sortedKeys(cfg.Builtins) {
		if !known[name] {
			errs = append(errs, strictyaml.Errorf(configPath+".builtins."+name, 0, "%s",
				"unknown built-in rule (known: "+strings.Join(builtinNames(builtins), ", ")+")"))
		}
	}
	seen := map[string]string{}
	for _, s := range builtins {
		if on, set := cfg.Builtins[s.Name]; set && !on {
			continue
		}
		r, rerrs := compileSpec(s, "builtin "+s.Name)
		errs = append(errs, rerrs...)
		if r != nil {
			r.Builtin = true
			rules = append(rules, r)
		}
		seen[s.Name] = "a built-in rule (set " + configPath + ".builtins." + s.Name + ": false to replace it)"
	}
	for i, s := range cfg.Rules {
		p := fmt.Sprintf("%s.rules[%d]", configPath, i)
		if where, dup := seen[s.Name]; dup && s.Name != "" {
			errs = append(errs, strictyaml.Errorf(p+".name", 0, "%q is already the name of %s", s.Name, where))
		}
		seen[s.Name] = p
		r, rerrs := compileSpec(s, p)
		errs = append(errs, rerrs...)
		if r != nil {
			rules = append(rules, r)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rules, nil
}

var (
	ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	condNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	// ASFF resource types are AwsXxx, Container or Other.
	typeNameRE = regexp.MustCompile(`^(Aws[A-Z][A-Za-z0-9]{1,124}|Container|Other)$`)
)

// compileSpec compiles one rule, reporting problems under path p.
func compileSpec(s Spec, p string) (*Rule, []error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(p+"."+field, 0, format, args...))
	}
	if !ruleNameRE.MatchString(s.Name) {
		fail("name", "must be 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit (got %q)", s.Name)
	}
	if !typeNameRE.MatchString(s.Join) {
		fail("join", "must be an ASFF resource type like AwsEc2Instance or AwsS3Bucket (got %q)", s.Join)
	}
	r := &Rule{Name: s.Name, Join: s.Join, Window: DefaultWindow}
	if s.Window != "" {
		w, err := parseWindow(s.Window)
		if err != nil {
			fail("window", "%v", err)
		}
		r.Window = w
	}
	if len(s.Conditions) == 0 {
		fail("conditions", "a rule needs at least one condition")
	}
	for _, name := range sortedKeys(s.Conditions) {
		c, cerrs := compileCond(name, s.Conditions[name], s.Join, p+".conditions."+name)
		errs = append(errs, cerrs...)
		r.Conditions = append(r.Conditions, c)
	}
	out, oerrs := compileOutput(s.Output, r, p+".output")
	errs = append(errs, oerrs...)
	r.out = out
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// compileCond compiles one condition of a rule joined on join.
func compileCond(name string, c Condition, join, p string) (Cond, []error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(strictyaml.Join(p, field), 0, format, args...))
	}
	if !condNameRE.MatchString(name) {
		fail("", "a condition name must be a letter or '_' followed by letters, digits or '_' (got %q)", name)
	}
	out := Cond{Name: name, MinCount: c.MinCount, DistinctBy: c.DistinctBy, Via: c.Via}
	if c.MinCount == 0 {
		out.MinCount = 1
	} else if c.MinCount < 0 {
		fail("min_count", "must be at least 1 (got %d)", c.MinCount)
	}
	if c.Filter.Kind == 0 {
		fail("filter", "a condition needs a filter (an AwsSecurityFindingFilters mapping)")
	} else {
		f, ferrs := filter.FromYAML(&c.Filter)
		for _, e := range ferrs {
			errs = append(errs, filterError(p+".filter", e))
		}
		if f != nil && f.Empty() {
			fail("filter", "an empty filter would match every finding; name the findings this condition needs")
		}
		out.Filter = f
	}
	if c.DistinctBy != "" {
		pt, err := parsePath(c.DistinctBy)
		if err != nil {
			fail("distinct_by", "%v", err)
		}
		out.distinct = pt
	}
	if c.Via != "" && !supportedVia(join, c.Via) {
		fail("via", "hubtriage can relate %s to %s only (got via %q with join %q)",
			typeInstance, typeSecurityGroup, c.Via, join)
	}
	return out, errs
}

// filterError places a filter package error under the condition's path.
func filterError(prefix string, err error) error {
	var fe *filter.FieldError
	if errors.As(err, &fe) {
		return fe.Prefixed(prefix)
	}
	return &FieldError{Path: prefix, Msg: err.Error()}
}

// ASFF Types namespaces Security Hub accepts.
var typeNamespaces = []string{
	"Software and Configuration Checks", "TTPs", "Effects", "Unusual Behaviors", "Sensitive Data Identifications",
}

var severityLabels = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// compileOutput parses the templates (and runs them once on sample data so
// a misspelt field fails at load, not at the first correlation) and checks
// the finding fields against what BatchImportFindings accepts.
func compileOutput(o Output, r *Rule, p string) (output, []error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(p+"."+field, 0, format, args...))
	}
	out := output{remediation: o.Remediation, types: o.Types, severity: o.Severity}
	if out.severity == "" {
		out.severity = "CRITICAL"
	} else if !slices.Contains(severityLabels, out.severity) {
		fail("severity", "must be one of %s (got %q)", strings.Join(severityLabels, ", "), out.severity)
	}
	if len(out.types) == 0 {
		out.types = []string{"Unusual Behaviors/Correlation/" + r.Name}
	}
	for i, t := range out.types {
		if !validType(t) {
			fail(fmt.Sprintf("types[%d]", i), "must be namespace/category/classifier with namespace one of %s (got %q)",
				strings.Join(typeNamespaces, ", "), t)
		}
	}
	if u := o.Remediation.URL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			fail("remediation.url", "must be an absolute http(s) URL (got %q)", u)
		}
	}
	if len(o.Remediation.Text) > maxRemediationText {
		fail("remediation.text", "must be at most %d characters (got %d)", maxRemediationText, len(o.Remediation.Text))
	}
	title := firstNonEmpty(o.Title, defaultTitle)
	desc := firstNonEmpty(o.Description, defaultDescription)
	var err error
	if out.title, err = parseTemplate("title", title, r); err != nil {
		fail("title", "%v", err)
	}
	if out.description, err = parseTemplate("description", desc, r); err != nil {
		fail("description", "%v", err)
	}
	return out, errs
}

// validType reports whether t has a namespace Security Hub accepts and at
// most three parts.
func validType(t string) bool {
	parts := strings.Split(t, "/")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return false
	}
	return slices.Contains(typeNamespaces, parts[0])
}

// parseWindow parses a positive duration like "30d", "2w", "36h" or
// "1d12h" (strictyaml.ParseDuration).
func parseWindow(s string) (time.Duration, error) {
	d, err := strictyaml.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be a positive duration like 30d or 12h (got %q)", s)
	}
	return time.Duration(d), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func builtinNames(specs []Spec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
