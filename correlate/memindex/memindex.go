// Package memindex is an in-memory store.Index, for rule tests and unit
// tests of the correlation engine. (Dry runs layer their writes over the
// real store with store/overlay.)
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
	mu sync.Mutex
	// parts holds the entries by partition.
	parts map[string]*partition
	// now is the clock PutIf judges expiry by (the other methods take now).
	now func() time.Time
}

var _ store.Index = (*Index)(nil)

// New returns an empty index.
func New() *Index { return &Index{parts: map[string]*partition{}, now: time.Now} }

// partition is one partition's entries.
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
	c := *e
	c.Value = bytes.Clone(e.Value)
	e = &c
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
	if err := store.CheckPrev(cur, err, prev); err != nil {
		return err
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
	}
	return store.Entry{}, store.ErrNotFound
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
	return store.Entry{}, store.ErrNotFound
}

// own returns the entry and whether there is one.
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
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.parts[part]
	if p == nil || len(p.keys) == 0 {
		return nil, nil
	}
	size := 0
	for _, e := range p.entries {
		size += len(e.Value)
	}
	out := make([]store.Entry, 0, len(p.keys))
	buf := make([]byte, 0, size)
	for _, k := range p.keys {
		if e := p.entries[k]; live(e, now) {
			c := *e
			start := len(buf)
			buf = append(buf, e.Value...)
			c.Value = buf[start:len(buf):len(buf)]
			out = append(out, c)
		}
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
	if p := x.parts[part]; p != nil {
		p.remove(sort)
	}
	return nil
}
