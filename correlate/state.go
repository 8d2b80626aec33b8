package correlate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
	"hubtriage/store"
)

// state is the last correlated finding emitted for one rule and resource.
type state struct {
	// Contributing are the finding keys it was emitted with, sorted.
	Contributing []string `json:"c"`
	Archived     bool     `json:"archived,omitempty"`
	// Evidence describes the contributing findings (their matches cut to
	// this rule), so the finding keeps listing those resolved since.
	Evidence  []*indexed `json:"e,omitempty"`
	CreatedAt time.Time  `json:"created"`
	// Finding is the emitted document; archiving re-emits it.
	Finding doc `json:"finding"`
}

// commit is what Rollback needs to undo a Result's state change.
type commit struct {
	part, sort string
	prev, next []byte
	expires    time.Time
}

// decide compares the evaluation with the last emitted state and, when the
// set of contributing findings changed, records the new state with a
// conditional write and returns the Result.
//
// A satisfied rule opens a correlated finding. While it is open, every
// finding that satisfied one of its conditions stays listed as evidence
// (even once resolved) and new ones join it; it is archived when none of
// its findings counts any more and the rule is not satisfied.
func (e *Engine) decide(ctx context.Context, r *Rule, res Ref, ev evaluation, now time.Time) (*Result, error) {
	part := partState + res.Key()
	prevEntry, prev, err := e.readState(ctx, part, r.Name, now)
	if err != nil {
		return nil, err
	}
	var next state
	switch {
	case prev == nil || prev.Archived:
		if !ev.satisfied {
			return nil, nil
		}
		next, err = e.activeState(r, res, ev, nil, now)
	case !ev.satisfied && !overlaps(ev.contrib, prev.Contributing):
		next = archivedState(prev, now)
	default:
		merged := mergeEvidence(r, prev.Evidence, ev.contrib)
		if slices.Equal(keysOf(merged.contrib), prev.Contributing) {
			return nil, nil
		}
		next, err = e.activeState(r, res, merged, prev, now)
	}
	if err != nil {
		return nil, err
	}
	return e.write(ctx, r, next, commit{part: part, sort: r.Name, prev: prevEntry, expires: e.stateExpiry(r, next, now)})
}

// overlaps reports whether any of xs has one of the sorted keys.
func overlaps(xs []*indexed, keys []string) bool {
	for _, x := range xs {
		if _, ok := slices.BinarySearch(keys, x.key()); ok {
			return true
		}
	}
	return false
}

// mergeEvidence joins the stored evidence with the findings counting now
// (whose entries are fresher).
func mergeEvidence(r *Rule, evidence, live []*indexed) evaluation {
	all := map[string]*indexed{}
	for _, x := range evidence {
		all[x.key()] = x
	}
	for _, x := range live {
		all[x.key()] = x
	}
	return collect(r, all)
}

// evidenceOf copies xs with their matches cut to rule r.
func evidenceOf(r *Rule, xs []*indexed) []*indexed {
	out := make([]*indexed, len(xs))
	for i, x := range xs {
		c := *x
		c.Matches = map[string]map[string][]string{r.Name: x.Matches[r.Name]}
		out[i] = &c
	}
	return out
}

// readState returns the live state entry's bytes and value (nil when none).
func (e *Engine) readState(ctx context.Context, part, rule string, now time.Time) ([]byte, *state, error) {
	ent, err := e.idx.GetEntry(ctx, part, rule, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read correlation state %s: %w", part, err)
	}
	var s state
	if err := json.Unmarshal(ent.Value, &s); err != nil {
		return nil, nil, fmt.Errorf("decode correlation state %s/%s: %w", part, rule, err)
	}
	if len(s.Contributing) == 0 { // a rolled-back emission: nothing is open
		return ent.Value, nil, nil
	}
	return ent.Value, &s, nil
}

// activeState renders the open correlated finding for ev.
func (e *Engine) activeState(r *Rule, res Ref, ev evaluation, prev *state, now time.Time) (state, error) {
	pl := e.place(res, ev.contrib)
	data := templateData(r, pl, ev)
	title, err := render(r.out.title, data, maxTitle)
	if err != nil {
		return state{}, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	desc, err := render(r.out.description, data, maxDescription)
	if err != nil {
		return state{}, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	created := now
	if prev != nil && !prev.Archived {
		created = prev.CreatedAt
	}
	return state{
		Contributing: keysOf(ev.contrib),
		Evidence:     evidenceOf(r, ev.contrib),
		CreatedAt:    created,
		Finding:      buildDoc(r, pl, ev.contrib, ev.byCond, title, desc, created, now),
	}, nil
}

// archivedState re-emits the last finding with RecordState ARCHIVED.
func archivedState(prev *state, now time.Time) state {
	next := *prev
	next.Archived = true
	next.Finding.RecordState = "ARCHIVED"
	next.Finding.UpdatedAt = now.UTC().Format(timeLayout)
	return next
}

// stateExpiry keeps an open state until its newest contributing finding
// leaves the window, and an archived one for a window, after which a new
// correlation starts afresh.
func (e *Engine) stateExpiry(r *Rule, next state, now time.Time) time.Time {
	if next.Archived {
		return now.Add(r.Window)
	}
	_, last := observedSpan(next.Evidence)
	return last.Add(r.Window)
}

// write records next if the state is still what decide read.
func (e *Engine) write(ctx context.Context, r *Rule, next state, c commit) (*Result, error) {
	val, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode correlation state: %w", err)
	}
	fb, err := json.Marshal(next.Finding)
	if err != nil {
		return nil, fmt.Errorf("encode correlated finding: %w", err)
	}
	c.next = val
	ent := store.Entry{Partition: c.part, Sort: c.sort, Value: val, ExpiresAt: c.expires}
	if err := e.idx.PutIf(ctx, ent, c.prev); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		return nil, fmt.Errorf("write correlation state %s: %w", c.part, err)
	}
	res := &Result{
		Rule:     r.Name,
		Resource: next.Finding.Resources[0].ID,
		Finding:  fb,
		Archived: next.Archived,
		commit:   c,
	}
	for _, k := range next.Contributing {
		arn, id, _ := strings.Cut(k, "|")
		res.Contributing = append(res.Contributing, asff.RelatedFinding{ProductArn: arn, ID: id})
	}
	return res, nil
}

// Rollback undoes the state change of a Result that could not be imported,
// so the next observation of a finding on its resource emits it again. It
// does nothing when the state has changed since (a later Result supersedes
// this one) and is safe to call more than once.
func (e *Engine) Rollback(ctx context.Context, r Result) error {
	c := r.commit
	if c.part == "" {
		return nil
	}
	prev := c.prev
	if prev == nil {
		// "nothing emitted": a state without contributing findings.
		prev = []byte(`{"c":[]}`)
	}
	ent := store.Entry{Partition: c.part, Sort: c.sort, Value: prev, ExpiresAt: c.expires}
	err := e.idx.PutIf(ctx, ent, c.next)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("roll back correlation state %s: %w", c.part, err)
	}
	return nil
}

func keysOf(xs []*indexed) []string {
	keys := make([]string, len(xs))
	for i, x := range xs {
		keys[i] = x.key()
	}
	return keys
}
