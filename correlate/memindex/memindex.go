// Package memindex is an in-memory store.Index, for rule tests and for
// dry runs that must not write the real store: New starts empty, Overlay
// reads through to a real index and keeps its own writes in memory.
package memindex

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"hubtriage/store"
)

// Index is an in-memory store.Index. It is safe for concurrent use.
type Index struct {
	mu   sync.Mutex
	base store.Index // nil: nothing underneath
	// parts holds this layer's writes by partition.
	parts map[string]*partition
	// now is the clock PutIf judges expiry by (the other methods take now).
	now func() time.Time
}

var _ store.Index = (*Index)(nil)

// New returns an empty index.
func New() *Index { return &Index{parts: map[string]*partition{}, now: time.Now} }

// partition is one partition's writes; a nil *store.Entry is a deletion
// that hides the base entry.
type partition struct {
	entries map[string]*store.Entry
	keys    []string // the keys of entries, sorted
}

func (p *partition) set(sort string, e *store.Entry) {
	if _, ok := p.entries[sort]; !ok {
		i, _ := slices.BinarySearch(p.keys, sort)
		p.keys = slices.Insert(p.keys, i, sort)
	}
	p.entries[sort] = e
}

func (p *partition) remove(sort string) {
	if _, ok := p.entries[sort]; !ok {
		return
	}
	delete(p.entries, sort)
	i, _ := slices.BinarySearch(p.keys, sort)
	p.keys = slices.Delete(p.keys, i, i+1)
}

// WithClock makes PutIf judge whether an entry has expired by now instead
// of the wall clock, for tests that simulate time. It returns x.
func (x *Index) WithClock(now func() time.Time) *Index {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.now = now
	return x
}

// Overlay returns an index that reads base where it has not written itself
// and never writes base: a dry run sees the real state and its own effects.
func Overlay(base store.Index) *Index {
	x := New()
	x.base = base
	return x
}

func live(e *store.Entry, now time.Time) bool {
	return e != nil && (e.ExpiresAt.IsZero() || e.ExpiresAt.After(now))
}

// errEmptyKey is returned for an empty partition or sort key.
var errEmptyKey = errors.New("memindex: partition and sort must be non-empty")

func checkKey(part, sort string) error {
	if part == "" || sort == "" {
		return errEmptyKey
	}
	return nil
}

// Put writes or replaces an entry.
func (x *Index) Put(_ context.Context, e store.Entry) error {
	if err := checkKey(e.Partition, e.Sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.set(e.Partition, e.Sort, &e)
	return nil
}

func (x *Index) set(part, sort string, e *store.Entry) {
	if e != nil {
		c := *e
		c.Value = bytes.Clone(e.Value)
		e = &c
	}
	p := x.parts[part]
	if p == nil {
		p = &partition{entries: map[string]*store.Entry{}}
		x.parts[part] = p
	}
	p.set(sort, e)
}

// PutIf writes e only if the current live value equals prev (nil: no live entry).
func (x *Index) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := checkKey(e.Partition, e.Sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	cur, err := x.get(ctx, e.Partition, e.Sort, x.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		if prev != nil {
			return store.ErrConflict
		}
	case err != nil:
		return err
	case prev == nil || !bytes.Equal(cur.Value, prev):
		return store.ErrConflict
	}
	x.set(e.Partition, e.Sort, &e)
	return nil
}

// GetEntry returns the live entry or store.ErrNotFound.
func (x *Index) GetEntry(ctx context.Context, part, sort string, now time.Time) (store.Entry, error) {
	if err := checkKey(part, sort); err != nil {
		return store.Entry{}, err
	}
	x.mu.Lock()
	e, ok := x.own(part, sort)
	isLive := ok && live(e, now)
	var c store.Entry
	if isLive {
		c = *e
		c.Value = bytes.Clone(e.Value)
	}
	x.mu.Unlock()
	switch {
	case isLive:
		return c, nil
	case ok:
		return store.Entry{}, store.ErrNotFound // deleted or expired in this layer
	case x.base == nil:
		return store.Entry{}, store.ErrNotFound
	}
	// Unlocked: the base is never written through this layer, and other
	// readers (dry-run workers) must not wait for each other's reads.
	return x.base.GetEntry(ctx, part, sort, now)
}

func (x *Index) get(ctx context.Context, part, sort string, now time.Time) (store.Entry, error) {
	if e, ok := x.own(part, sort); ok {
		if !live(e, now) {
			return store.Entry{}, store.ErrNotFound
		}
		c := *e
		c.Value = bytes.Clone(e.Value)
		return c, nil
	}
	if x.base == nil {
		return store.Entry{}, store.ErrNotFound
	}
	return x.base.GetEntry(ctx, part, sort, now)
}

// own returns this layer's entry (nil: deleted) and whether it has one.
func (x *Index) own(part, sort string) (*store.Entry, bool) {
	p := x.parts[part]
	if p == nil {
		return nil, false
	}
	e, ok := p.entries[sort]
	return e, ok
}

// Entries returns the partition's live entries ordered by Sort. The
// values are copies (sharing one allocation).
func (x *Index) Entries(ctx context.Context, part string, now time.Time) ([]store.Entry, error) {
	if part == "" {
		return nil, errEmptyKey
	}
	var under []store.Entry
	if x.base != nil { // read unlocked, as in GetEntry
		var err error
		if under, err = x.base.Entries(ctx, part, now); err != nil {
			return nil, err
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.parts[part]
	if p == nil || len(p.keys) == 0 {
		return under, nil // the base's entries are already the caller's
	}
	mine, keys := p.entries, p.keys
	size := 0
	for _, e := range mine {
		if e != nil {
			size += len(e.Value)
		}
	}
	out := make([]store.Entry, 0, len(keys)+len(under))
	buf := make([]byte, 0, size)
	for len(keys) > 0 || len(under) > 0 {
		if len(keys) == 0 || (len(under) > 0 && under[0].Sort < keys[0]) {
			out, under = append(out, under[0]), under[1:]
			continue
		}
		if len(under) > 0 && under[0].Sort == keys[0] {
			under = under[1:] // this layer's write or deletion hides it
		}
		if e := mine[keys[0]]; live(e, now) {
			c := *e
			start := len(buf)
			buf = append(buf, e.Value...)
			c.Value = buf[start:len(buf):len(buf)]
			out = append(out, c)
		}
		keys = keys[1:]
	}
	return out, nil
}

// Delete removes an entry; idempotent.
func (x *Index) Delete(_ context.Context, part, sort string) error {
	if err := checkKey(part, sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.base == nil {
		if p := x.parts[part]; p != nil {
			p.remove(sort)
		}
		return nil
	}
	x.set(part, sort, nil)
	return nil
}
