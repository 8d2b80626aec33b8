package correlate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"hubtriage/asff"
	"hubtriage/filter"
	"hubtriage/store"
)

// Options configures an Engine.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Account is the account whose Security Hub imports the correlated
	// findings, used in their ProductArn (product/<Account>/default);
	// empty means the resource's own account.
	Account string
	// Region and Partition are used when neither the resource nor its
	// findings say (default partition "aws"); Account likewise stands in
	// for an unknown resource account.
	Region, Partition string
	// Defer makes Observe only record (in the index, so a crash loses
	// nothing) which rules and resources need evaluating, and Settle
	// evaluate each of them once. A burst of findings on one resource then
	// costs one evaluation and at most one import of its correlated
	// finding per Settle, instead of one per finding. For a process that
	// alone writes its index (replay, the daemon on bbolt); with processes
	// sharing a store (Lambda on DynamoDB) leave it off.
	Defer bool
	// Groups, when set, is asked for the security groups of an instance a
	// rule with a via AwsEc2SecurityGroup condition joins on (and for the
	// instances of such a group), when a finding changed what is indexed
	// on it and no relation of it is known; what it says is recorded as
	// relations that expire after GroupsTTL (default DefaultGroupsTTL).
	Groups    GroupResolver
	GroupsTTL time.Duration
}

// Engine evaluates correlation rules as findings arrive. It is safe for
// concurrent use by many goroutines and, with a shared store, many
// processes: the last emitted state of each rule and resource is written
// with a conditional put, so one state change is emitted once.
type Engine struct {
	rules []*Rule
	// byName finds a rule by name (pending entries and states name it).
	byName map[string]*Rule
	idx    store.Index
	opt    Options
	// types are the resource types some condition is on (join or via).
	types map[string]bool
	// relationWindow is the longest window of rules with via conditions;
	// zero when no rule needs relations.
	relationWindow time.Duration
	// maxWindow is the longest window of any rule.
	maxWindow time.Duration
	// selection holds each condition's criteria on fields that no version
	// of a finding changes (see stableFields); nil when some condition has
	// none, so that every finding may match.
	selection []*filter.Filters

	// pending are the targets Observe deferred to Settle (Options.Defer),
	// by rule and resource key.
	mu      sync.Mutex
	pending map[string]bool
	// known is what this run read and wrote of the findings partitions,
	// with Options.Defer; nil otherwise.
	known *known
}

// Result is one correlated finding whose set of contributing findings
// changed: newly satisfied, changed, or ARCHIVED because none counts any more.
type Result struct {
	Rule string
	// Resource is the joined resource: its ARN when known, else its id.
	Resource string
	// Finding is the correlated finding as ASFF JSON, ready for BatchImportFindings.
	Finding []byte
	// Correlated is the same finding as the pipeline's finding type (its
	// Raw is Finding), for the stages that alert on it.
	Correlated *asff.Finding
	// Contributing lists every contributing finding (RelatedFindings holds
	// at most 10 of them), ordered by ProductArn and Id.
	Contributing []asff.RelatedFinding
	Archived     bool

	commit commit
}

// maxAttempts bounds re-evaluations after conditional-write conflicts.
const maxAttempts = 8

// ErrContention is returned when a resource's state kept changing under
// concurrent writers; the caller may retry the finding.
var ErrContention = errors.New("correlation state kept changing under concurrent writers")

// New returns an Engine evaluating rules over idx.
func New(rules []*Rule, idx store.Index, opt Options) *Engine {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Partition == "" {
		opt.Partition = "aws"
	}
	if opt.GroupsTTL <= 0 {
		opt.GroupsTTL = DefaultGroupsTTL
	}
	e := &Engine{rules: rules, idx: idx, opt: opt, types: map[string]bool{}, byName: map[string]*Rule{}, pending: map[string]bool{}}
	if opt.Defer {
		e.known = &known{m: map[knownKey]current{}}
	}
	all := false
	for _, r := range rules {
		e.byName[r.Name] = r
		e.types[r.Join] = true
		e.maxWindow = max(e.maxWindow, r.Window)
		for _, c := range r.Conditions {
			if c.Via != "" {
				e.types[c.Via] = true
				e.relationWindow = max(e.relationWindow, r.Window)
			}
			sel := c.Filter.Only(stableFields...)
			all = all || sel == nil
			e.selection = append(e.selection, sel)
		}
	}
	if all {
		e.selection = nil
	}
	return e
}

