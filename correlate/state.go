package correlate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// state is the last correlated finding emitted for one rule and resource.
type state struct {
	// Digest identifies the set of contributing findings it was emitted
	// with (sha256 of their sorted keys); Count is their number.
	Digest   string `json:"d"`
	Count    int    `json:"n"`
	Archived bool   `json:"archived,omitempty"`
	// Evidence describes up to maxEvidence contributing findings (their
	// matches cut to this rule, every condition represented), so the
	// finding keeps listing them once resolved.
	Evidence  []*indexed `json:"e,omitempty"`
	CreatedAt time.Time  `json:"created"`
	// Finding is the emitted document; archiving re-emits it.
	Finding doc `json:"finding"`

	// evidenceRaw and findingJSON are Evidence and Finding, still encoded,
	// while encoded is true: until load (see decodeState).
	evidenceRaw []string
	findingJSON string
	encoded     bool
}

// maxEvidence bounds the evidence kept in a state entry, which must fit a
// DynamoDB item (400 KB) whatever the number of contributing findings.
const maxEvidence = 50

// commit is what Rollback needs to undo a Result's state change.
type commit struct {
	part, sort string
	prev, next []byte
	expires    time.Time
	res        Ref
}

// decide compares the evaluation with the last emitted state and, when the
// set of contributing findings changed, records the new state with a
// conditional write and returns the Result.
//
// A satisfied rule opens a correlated finding. While it is open, the
// findings that contributed stay listed as evidence (even once resolved)
// and new ones join; it is archived once the rule is not satisfied and no
// finding on the resource counts for any of its conditions any more.
func (e *Engine) decide(ctx context.Context, r *Rule, res Ref, ev evaluation, now time.Time) (*Result, error) {
	part := partState + res.Key()
	prevEntry, prev, err := e.readState(ctx, part, r.Name, now)
	if err != nil {
		return nil, err
	}
	var next state
	var contrib []string
	switch {
	case prev == nil || prev.Archived:
		if !ev.satisfied {
			return nil, nil
		}
		next, err = e.activeState(r, res, ev, nil, now)
		contrib = keysOf(ev.contrib)
	case !ev.satisfied && len(ev.contrib) == 0:
		if err := prev.load(); err != nil {
			return nil, fmt.Errorf("decode correlation state %s/%s: %w", part, r.Name, err)
		}
		next = archivedState(prev, now)
		contrib = keysOf(prev.Evidence)
	default:
		var changed bool
		changed, err = prev.changedBy(ev.contrib)
		if err == nil && changed {
			err = prev.load()
		}
		if err != nil {
			return nil, fmt.Errorf("decode correlation state %s/%s: %w", part, r.Name, err)
		}
		if !changed {
			return nil, nil
		}
		merged := mergeEvidence(r, prev.Evidence, ev.contrib)
		contrib = keysOf(merged.contrib)
		next, err = e.activeState(r, res, merged, prev, now)
	}
	if err != nil {
		return nil, err
	}
	c := commit{part: part, sort: r.Name, prev: prevEntry, expires: e.stateExpiry(r, next, now), res: res}
	return e.write(ctx, r, next, contrib, c)
}

