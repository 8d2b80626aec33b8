// Package memstore is an in-memory store.Store: the reference
// implementation of the contract, and a fast store for other packages'
// tests. It keeps nothing across processes or restarts.
package memstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"hubtriage/store"
)

// Store is an in-memory store.Store guarded by one mutex.
type Store struct {
	mu      sync.Mutex
	items   map[string]*store.Item
	index   map[string]map[string]store.Entry
	closed  bool
	wallNow func() time.Time
}

var _ store.Store = (*Store)(nil)

// errClosed is returned by every method after Close.
var errClosed = errors.New("memstore: store is closed")

// New returns an empty store.
func New() *Store {
	return &Store{
		items:   make(map[string]*store.Item),
		index:   make(map[string]map[string]store.Entry),
		wallNow: time.Now,
	}
}

// Close makes further calls fail. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// lock takes the mutex and reports a cancelled context or a closed store;
// on error the mutex is not held.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

// record is the caller's view of it.
func (s *Store) record(key string, it *store.Item) store.Record { return it.Record(key, s.wallNow()) }

// Get returns key's record.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := s.lock(ctx); err != nil {
		return store.Record{}, err
	}
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok || !it.HasRecord() {
		return store.Record{}, store.ErrNotFound
	}
	return s.record(key, it), nil
}

// Claim grants the right to notify key, per the store.Dedup contract.
func (s *Store) Claim(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error) {
	if key == "" {
		return store.Claim{}, errors.New("claim: empty key")
	}
	if lease <= 0 {
		return store.Claim{}, errors.New("claim: lease must be positive")
	}
	if err := s.lock(ctx); err != nil {
		return store.Claim{}, err
	}
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok {
		it = &store.Item{}
	}
	c, err := it.Claim(key, newToken(), meta, now, window, lease)
	if err != nil {
		return store.Claim{}, err
	}
	s.items[key] = it
	return c, nil
}

// Confirm records c as notified at now.
func (s *Store) Confirm(ctx context.Context, c store.Claim, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	it, ok := s.items[c.Key]
	if !ok || !it.Holds(c.Token) {
		return store.ErrClaimLost
	}
	it.Confirm(now)
	return nil
}

// Release drops c if it still holds its key.
func (s *Store) Release(ctx context.Context, c store.Claim) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	it, ok := s.items[c.Key]
	if !ok || !it.Holds(c.Token) {
		return nil
	}
	if !it.HasRecord() {
		delete(s.items, c.Key)
		return nil
	}
	it.DropClaim()
	return nil
}

// Resolve marks a notified key resolved at now.
func (s *Store) Resolve(ctx context.Context, key string, now time.Time) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	it, ok := s.items[key]
	return ok && it.Resolve(now), nil
}

// Forget deletes key, claim and all.
func (s *Store) Forget(ctx context.Context, key string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.items, key)
	return nil
}

// Records calls fn for a snapshot of the records, without holding
// the lock, so fn may call the store.
func (s *Store) Records(ctx context.Context, fn func(store.Record) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	recs := make([]store.Record, 0, len(s.items))
	for k, it := range s.items {
		if it.HasRecord() {
			recs = append(recs, s.record(k, it))
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

// newToken returns a random claim token.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Put writes or replaces e.
func (s *Store) Put(ctx context.Context, e store.Entry) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.put(e)
	return nil
}

func (s *Store) put(e store.Entry) {
	p, ok := s.index[e.Partition]
	if !ok {
		p = make(map[string]store.Entry)
		s.index[e.Partition] = p
	}
	p[e.Sort] = e.Clone()
}

// PutIf writes e if the live value equals prev (prev nil: no live entry).
func (s *Store) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cur, ok := s.index[e.Partition][e.Sort]
	ok = ok && cur.Live(s.wallNow())
	if ok != (prev != nil) || (ok && !bytes.Equal(cur.Value, prev)) {
		return store.ErrConflict
	}
	s.put(e)
	return nil
}

// GetEntry returns the live entry under (partition, sort).
func (s *Store) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	if err := store.CheckKey(partition, sort); err != nil {
		return store.Entry{}, err
	}
	if err := s.lock(ctx); err != nil {
		return store.Entry{}, err
	}
	defer s.mu.Unlock()
	e, ok := s.index[partition][sort]
	if !ok || !e.Live(now) {
		return store.Entry{}, store.ErrNotFound
	}
	return e.Clone(), nil
}

// Entries returns partition's live entries ordered by Sort.
func (s *Store) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	if partition == "" {
		return nil, errors.New("index: empty partition")
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.Entry
	for _, e := range s.index[partition] {
		if e.Live(now) {
			out = append(out, e.Clone())
		}
	}
	slices.SortFunc(out, func(a, b store.Entry) int { return strings.Compare(a.Sort, b.Sort) })
	return out, nil
}

// Delete removes one entry.
func (s *Store) Delete(ctx context.Context, partition, sort string) error {
	if err := store.CheckKey(partition, sort); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.index[partition], sort)
	if len(s.index[partition]) == 0 {
		delete(s.index, partition)
	}
	return nil
}

// Flush has nothing to do: every write is applied at once.
func (s *Store) Flush(ctx context.Context) error { return ctx.Err() }

// WithClock makes the store judge what the contract judges by the
// backend's clock (Record.Claimed, PutIf's "live") by now instead of the
// wall clock, for runs and tests on a simulated clock. It returns s.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wallNow = now
	return s
}