// stableFields are the filter fields a finding keeps from its first
// version to its last: who reported it, what generated it and which
// control it checks. Neither its product nor BatchUpdateFindings changes
// them.
var stableFields = []string{"ProductArn", "ProductName", "CompanyName", "GeneratorId", "AwsAccountId", "Region", "Id",
	"ComplianceSecurityControlId"}

// mayEverMatch reports whether some version of f could satisfy some
// condition. When not, no version of it was indexed and there is nothing
// to read.
func (e *Engine) mayEverMatch(f *asff.Finding, now time.Time) bool {
	if e.selection == nil {
		return true
	}
	for _, sel := range e.selection {
		if sel.Match(f, now) {
			return true
		}
	}
	return false
}

// Rules returns the engine's rules.
func (e *Engine) Rules() []*Rule { return e.rules }

// Observe indexes f on the resources it names (or removes it when it is no
// longer active or no longer satisfies any condition), records the
// relations it carries, re-evaluates only the resources it touched, and
// returns the correlated findings whose contributing set changed, ordered
// by rule and resource. Its cost grows with the findings on those
// resources, never with the size of the index. A finding on no resource
// type any rule joins or relates, or from a product and generator no
// condition names, costs no store access; one that matches nothing, or is
// already outside every rule's window, costs one read per such resource
// (to remove an entry an earlier version of it left; with Options.Defer,
// only the first time in a run) and no write. hubtriage's own correlated
// findings are ignored (IsOwn).
//
// The emitted state is recorded before Observe returns; a caller that fails
// to import a Result calls Rollback so a later observation emits it again.
func (e *Engine) Observe(ctx context.Context, f *asff.Finding) ([]Result, error) {
	if IsOwn(f) || len(e.rules) == 0 {
		return nil, nil
	}
	now := e.opt.Now()
	may, relates := e.mayEverMatch(f, now), e.relationWindow > 0 && mayRelate(f)
	if !may && !relates {
		return nil, nil // the common case for findings no rule is about: no work at all
	}
	refs := refsOf(f)
	var touched, kept refSet
	if may {
		var err error
		if touched, kept, err = e.index(ctx, f, refs, now); err != nil {
			return nil, err
		}
	}
	if relates {
		if err := e.relate(ctx, f, refs, now, &touched); err != nil {
			return nil, err
		}
	}
	if err := e.resolveGroups(ctx, touched, now); err != nil {
		return nil, err
	}
	if len(touched) == 0 && (len(kept) == 0 || e.opt.Defer) {
		return nil, nil
	}
	rd := newReads(e.idx)
	targets, err := e.affected(ctx, rd, touched, now)
	if err != nil {
		return nil, err
	}
	if e.opt.Defer {
		// (a rolled-back emission is pending already: see Rollback)
		return nil, e.postpone(ctx, targets, now)
	}
	if targets, err = e.withRetries(ctx, targets, kept, touched, now); err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range targets {
		res, err := e.update(ctx, rd, t.rule, t.res)
		if err != nil {
			return out, err
		}
		if res != nil {
			out = append(out, *res)
		}
	}
	return out, nil
}

// index writes or removes f's entry on every resource of a type some rule
// uses. It returns the resources whose index changed (to re-evaluate) and
// those where f's entry was kept as it was (where only a rolled-back
// emission needs another look).
func (e *Engine) index(ctx context.Context, f *asff.Finding, refs []Ref, now time.Time) (touched, kept refSet, err error) {
	if !slices.ContainsFunc(refs, func(r Ref) bool { return e.types[r.Type] }) {
		return touched, kept, nil // on no resource any rule is about
	}
	var matched []condMatch
	if f.Active() && eventTime(f, now).Add(e.maxWindow).After(now) {
		// (otherwise the finding left every rule's window: whatever it
		// matches, its entries would be dead on arrival)
		matched = e.match(f, now)
	}
	key := findingKey(f.ProductArn, f.ID)
	for _, ref := range refs {
		if !e.types[ref.Type] {
			continue
		}
		m, window := matchesOn(matched, ref.Type)
		change, err := e.putIndexed(ctx, ref, key, newIndexed(f, ref, m, now), window, now)
		if err != nil {
			return nil, nil, err
		}
		switch change {
		case changed:
			touched.add(ref)
		case unchanged:
			kept.add(ref)
		}
	}
	return touched, kept, nil
}

