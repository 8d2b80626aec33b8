package correlate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
	"hubtriage/store"
)

// Layout of the correlation data in store.Index. Every partition is one
// resource, so evaluating a resource reads only its own partitions.
const (
	// partFindings + resource key: one entry per finding that satisfies a
	// condition of some rule on that resource, sorted by finding key.
	partFindings = "corr/f/"
	// partRelations + resource key: one entry per related resource (an
	// instance's security groups, a security group's instances).
	partRelations = "corr/rel/"
	// partState + resource key: one entry per rule, the last emitted state.
	partState = "corr/state/"
)

// indexed is the value of a findings-partition entry: what templates and
// the correlated finding need to know about a contributing finding, and
// which conditions it satisfies on this resource.
type indexed struct {
	ProductArn  string    `json:"p"`
	ID          string    `json:"i"`
	ProductName string    `json:"n,omitempty"`
	Title       string    `json:"t,omitempty"`
	Types       []string  `json:"y,omitempty"`
	Severity    string    `json:"s,omitempty"`
	First       time.Time `json:"f"`
	Seen        time.Time `json:"at"`
	// Resource is the resource as this finding names it.
	Resource Ref `json:"r"`
	// Matches are the conditions the finding satisfies on this resource.
	Matches matches `json:"m"`

	// sortKey caches key() for entries read from the index.
	sortKey string
}

// findingKey is the sort key of a finding: its Security Hub identity.
func findingKey(productArn, id string) string { return productArn + "|" + id }

// key is the entry's finding key.
func (x *indexed) key() string {
	if x.sortKey != "" {
		return x.sortKey
	}
	return findingKey(x.ProductArn, x.ID)
}

// maxIndexedTitle bounds the title kept for templates.
const maxIndexedTitle = 256

// newIndexed builds the index value of f on ref, or nil when it matches nothing.
func newIndexed(f *asff.Finding, ref Ref, m matches, now time.Time) *indexed {
	if len(m) == 0 {
		return nil
	}
	return &indexed{
		ProductArn: f.ProductArn, ID: f.ID, ProductName: f.ProductName,
		Title: truncate(f.Title, maxIndexedTitle), Types: f.Types, Severity: f.Severity.Label,
		First: firstObserved(f, now), Seen: eventTime(f, now), Resource: ref, Matches: m,
	}
}

// eventTime is when the finding was last observed: LastObservedAt, else
// UpdatedAt, else CreatedAt, else now. A time in the future counts as now.
func eventTime(f *asff.Finding, now time.Time) time.Time {
	t := firstTime(f.LastObservedAt, f.UpdatedAt, f.CreatedAt, now)
	if t.After(now) {
		return now.UTC()
	}
	return t
}

// firstObserved is FirstObservedAt, else CreatedAt, else the event time.
func firstObserved(f *asff.Finding, now time.Time) time.Time {
	t := firstTime(f.FirstObservedAt, f.CreatedAt, eventTime(f, now))
	if t.After(now) {
		return now.UTC()
	}
	return t
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

// refreshDivisor sets how far a re-import must move a finding's last
// observation before its entry is rewritten: a window's thirtieth (a day in
// 30). Security Hub re-imports open findings again and again; rewriting
// each would cost a write per event for an entry that counts as before.
// A finding therefore leaves a window up to that much early.
const refreshDivisor = 30

// indexChange is what putIndexed did to a finding's entry on a resource.
type indexChange int

const (
	notIndexed indexChange = iota // not there before or after
	unchanged                     // there, as it was: counts as before
	changed                       // written, replaced or deleted
)

// putIndexed writes, replaces or deletes (x nil) the entry of a finding on
// ref, which expires a window after x was last seen; an entry that would
// be expired already is deleted. A re-import that only moves the last
// observation by less than window/refreshDivisor leaves the entry as it
// is.
func (e *Engine) putIndexed(ctx context.Context, ref Ref, key string, x *indexed, window time.Duration, now time.Time) (indexChange, error) {
	part := partFindings + ref.Type + "/" + ref.Name // partFindings + ref.Key(), in one allocation
	old, err := e.entry(ctx, part, key, now)
	if err != nil {
		return notIndexed, fmt.Errorf("read correlation index %s: %w", part, err)
	}
	if x != nil && !x.Seen.Add(window).After(now) {
		x = nil // out of every window: it counts for nothing, like a finding matching nothing
	}
	if x == nil {
		if old.x == nil {
			return notIndexed, nil
		}
		if err := e.idx.Delete(ctx, part, key); err != nil {
			return notIndexed, fmt.Errorf("delete from correlation index %s: %w", part, err)
		}
		e.known.set(part, key, current{})
		return changed, nil
	}
	if old.x != nil && old.refreshedBy(x, window) {
		return unchanged, nil
	}
	ent := store.Entry{Partition: part, Sort: key, Value: encodeIndexed(x), ExpiresAt: x.Seen.Add(window)}
	if err := e.idx.Put(ctx, ent); err != nil {
		return notIndexed, fmt.Errorf("write correlation index %s: %w", part, err)
	}
	e.known.set(part, key, current{x: x, expires: ent.ExpiresAt})
	return changed, nil
}

// current is a finding's live entry on a resource, decoded (x nil: none).
type current struct {
	x       *indexed
	expires time.Time
}

// refreshedBy reports whether the entry already says what x would, but for
// a last observation less than window/refreshDivisor later.
func (c current) refreshedBy(x *indexed, window time.Duration) bool {
	step := x.Seen.Sub(c.x.Seen)
	return step >= 0 && step < window/refreshDivisor && c.expires.Equal(c.x.Seen.Add(window)) && sameButSeen(c.x, x)
}

// sameButSeen reports whether a and b are equal but for Seen.
func sameButSeen(a, b *indexed) bool {
	return a.ProductArn == b.ProductArn && a.ID == b.ID && a.ProductName == b.ProductName && a.Title == b.Title &&
		a.Severity == b.Severity && a.Resource == b.Resource && a.First.Equal(b.First) &&
		slices.Equal(a.Types, b.Types) && slices.EqualFunc(a.Matches, b.Matches, func(p, q condValues) bool {
		return p.Rule == q.Rule && p.Cond == q.Cond && slices.Equal(p.Values, q.Values)
	})
}

// entry reads a finding's entry on a resource, from what this run already
// knows of it when it can (see known). An entry that does not decode reads
// as there but unlike any finding, so it is replaced (or deleted).
func (e *Engine) entry(ctx context.Context, part, key string, now time.Time) (current, error) {
	if c, hit := e.known.get(part, key, now); hit {
		return c, nil
	}
	ent, err := e.idx.GetEntry(ctx, part, key, now)
	var c current
	switch {
	case err == nil:
		if x, derr := decodeIndexed(ent.Value, key); derr == nil {
			c = current{x: x, expires: ent.ExpiresAt}
		} else {
			c = current{x: &indexed{}, expires: ent.ExpiresAt} // there, unreadable: replaced
		}
	case !errors.Is(err, store.ErrNotFound):
		return current{}, err
	}
	e.known.set(part, key, c)
	return c, nil
}

// known remembers, for an engine that alone writes its index
// (Options.Defer), the findings-partition entries it read or wrote since
// its last Settle: Security Hub sends an open finding again and again, and
// each time after the first costs no store read. A nil *known remembers
// nothing. It holds at most maxKnown entries, then starts afresh.
type known struct {
	mu sync.Mutex
	m  map[knownKey]current
}

type knownKey struct{ part, sort string }

const maxKnown = 1 << 15

// get returns what is known of an entry at now, and whether anything is.
func (k *known) get(part, sort string, now time.Time) (current, bool) {
	if k == nil {
		return current{}, false
	}
	k.mu.Lock()
	c, hit := k.m[knownKey{part, sort}]
	k.mu.Unlock()
	if c.x != nil && !(store.Entry{ExpiresAt: c.expires}).Live(now) {
		c = current{} // expired since
	}
	return c, hit
}

func (k *known) set(part, sort string, c current) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.m) >= maxKnown {
		clear(k.m)
	}
	k.m[knownKey{part, sort}] = c
}

