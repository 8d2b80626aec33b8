// Package scratch is the store layer of a dry run: a store.Store that
// reads through to a real store and keeps every write to itself, in
// memory. A dry run is the normal pipeline over this layer (and a sender
// that sends nothing), so it makes the decisions a real run would, sees
// its own effects (the second standard's copy of a control finding is a
// duplicate in a dry run too), and writes nothing to the real store.
package scratch

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hubtriage/store"
)

// Store layers writes over a base store that it only reads. It passes the
// store contract suite (over an empty base) and is safe for concurrent use.
// Conditional writes are atomic within this process (a dry run is one
// process). Claims held in the base are not seen: a dry run predicts what a
// run that took them over would do.
type Store struct {
	base    store.Store
	wallNow func() time.Time

	mu    sync.Mutex
	items map[string]*store.Item // dedup keys this layer read or wrote
	index map[string]map[string]slot

	writeMu sync.Mutex // serialises index writes, so PutIf is atomic
	tokens  atomic.Uint64
}

// slot is this layer's version of one index entry; deleted hides the base's.
type slot struct {
	entry   store.Entry
	deleted bool
}

var _ store.Store = (*Store)(nil)

// New layers an empty scratch layer over base; now (nil: time.Now) is the
// clock the contract's "now"-less clauses are judged by.
func New(base store.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{base: base, wallNow: now, items: map[string]*store.Item{}, index: map[string]map[string]slot{}}
}

// Close closes the base store.
func (s *Store) Close() error { return s.base.Close() }

// Flush has nothing to make durable: a scratch layer's writes are meant to
// be lost.
func (s *Store) Flush(context.Context) error { return nil }

// with runs fn on key's item under the lock, reading the base's record
// first (without the lock) the first time the key is touched.
func (s *Store) with(ctx context.Context, key string, fn func(*store.Item) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if it, ok := s.items[key]; ok {
		defer s.mu.Unlock()
		return fn(it)
	}
	s.mu.Unlock()
	rec, err := s.base.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		rec = store.Record{}
	case err != nil:
		return err
	}
	rec.Claimed = false
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok { // (else another goroutine loaded it meanwhile)
		it = &store.Item{Rec: rec}
		s.items[key] = it
	}
	return fn(it)
}

// Get returns key's record as this layer sees it.
func (s *Store) Get(ctx context.Context, key string) (rec store.Record, err error) {
	err = s.with(ctx, key, func(it *store.Item) error {
		if !it.HasRecord() {
			return store.ErrNotFound
		}
		rec = it.Record(key, s.wallNow())
		return nil
	})
	return rec, err
}

