package pipeline

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"hubtriage/store"
)

// shadow is what a dry run would have recorded so far, layered over the
// real store so that later findings of the same run see it: the second
// standard's copy of a control finding is a duplicate in a dry run too.
// Entries are kept compact (about 40 bytes a key) so a dry run over
// millions of findings stays small.
type shadow struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64]shadowRecord
}

type shadowRecord struct {
	status        store.Status
	first, last   int64 // unix nanoseconds
	resolved      int64
	notifications int32
}

func newShadow() *shadow { return &shadow{seed: maphash.MakeSeed(), m: map[uint64]shadowRecord{}} }

func (s *shadow) hash(key string) uint64 { return maphash.String(s.seed, key) }

// get returns the shadowed record, else the stored one.
func (s *shadow) get(ctx context.Context, st store.Dedup, key string) (store.Record, error) {
	s.mu.Lock()
	r, ok := s.m[s.hash(key)]
	s.mu.Unlock()
	if !ok {
		return st.Get(ctx, key)
	}
	return store.Record{
		Key: key, Status: r.status, Notifications: int(r.notifications),
		FirstNotifiedAt: unix(r.first), LastNotifiedAt: unix(r.last), ResolvedAt: unix(r.resolved),
	}, nil
}

func (s *shadow) notified(key string, kind store.Kind, prev store.Record, now time.Time) {
	r := shadowRecord{status: store.StatusNotified, first: nanos(now), last: nanos(now), notifications: 1}
	if kind == store.KindRenotify {
		r.first, r.notifications = nanos(prev.FirstNotifiedAt), int32(prev.Notifications+1)
	}
	s.set(key, r)
}

func (s *shadow) resolved(rec store.Record, now time.Time) {
	s.set(rec.Key, shadowRecord{status: store.StatusResolved, first: nanos(rec.FirstNotifiedAt),
		last: nanos(rec.LastNotifiedAt), resolved: nanos(now), notifications: int32(rec.Notifications)})
}

func (s *shadow) set(key string, r shadowRecord) {
	s.mu.Lock()
	s.m[s.hash(key)] = r
	s.mu.Unlock()
}

func unix(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