// forget drops everything remembered.
func (k *known) forget() {
	if k == nil {
		return
	}
	k.mu.Lock()
	clear(k.m)
	k.mu.Unlock()
}

// readIndexed returns the findings indexed on the resource with key rkey.
func readIndexed(ctx context.Context, idx store.Index, rkey string, now time.Time) ([]*indexed, error) {
	part := partFindings + rkey
	entries, err := idx.Entries(ctx, part, now)
	if err != nil {
		return nil, fmt.Errorf("read correlation index %s: %w", part, err)
	}
	out := make([]*indexed, 0, len(entries))
	for _, e := range entries {
		x, err := decodeIndexed(e.Value, e.Sort)
		if err != nil {
			return nil, fmt.Errorf("decode correlation index %s entry %q: %w", part, e.Sort, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// relateSlack avoids rewriting a relation on every finding: one is only
// refreshed when its expiry moves by more than this.
const relateSlack = 24 * time.Hour

// putRelation records, both ways, that the instance uses the group until
// expires. It reports whether the relation is new.
func putRelation(ctx context.Context, idx store.Index, rel relation, expires, now time.Time) (bool, error) {
	isNew := false
	for _, side := range [][2]Ref{{rel.instance, rel.group}, {rel.group, rel.instance}} {
		part := partRelations + side[0].Key()
		old, err := idx.GetEntry(ctx, part, side[1].Key(), now)
		switch {
		case err == nil && !old.ExpiresAt.Before(expires.Add(-relateSlack)):
			continue
		case err == nil:
		case errors.Is(err, store.ErrNotFound):
			isNew = true
		default:
			return false, fmt.Errorf("read relation %s: %w", part, err)
		}
		val, err := json.Marshal(side[1])
		if err != nil {
			return false, fmt.Errorf("encode relation: %w", err)
		}
		e := store.Entry{Partition: part, Sort: side[1].Key(), Value: val, ExpiresAt: expires}
		if err := idx.Put(ctx, e); err != nil {
			return false, fmt.Errorf("write relation %s: %w", part, err)
		}
	}
	return isNew, nil
}

// readRelated returns the resources related to the one with key rkey.
func readRelated(ctx context.Context, idx store.Index, rkey string, now time.Time) ([]Ref, error) {
	part := partRelations + rkey
	entries, err := idx.Entries(ctx, part, now)
	if err != nil {
		return nil, fmt.Errorf("read relations %s: %w", part, err)
	}
	out := make([]Ref, 0, len(entries))
	for _, e := range entries {
		var r Ref
		if err := json.Unmarshal(e.Value, &r); err != nil {
			return nil, fmt.Errorf("decode relation %s entry %q: %w", part, e.Sort, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + mark
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