// digest identifies a sorted set of finding keys.
func digest(keys []string) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// changedBy reports whether the findings counting now, joined with the
// evidence, are a different set from the one s was emitted with. It
// decodes only the evidence's keys.
func (s *state) changedBy(live []*indexed) (bool, error) {
	keys, err := s.evidenceKeys()
	if err != nil {
		return false, err
	}
	for _, x := range live {
		keys = append(keys, x.key())
	}
	slices.Sort(keys)
	return digest(slices.Compact(keys)) != s.Digest, nil
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

// evidenceOf samples up to maxEvidence of ev's findings, copied with their
// matches cut to rule r.
func evidenceOf(r *Rule, ev evaluation) []*indexed {
	picked := sample(r, ev.byCond, maxEvidence)
	out := make([]*indexed, len(picked))
	for i, x := range picked {
		c := *x
		c.Matches = x.Matches.ofRule(r.Name)
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
	s, err := decodeState(ent.Value)
	if err != nil {
		return nil, nil, fmt.Errorf("decode correlation state %s/%s: %w", part, rule, err)
	}
	if s.Count == 0 && !s.Archived { // a rolled-back emission: nothing is open
		return ent.Value, nil, nil
	}
	return ent.Value, s, nil
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
	keys := keysOf(ev.contrib)
	return state{
		Digest:    digest(keys),
		Count:     len(keys),
		Evidence:  evidenceOf(r, ev),
		CreatedAt: created,
		Finding:   buildDoc(r, pl, ev.contrib, ev.byCond, title, desc, created, now),
	}, nil
}

// archivedState re-emits the last finding (loaded) with RecordState ARCHIVED.
func archivedState(prev *state, now time.Time) state {
	next := *prev
	next.Archived = true
	next.Finding.RecordState = "ARCHIVED"
	next.Finding.UpdatedAt = now.UTC().Format(timeLayout)
	return next
}

// stateExpiry keeps an open state for a window after its newest
// contributing finding leaves the window (time for Settle to archive it:
// see duePrefix), and an archived one for a window, after which a new
// correlation starts afresh.
//
// Backends judge PutIf's "live" by their own clock, so the expiry is never
// earlier than a window from the wall clock: a replay of old findings at a
// simulated time must still find its own state live.
func (e *Engine) stateExpiry(r *Rule, next state, now time.Time) time.Time {
	expires := now.Add(r.Window)
	if !next.Archived {
		_, last := observedSpan(next.Evidence)
		expires = last.Add(2 * r.Window)
	}
	return later(expires, time.Now().Add(r.Window))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// write records next if the state is still what decide read.
func (e *Engine) write(ctx context.Context, r *Rule, next state, contrib []string, c commit) (*Result, error) {
	fb, err := marshalDoc(next.Finding)
	if err != nil {
		return nil, fmt.Errorf("encode correlated finding: %w", err)
	}
	if err := ValidateASFF(fb); err != nil {
		// e.g. no account known for the resource: set Options.Account.
		return nil, fmt.Errorf("rule %s: correlated finding on %s is not valid ASFF: %w", r.Name, next.Finding.Resources[0].ID, err)
	}
	val := encodeState(next, fb)
	c.next = val
	ent := store.Entry{Partition: c.part, Sort: c.sort, Value: val, ExpiresAt: c.expires}
	if err := e.idx.PutIf(ctx, ent, c.prev); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		return nil, fmt.Errorf("write correlation state %s: %w", c.part, err)
	}
	if e.opt.Defer {
		if err := e.track(ctx, r, next, c); err != nil {
			return nil, err
		}
	}
	res := &Result{
		Rule:       r.Name,
		Resource:   next.Finding.Resources[0].ID,
		Finding:    fb,
		Correlated: typed(next.Finding, fb),
		Archived:   next.Archived,
		commit:     c,
	}
	for _, k := range contrib {
		arn, id, _ := strings.Cut(k, "|")
		res.Contributing = append(res.Contributing, asff.RelatedFinding{ProductArn: arn, ID: id})
	}
	return res, nil
}

// Rollback undoes the state change of a Result that could not be imported,
// so the next observation of a finding on its resource (with
// Options.Defer, the next Settle) emits it again. It
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
		prev = []byte(`{"n":0}`)
	}
	if !rolledBack(prev) {
		// Marked, so that an observation that changes nothing in the
		// index still re-evaluates the rule (see withRetries).
		prev = append([]byte{codecRetry}, prev...)
	}
	ent := store.Entry{Partition: c.part, Sort: c.sort, Value: prev, ExpiresAt: c.expires}
	err := e.idx.PutIf(ctx, ent, c.next)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("roll back correlation state %s: %w", c.part, err)
	}
	if rule := e.byName[c.sort]; e.opt.Defer && rule != nil {
		// Due again at the next Settle, even if nothing is observed.
		return e.markPending(ctx, rule, c.res, e.opt.Now())
	}
	return nil
}

// marshalDoc encodes a finding without escaping &, < and > (the console
// shows text verbatim).
func marshalDoc(d doc) ([]byte, error) {
	var b bytes.Buffer
	enc := stdjson.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func keysOf(xs []*indexed) []string {
	keys := make([]string, len(xs))
	for i, x := range xs {
		keys[i] = x.key()
	}
	return keys
}