// withRetries adds to targets the rules whose emission on a kept resource
// was rolled back (see Rollback), unless the resource is re-evaluated
// anyway. Ordered by rule and resource key.
func (e *Engine) withRetries(ctx context.Context, targets []target, kept, touched refSet, now time.Time) ([]target, error) {
	added := false
	for _, ref := range kept {
		if touched.has(ref) {
			continue
		}
		k := ref.Key()
		if !slices.ContainsFunc(e.rules, func(r *Rule) bool { return r.Join == ref.Type }) {
			continue
		}
		entries, err := e.idx.Entries(ctx, partState+k, now)
		if err != nil {
			return nil, fmt.Errorf("read correlation state %s: %w", partState+k, err)
		}
		for _, ent := range entries {
			r := e.byName[ent.Sort]
			if rolledBack(ent.Value) && r != nil && r.Join == ref.Type && !slices.Contains(targets, target{rule: r, res: ref}) {
				targets = append(targets, target{rule: r, res: ref})
				added = true
			}
		}
	}
	if added {
		sortTargets(targets)
	}
	return targets, nil
}

// condMatch is one condition f satisfies.
type condMatch struct {
	rule   *Rule
	cond   *Cond
	target string   // resource type the condition is on
	values []string // distinct_by values
}

// match evaluates every condition's filter on f once.
func (e *Engine) match(f *asff.Finding, now time.Time) []condMatch {
	var out []condMatch
	for _, r := range e.rules {
		for i := range r.Conditions {
			c := &r.Conditions[i]
			if !c.Filter.Match(f, now) {
				continue
			}
			m := condMatch{rule: r, cond: c, target: firstNonEmpty(c.Via, r.Join), values: []string{}}
			if c.distinct != nil {
				m.values = c.distinct.findingValues(f)
			}
			out = append(out, m)
		}
	}
	return out
}

// matchesOn selects the matches on resources of type typ, as stored in the
// index, and the longest window among their rules.
func matchesOn(matched []condMatch, typ string) (matches, time.Duration) {
	var m matches
	var window time.Duration
	for _, x := range matched {
		if x.target != typ {
			continue
		}
		m = append(m, condValues{Rule: x.rule.Name, Cond: x.cond.Name, Values: x.values})
		window = max(window, x.rule.Window)
	}
	sortMatches(m)
	return m, window
}

// relate records the instance/security-group relations f carries; an
// instance that gained a relation is re-evaluated.
func (e *Engine) relate(ctx context.Context, f *asff.Finding, refs []Ref, now time.Time, touched *refSet) error {
	expires := eventTime(f, now).Add(e.relationWindow)
	if !expires.After(now) {
		return nil
	}
	for _, rel := range relationsOf(f, refs) {
		isNew, err := putRelation(ctx, e.idx, rel, expires, now)
		if err != nil {
			return err
		}
		if isNew {
			touched.add(rel.instance)
		}
	}
	return nil
}

// target is one rule to evaluate on one resource.
type target struct {
	rule *Rule
	res  Ref
	due  bool // only because its findings left the window (duePrefix)
}

// affected lists the (rule, resource) pairs the touched resources feed:
// rules joined on a touched resource, and rules with a via condition on a
// touched resource, for every resource related to it. Ordered by rule and
// resource key.
func (e *Engine) affected(ctx context.Context, rd *reads, touched refSet, now time.Time) ([]target, error) {
	seen := map[[2]string]bool{}
	var out []target
	add := func(r *Rule, res Ref) {
		k := [2]string{r.Name, res.Key()}
		if !seen[k] {
			seen[k] = true
			out = append(out, target{rule: r, res: res})
		}
	}
	for _, ref := range touched {
		var related []Ref
		loaded := false
		for _, r := range e.rules {
			if r.Join == ref.Type {
				add(r, ref)
			}
			if !r.HasVia(ref.Type) {
				continue
			}
			if !loaded {
				var err error
				if related, err = rd.relatedTo(ctx, ref.Key(), now); err != nil {
					return nil, err
				}
				loaded = true
			}
			for _, rel := range related {
				if rel.Type == r.Join {
					add(r, rel)
				}
			}
		}
	}
	sortTargets(out)
	return out, nil
}

// sortTargets orders targets by rule and resource key.
func sortTargets(ts []target) {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].rule.Name != ts[j].rule.Name {
			return ts[i].rule.Name < ts[j].rule.Name
		}
		return ts[i].res.Key() < ts[j].res.Key()
	})
}

// HasVia reports whether a condition of r is on related resources of type
// typ (its findings count through relations, e.g. TypeSecurityGroup).
func (r *Rule) HasVia(typ string) bool {
	for _, c := range r.Conditions {
		if c.Via == typ {
			return true
		}
	}
	return false
}