// Claim decides with store.Decide and keeps the claim in this layer.
func (s *Store) Claim(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (c store.Claim, err error) {
	switch {
	case key == "":
		return store.Claim{}, errors.New("claim: empty key")
	case lease <= 0:
		return store.Claim{}, errors.New("claim: lease must be positive")
	}
	err = s.with(ctx, key, func(it *store.Item) error {
		c, err = it.Claim(key, s.newToken(), meta, now, window, lease)
		return err
	})
	return c, err
}

// Confirm records c in this layer.
func (s *Store) Confirm(ctx context.Context, c store.Claim, now time.Time) error {
	return s.with(ctx, c.Key, func(it *store.Item) error {
		if !it.Holds(c.Token) {
			return store.ErrClaimLost
		}
		it.Confirm(now)
		return nil
	})
}

// Release drops c, leaving the record as it was.
func (s *Store) Release(ctx context.Context, c store.Claim) error {
	return s.with(ctx, c.Key, func(it *store.Item) error {
		if it.Holds(c.Token) {
			it.DropClaim()
		}
		return nil
	})
}

// Resolve marks key resolved in this layer.
func (s *Store) Resolve(ctx context.Context, key string, now time.Time) (was bool, err error) {
	err = s.with(ctx, key, func(it *store.Item) error {
		was = it.Resolve(now)
		return nil
	})
	return was, err
}

// Forget hides key's record.
func (s *Store) Forget(ctx context.Context, key string) error {
	return s.with(ctx, key, func(it *store.Item) error {
		*it = store.Item{}
		return nil
	})
}

// Records walks the base's records this layer has not touched, then this
// layer's records.
func (s *Store) Records(ctx context.Context, fn func(store.Record) error) error {
	err := s.base.Records(ctx, func(r store.Record) error {
		s.mu.Lock()
		_, mine := s.items[r.Key]
		s.mu.Unlock()
		if mine {
			return nil
		}
		r.Claimed = false
		return fn(r)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	wall := s.wallNow()
	var recs []store.Record
	for k, it := range s.items {
		if it.HasRecord() {
			recs = append(recs, it.Record(k, wall))
		}
	}
	s.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// newToken is a claim token unique within this layer: nothing outside
// the process ever sees it.
func (s *Store) newToken() string {
	return strconv.FormatUint(s.tokens.Add(1), 36)
}

// Put writes e to this layer.
func (s *Store) Put(ctx context.Context, e store.Entry) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.set(ctx, slot{entry: e.Clone()})
}

// Delete hides an entry.
func (s *Store) Delete(ctx context.Context, partition, sort string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.set(ctx, slot{entry: store.Entry{Partition: partition, Sort: sort}, deleted: true})
}

// PutIf writes e to this layer when the view's live value is prev.
func (s *Store) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.GetEntry(ctx, e.Partition, e.Sort, s.wallNow())
	if err := store.CheckPrev(cur, err, prev); err != nil {
		return err
	}
	return s.set(ctx, slot{entry: e.Clone()})
}

func (s *Store) set(ctx context.Context, sl slot) error {
	if err := store.CheckKey(sl.entry.Partition, sl.entry.Sort); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	part := s.index[sl.entry.Partition]
	if part == nil {
		part = map[string]slot{}
		s.index[sl.entry.Partition] = part
	}
	part[sl.entry.Sort] = sl
	return nil
}

// GetEntry reads this layer, then the base. An entry this layer wrote and
// that has expired hides the base's older one.
func (s *Store) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	if err := store.CheckKey(partition, sort); err != nil {
		return store.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Entry{}, err
	}
	s.mu.Lock()
	sl, ok := s.index[partition][sort]
	s.mu.Unlock()
	switch {
	case !ok:
		return s.base.GetEntry(ctx, partition, sort, now)
	case sl.deleted || !sl.entry.Live(now):
		return store.Entry{}, store.ErrNotFound
	}
	return sl.entry.Clone(), nil
}

// Entries merges the partition of both layers, this one winning.
func (s *Store) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	if partition == "" {
		return nil, errors.New("index: empty partition")
	}
	base, err := s.base.Entries(ctx, partition, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	part := s.index[partition]
	if len(part) == 0 {
		return base, nil
	}
	out := make([]store.Entry, 0, len(base)+len(part))
	for _, e := range base {
		if _, ok := part[e.Sort]; !ok {
			out = append(out, e)
		}
	}
	for _, sl := range part {
		if !sl.deleted && sl.entry.Live(now) {
			out = append(out, sl.entry.Clone())
		}
	}
	slices.SortFunc(out, func(a, b store.Entry) int { return strings.Compare(a.Sort, b.Sort) })
	return out, nil
}

// Apply applies ws to this layer, in order.
func (s *Store) Apply(ctx context.Context, ws []store.Write) error {
	for _, w := range ws {
		if err := store.CheckKey(w.Entry.Partition, w.Entry.Sort); err != nil {
			return err
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, w := range ws {
		sl := slot{entry: w.Entry.Clone(), deleted: w.Delete}
		if err := s.set(ctx, sl); err != nil {
			return err
		}
	}
	return nil
}
