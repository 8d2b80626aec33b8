package pipeline

import (
	"context"
	"sync"
	"time"

	"hubtriage/store"
)

// shadow is what a dry run would have recorded so far, layered over the
// real store so that later findings of the same run see it: the second
// standard's copy of a control finding is a duplicate in a dry run too.
type shadow struct {
	mu sync.Mutex
	m  map[string]store.Record
}

func newShadow() *shadow { return &shadow{m: map[string]store.Record{}} }

// get returns the shadowed record, else the stored one.
func (s *shadow) get(ctx context.Context, st store.Dedup, key string) (store.Record, error) {
	s.mu.Lock()
	rec, ok := s.m[key]
	s.mu.Unlock()
	if ok {
		return rec, nil
	}
	return st.Get(ctx, key)
}

func (s *shadow) notified(key string, kind store.Kind, prev store.Record, now time.Time) {
	rec := store.Record{Key: key, Status: store.StatusNotified, FirstNotifiedAt: now, LastNotifiedAt: now, Notifications: 1}
	if kind == store.KindRenotify {
		rec.FirstNotifiedAt, rec.Notifications = prev.FirstNotifiedAt, prev.Notifications+1
	}
	s.set(rec)
}

func (s *shadow) resolved(rec store.Record, now time.Time) {
	rec.Status, rec.ResolvedAt = store.StatusResolved, now
	s.set(rec)
}

func (s *shadow) set(rec store.Record) {
	s.mu.Lock()
	s.m[rec.Key] = rec
	s.mu.Unlock()
}
