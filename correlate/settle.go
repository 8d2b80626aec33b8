package correlate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/store"
)

// partPending holds one entry per rule and resource whose evaluation
// Observe deferred to Settle (Options.Defer), sorted by rule and resource
// key, the resource as its value. Entries are written with the index
// changes that caused them (one transaction on a buffered store), so a
// run that dies before Settle leaves them for the next one.
const partPending = "corr/pending"

// pendingKey is the sort key of a deferred target.
func pendingKey(rule string, res Ref) string { return rule + "|" + res.Key() }

// postpone records targets for Settle, writing each one's entry the first
// time this engine defers it.
func (e *Engine) postpone(ctx context.Context, targets []target, now time.Time) error {
	for _, t := range targets {
		k := pendingKey(t.rule.Name, t.res)
		e.mu.Lock()
		queued := e.pending[k]
		e.pending[k] = true
		e.mu.Unlock()
		if queued {
			continue
		}
		if err := e.markPending(ctx, t.rule, t.res, now); err != nil {
			e.mu.Lock()
			delete(e.pending, k)
			e.mu.Unlock()
			return err
		}
	}
	return nil
}

// markPending writes the pending entry of rule r on res; it lasts a
// window, after which nothing it stood for counts any more.
func (e *Engine) markPending(ctx context.Context, r *Rule, res Ref, now time.Time) error {
	val, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode pending correlation: %w", err)
	}
	ent := store.Entry{Partition: partPending, Sort: pendingKey(r.Name, res), Value: val, ExpiresAt: later(now, time.Now()).Add(r.Window)}
	if err := e.idx.Put(ctx, ent); err != nil {
		return fmt.Errorf("record pending correlation: %w", err)
	}
	return nil
}

// Settle is the one meaning of "settle" in hubtriage: once per batch (a
// replay's input, a daemon poll, one Lambda event), evaluate what the
// batch's findings changed. It evaluates every rule and resource whose
// evaluation was deferred
// (Options.Defer), including those a run that ended before its Settle
// left, and every open correlation whose contributing findings have all
// left the window by now (see duePrefix), and returns the correlated
// findings whose contributing set changed, ordered by rule and resource,
// with the errors of the targets it could not settle (which stay pending).
// A target is no longer pending once settled; Rollback of its Result makes
// it pending again. Without Defer there is never anything to settle.
func (e *Engine) Settle(ctx context.Context) ([]Result, error) {
	if !e.opt.Defer {
		return nil, nil // (no read: a Lambda invocation pays for none)
	}
	now := e.opt.Now()
	targets, stale, err := e.pendingTargets(ctx, now)
	if err != nil {
		return nil, err
	}
	sortTargets(targets)
	e.mu.Lock()
	clear(e.pending)
	e.mu.Unlock()
	e.known.forget() // the next run starts from the store, whoever wrote it since
	for _, k := range stale {
		if err := e.idx.Delete(ctx, partPending, k); err != nil {
			return nil, fmt.Errorf("drop pending correlation: %w", err)
		}
	}
	// A target that fails stays pending (until its entry expires, a window
	// on) and does not hold back the others.
	var out []Result
	var errs []error
	for _, t := range targets {
		res, err := e.update(ctx, newReads(e.idx), t.rule, t.res)
		if err == nil {
			err = e.settled(ctx, t, res)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if res != nil {
			out = append(out, *res)
		}
	}
	return out, errors.Join(errs...)
}

// pendingTargets reads the deferred targets and the open correlations due
// at now (one read of partPending), and the keys of pending entries no
// rule reads any more.
func (e *Engine) pendingTargets(ctx context.Context, now time.Time) (targets []target, stale []string, err error) {
	entries, err := e.idx.Entries(ctx, partPending, now)
	if err != nil {
		return nil, nil, fmt.Errorf("read pending correlations: %w", err)
	}
	pending := map[string]bool{}
	var due []target
	for _, ent := range entries {
		if k, ok := strings.CutPrefix(ent.Sort, duePrefix); ok {
			if t, ok := e.dueTarget(k, ent.Value, now); ok {
				due = append(due, t)
			}
			continue
		}
		var res Ref
		rule, _, _ := strings.Cut(ent.Sort, "|") // rule names have no "|"
		r := e.byName[rule]
		if r == nil || json.Unmarshal(ent.Value, &res) != nil {
			stale = append(stale, ent.Sort) // a rule since removed, or unreadable
			continue
		}
		pending[ent.Sort] = true
		targets = append(targets, target{rule: r, res: res})
	}
	for _, t := range due {
		if !pending[pendingKey(t.rule.Name, t.res)] {
			targets = append(targets, t)
		}
	}
	return targets, stale, nil
}

// dueTarget is the due entry of key (rule|resource) as a target, when it
// is due at now.
func (e *Engine) dueTarget(key string, val []byte, now time.Time) (target, bool) {
	var d dueEntry
	rule, _, _ := strings.Cut(key, "|")
	r := e.byName[rule]
	if r == nil || json.Unmarshal(val, &d) != nil || d.At.After(now) {
		return target{}, false
	}
	return target{rule: r, res: d.Res, due: true}, true
}

// settled drops what made t a target: its pending entry, and its due
// entry when it came due and evaluating it changed nothing (the
// correlation is gone or was already archived).
func (e *Engine) settled(ctx context.Context, t target, res *Result) error {
	k := pendingKey(t.rule.Name, t.res)
	if t.due && res == nil {
		if err := e.idx.Delete(ctx, partPending, duePrefix+k); err != nil {
			return fmt.Errorf("drop due correlation: %w", err)
		}
	}
	if t.due {
		return nil
	}
	return e.idx.Delete(ctx, partPending, k)
}

// Every open correlation also has an entry in partPending, under
// duePrefix and its rule and resource, saying when its newest contributing
// finding leaves the rule's window. Settle re-evaluates the correlations
// then due, so one whose findings all aged out is archived even if nothing
// on its resource is observed again. The entry is written with the
// correlation's state and lasts as long; sharing partPending costs Settle
// no extra read.
const duePrefix = "due|"

// dueEntry is the value of a due entry.
type dueEntry struct {
	Res Ref       `json:"res"`
	At  time.Time `json:"at"`
}

// track records when the correlation next written leaves the window
// (nothing, once archived).
func (e *Engine) track(ctx context.Context, r *Rule, next state, c commit) error {
	k := duePrefix + pendingKey(r.Name, c.res)
	if next.Archived {
		if err := e.idx.Delete(ctx, partPending, k); err != nil {
			return fmt.Errorf("drop due correlation: %w", err)
		}
		return nil
	}
	_, last := observedSpan(next.Evidence)
	val, err := json.Marshal(dueEntry{Res: c.res, At: last.Add(r.Window)})
	if err != nil {
		return fmt.Errorf("encode due correlation: %w", err)
	}
	if err := e.idx.Put(ctx, store.Entry{Partition: partPending, Sort: k, Value: val, ExpiresAt: c.expires}); err != nil {
		return fmt.Errorf("record due correlation: %w", err)
	}
	return nil
}
