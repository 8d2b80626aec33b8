package bolt

import (
	"context"
	"time"

	"hubtriage/store"
	"hubtriage/store/writeback"
)

// The index is written through a write-back buffer (store/writeback): this
// process alone writes the file, so a stream of small index writes (the
// correlation index, parked deliveries, checkpoints) costs one transaction
// per batch instead of one fsync each. Reads see the buffer first; Flush,
// which the pipeline calls once per batch, and Close make it durable.
// Dedup writes are never buffered: a claim and its confirmation are
// committed before the call returns.

// direct is the file's index without the buffer.
type direct struct{ s *Store }

func (d direct) Put(ctx context.Context, e store.Entry) error { return d.s.directPut(ctx, e) }
func (d direct) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	return d.s.directPutIf(ctx, e, prev)
}
func (d direct) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	return d.s.directGetEntry(ctx, partition, sort, now)
}
func (d direct) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	return d.s.directEntries(ctx, partition, now)
}
func (d direct) Delete(ctx context.Context, partition, sort string) error {
	return d.s.directDelete(ctx, partition, sort)
}
func (d direct) Apply(ctx context.Context, ws []store.Write) error { return d.s.directApply(ctx, ws) }

// Put buffers e.
func (s *Store) Put(ctx context.Context, e store.Entry) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.buf.Put(ctx, e)
}

// PutIf buffers e when the current value is prev; see store.Index.
func (s *Store) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.buf.PutIf(ctx, e, prev)
}

// GetEntry reads the buffer, then the file.
func (s *Store) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	return s.buf.GetEntry(ctx, partition, sort, now)
}

// Entries merges the buffer over the file's entries.
func (s *Store) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	return s.buf.Entries(ctx, partition, now)
}

// Delete buffers the removal of an entry.
func (s *Store) Delete(ctx context.Context, partition, sort string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.buf.Delete(ctx, partition, sort)
}

// Apply applies ws to the buffer, all or none (store.Batcher).
func (s *Store) Apply(ctx context.Context, ws []store.Write) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.buf.Apply(ctx, ws)
}

// Flush commits the buffered index writes in one transaction.
func (s *Store) Flush(ctx context.Context) error {
	if s.readOnly {
		return nil
	}
	return s.buf.Flush(ctx)
}

var _ store.Batcher = (*Store)(nil)

func newBuffer(s *Store, now func() time.Time) *writeback.Index {
	return writeback.New(direct{s}, writeback.Options{Now: now})
}
