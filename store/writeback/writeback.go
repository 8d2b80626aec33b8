// Package writeback puts an in-memory write buffer in front of an index
// that one process alone writes (bbolt, which one process holds locked),
// so that a stream of small index writes costs one transaction per batch
// instead of one (and one fsync) each.
//
// Reads see the buffer first, so the process sees its own writes at once;
// Flush makes them durable. Writes not yet flushed are lost if the process
// dies: callers flush before they record progress that depends on them
// (the pipeline flushes before a run returns, and so before a daemon moves
// its checkpoint or replay exits).
package writeback

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"hubtriage/store"
)

// Options configures an Index.
type Options struct {
	// Limit is how many buffered writes trigger a flush (default 4096).
	Limit int
	// Now is the clock PutIf judges liveness by (default time.Now), as the
	// base backend would.
	Now func() time.Time
}

// Index buffers writes to base. Safe for concurrent use; conditional
// writes are atomic within this process, which must be base's only writer
// of the partitions it writes through the Index.
type Index struct {
	base  store.Index
	opt   Options
	mu    sync.RWMutex
	dirty map[string]map[string]slot // partition -> sort -> latest write
	n     int
}

// slot is the latest buffered write of one entry.
type slot struct {
	entry   store.Entry
	deleted bool
}

var _ store.Index = (*Index)(nil)

// New buffers writes to base.
func New(base store.Index, opt Options) *Index {
	if opt.Limit <= 0 {
		opt.Limit = 4096
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Index{base: base, opt: opt, dirty: map[string]map[string]slot{}}
}

// Put buffers e.
func (x *Index) Put(ctx context.Context, e store.Entry) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.set(ctx, slot{entry: e.Clone()})
}

// Delete buffers the removal of an entry.
func (x *Index) Delete(ctx context.Context, partition, sort string) error {
	if err := store.CheckKey(partition, sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.set(ctx, slot{entry: store.Entry{Partition: partition, Sort: sort}, deleted: true})
}

// PutIf buffers e when the current value equals prev (prev nil: when no
// entry is live at Options.Now), else store.ErrConflict.
func (x *Index) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	cur, err := x.get(ctx, e.Partition, e.Sort, x.opt.Now())
	if err := store.CheckPrev(cur, err, prev); err != nil {
		return err
	}
	return x.set(ctx, slot{entry: e.Clone()})
}

// Apply buffers ws, in order, or (when a key is invalid) none of them.
func (x *Index) Apply(ctx context.Context, ws []store.Write) error {
	for _, w := range ws {
		if err := store.CheckKey(w.Entry.Partition, w.Entry.Sort); err != nil {
			return err
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range ws {
		if err := x.set(ctx, slot{entry: w.Entry.Clone(), deleted: w.Delete}); err != nil {
			return err
		}
	}
	return nil
}

// set records a write (x.mu held) and flushes when the buffer is full.
func (x *Index) set(ctx context.Context, s slot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	part := x.dirty[s.entry.Partition]
	if part == nil {
		part = map[string]slot{}
		x.dirty[s.entry.Partition] = part
	}
	if _, ok := part[s.entry.Sort]; !ok {
		x.n++
	}
	part[s.entry.Sort] = s
	if x.n >= x.opt.Limit {
		return x.flush(ctx)
	}
	return nil
}

// GetEntry reads the buffer, then base.
//
// The buffer is read under the lock, base without it: a read that misses
// the buffer is ordered before any write made while it reads base (or
// after, if a flush brought it to base), never sees half a flush, and does
// not hold up writers for the length of a read of base.
func (x *Index) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	x.mu.RLock()
	s, ok := x.dirty[partition][sort]
	x.mu.RUnlock()
	if !ok {
		return x.base.GetEntry(ctx, partition, sort, now)
	}
	if s.deleted || !s.entry.Live(now) {
		return store.Entry{}, store.ErrNotFound
	}
	return s.entry.Clone(), nil
}

// get reads the buffer, then base (x.mu held). A buffered entry that has
// expired hides base's older one.
func (x *Index) get(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	if s, ok := x.dirty[partition][sort]; ok {
		if s.deleted || !s.entry.Live(now) {
			return store.Entry{}, store.ErrNotFound
		}
		return s.entry.Clone(), nil
	}
	return x.base.GetEntry(ctx, partition, sort, now)
}

// Entries merges the buffered writes of the partition over base's entries.
func (x *Index) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	x.mu.RLock()
	part := make([]slot, 0, len(x.dirty[partition]))
	for _, s := range x.dirty[partition] {
		part = append(part, s)
	}
	x.mu.RUnlock()
	base, err := x.base.Entries(ctx, partition, now) // (without the lock: see GetEntry)
	if err != nil || len(part) == 0 {
		return base, err
	}
	mine := make(map[string]bool, len(part))
	out := make([]store.Entry, 0, len(base)+len(part))
	for _, s := range part {
		mine[s.entry.Sort] = true
		if !s.deleted && s.entry.Live(now) {
			out = append(out, s.entry.Clone())
		}
	}
	for _, e := range base {
		if !mine[e.Sort] {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sort < out[j].Sort })
	return out, nil
}

// Flush writes the buffered writes to base, in one batch when base is a
// store.Batcher. On error they stay buffered.
func (x *Index) Flush(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.flush(ctx)
}

// Pending is the number of buffered writes.
func (x *Index) Pending() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

func (x *Index) flush(ctx context.Context) error {
	if x.n == 0 {
		return nil
	}
	ws := make([]store.Write, 0, x.n)
	for _, part := range x.dirty {
		for _, s := range part {
			ws = append(ws, store.Write{Entry: s.entry, Delete: s.deleted})
		}
	}
	if err := apply(ctx, x.base, ws); err != nil {
		return fmt.Errorf("flush %d buffered index writes: %w", len(ws), err)
	}
	clear(x.dirty)
	x.n = 0
	return nil
}

// apply writes ws to base, at once when it can.
func apply(ctx context.Context, base store.Index, ws []store.Write) error {
	if b, ok := base.(store.Batcher); ok {
		return b.Apply(ctx, ws)
	}
	for _, w := range ws {
		var err error
		if w.Delete {
			err = base.Delete(ctx, w.Entry.Partition, w.Entry.Sort)
		} else {
			err = base.Put(ctx, w.Entry)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