// update evaluates rule r on res and records and returns the change, if
// any, retrying when a concurrent writer changed the state first. The
// first attempt may use what rd already read; a retry reads afresh.
func (e *Engine) update(ctx context.Context, rd *reads, r *Rule, res Ref) (*Result, error) {
	for range maxAttempts {
		now := e.opt.Now()
		ev, err := e.evaluate(ctx, rd, r, res, now)
		if err != nil {
			return nil, err
		}
		result, err := e.decide(ctx, r, res, ev, now)
		if errors.Is(err, store.ErrConflict) {
			rd.reset()
			continue
		}
		return result, err
	}
	return nil, fmt.Errorf("rule %s on %s: %w", r.Name, res.Key(), ErrContention)
}

// evaluation is what the index says about one rule on one resource now.
type evaluation struct {
	satisfied bool
	// contrib are the findings satisfying some condition, by key.
	contrib []*indexed
	// byCond lists, per condition, its findings (ordered by key) and the
	// distinct values they carry.
	byCond   map[string][]*indexed
	distinct map[string][]string
}

// evaluate reads the resource's findings (and those of related resources
// for via conditions) and tallies each condition within the rule's window.
func (e *Engine) evaluate(ctx context.Context, rd *reads, r *Rule, res Ref, now time.Time) (evaluation, error) {
	own, err := rd.indexedOn(ctx, res.Key(), now)
	if err != nil {
		return evaluation{}, err
	}
	via := map[string][]*indexed{}
	for _, c := range r.Conditions {
		if c.Via == "" || via[c.Via] != nil {
			continue
		}
		if via[c.Via], err = e.readVia(ctx, rd, res, c.Via, now); err != nil {
			return evaluation{}, err
		}
	}
	since := now.Add(-r.Window)
	counting := map[string]*indexed{}
	for _, c := range r.Conditions {
		src := own
		if c.Via != "" {
			src = via[c.Via]
		}
		for _, x := range src {
			if _, ok := x.Matches.values(r.Name, c.Name); ok && x.Seen.After(since) {
				counting[x.key()] = x
			}
		}
	}
	ev := collect(r, counting)
	ev.satisfied = true
	for _, c := range r.Conditions {
		n := len(ev.byCond[c.Name])
		if c.distinct != nil {
			n = len(ev.distinct[c.Name])
		}
		ev.satisfied = ev.satisfied && n >= c.MinCount
	}
	return ev, nil
}

// collect groups findings by the conditions of r they satisfy, ordered by
// key, with each condition's distinct values sorted.
func collect(r *Rule, xs map[string]*indexed) evaluation {
	ev := evaluation{byCond: map[string][]*indexed{}, distinct: map[string][]string{}}
	for _, k := range sortedKeys(xs) {
		x := xs[k]
		ev.contrib = append(ev.contrib, x)
		for _, c := range r.Conditions {
			vals, ok := x.Matches.values(r.Name, c.Name)
			if !ok {
				continue
			}
			ev.byCond[c.Name] = append(ev.byCond[c.Name], x)
			for _, v := range vals {
				if !slices.Contains(ev.distinct[c.Name], v) {
					ev.distinct[c.Name] = append(ev.distinct[c.Name], v)
				}
			}
		}
	}
	for _, vals := range ev.distinct {
		sort.Strings(vals)
	}
	return ev
}

// readVia returns the findings on every resource of type typ related to
// res, each finding once, ordered by key.
func (e *Engine) readVia(ctx context.Context, rd *reads, res Ref, typ string, now time.Time) ([]*indexed, error) {
	related, err := rd.relatedTo(ctx, res.Key(), now)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*indexed{}
	for _, rel := range related {
		if rel.Type != typ {
			continue
		}
		xs, err := rd.indexedOn(ctx, rel.Key(), now)
		if err != nil {
			return nil, err
		}
		for _, x := range xs {
			byKey[x.key()] = x
		}
	}
	out := make([]*indexed, 0, len(byKey))
	for _, k := range sortedKeys(byKey) {
		out = append(out, byKey[k])
	}
	return out, nil
}

// refSet is a small set of resources (by key), in insertion order.
type refSet []Ref

func (s *refSet) add(r Ref) {
	if !containsKey(*s, r) {
		*s = append(*s, r)
	}
}

func (s refSet) has(r Ref) bool { return containsKey(s, r) }
