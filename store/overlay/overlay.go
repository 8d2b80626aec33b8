// Package overlay layers an index's writes over a read-only base index, so
// a dry run sees the real correlation state and its own effects while
// recording nothing in the real store. The top layer may live on disk (a
// scratch bbolt file), keeping a dry run over gigabytes of findings small
// in memory.
package overlay

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"hubtriage/store"
)

// tombstone marks, in the top layer, an entry deleted from the view.
var tombstone = []byte("\x00\x00hubtriage-overlay-deleted\x00")

// Index reads top where it has written (or deleted) and base elsewhere,
// and writes only to top. An entry top rewrote and that has expired keeps
// hiding the base's older one, as long as top still holds it (a bbolt top
// purges expired entries as it reads them; the base's older entry of the
// same key has then normally expired too). Conditional writes are atomic within this
// process (a dry run is one process). Safe for concurrent use.
type Index struct {
	base, top store.Index
	now       func() time.Time
	mu        sync.Mutex // serialises PutIf against other writes
}

var _ store.Index = (*Index)(nil)

// New layers top over base; now is the clock PutIf judges liveness by.
func New(base, top store.Index, now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{base: base, top: top, now: now}
}

// Put writes e to the top layer.
func (x *Index) Put(ctx context.Context, e store.Entry) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.top.Put(ctx, e)
}

// Delete hides the entry from the view without touching base.
func (x *Index) Delete(ctx context.Context, partition, sort string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.top.Put(ctx, store.Entry{Partition: partition, Sort: sort, Value: tombstone})
}

// GetEntry reads the view.
func (x *Index) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	// Read the top layer with the zero time, so that its expired entries
	// are seen too: they hide the base's older entry of the same key.
	e, err := x.top.GetEntry(ctx, partition, sort, time.Time{})
	switch {
	case err == nil && (bytes.Equal(e.Value, tombstone) || !e.Live(now)):
		return store.Entry{}, store.ErrNotFound
	case err == nil:
		return e, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Entry{}, err
	}
	return x.base.GetEntry(ctx, partition, sort, now)
}

// PutIf writes e when the view's current value equals prev.
func (x *Index) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	cur, err := x.GetEntry(ctx, e.Partition, e.Sort, x.now())
	if err := store.CheckPrev(cur, err, prev); err != nil {
		return err
	}
	return x.top.Put(ctx, e)
}

// Entries merges the partition of both layers, top winning, ordered by Sort.
func (x *Index) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	top, err := x.top.Entries(ctx, partition, time.Time{}) // expired ones too, as in GetEntry
	if err != nil {
		return nil, err
	}
	base, err := x.base.Entries(ctx, partition, now)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(top))
	out := make([]store.Entry, 0, len(top)+len(base))
	for _, e := range top {
		seen[e.Sort] = true
		if !bytes.Equal(e.Value, tombstone) && e.Live(now) {
			out = append(out, e)
		}
	}
	for _, e := range base {
		if !seen[e.Sort] {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sort < out[j].Sort })
	return out, nil
}
