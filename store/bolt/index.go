package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hubtriage/store"
)

// live reports whether an entry expiring at exp exists at now.
func live(exp, now time.Time) bool { return exp.IsZero() || exp.After(now) }

// Put writes or replaces e.
func (s *Store) directPut(ctx context.Context, e store.Entry) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k, v := indexKey(e.Partition, e.Sort), encodeEntry(e)
	if err := s.write(func(tx *bbolt.Tx) error { return tx.Bucket(bucketIndex).Put(k, v) }); err != nil {
		return s.fail(fmt.Sprintf("put (%q, %q)", e.Partition, e.Sort), err)
	}
	return nil
}

// PutIf writes e only if the live value equals prev (prev nil: only if no
// entry is live on the wall clock), else store.ErrConflict.
func (s *Store) directPutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k, v := indexKey(e.Partition, e.Sort), encodeEntry(e)
	var conflict bool
	err := s.write(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIndex)
		conflict = !matches(b.Get(k), prev, s.wallNow())
		if conflict {
			return nil
		}
		return b.Put(k, v)
	})
	switch {
	case err != nil:
		return s.fail(fmt.Sprintf("put (%q, %q)", e.Partition, e.Sort), err)
	case conflict:
		return store.ErrConflict
	}
	return nil
}

// matches reports whether the stored value cur is what PutIf expects:
// absent or expired when prev is nil, else live and equal to prev.
func matches(cur, prev []byte, wall time.Time) bool {
	present := cur != nil && live(expiresAt(cur), wall)
	if !present || prev == nil {
		return !present && prev == nil
	}
	d := decoder{b: cur}
	d.time()
	return d.err == nil && bytes.Equal(d.b, prev)
}

// GetEntry returns the entry under (partition, sort) if it is live at now.
func (s *Store) directGetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	if err := store.CheckKey(partition, sort); err != nil {
		return store.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return store.Entry{}, err
	}
	var e store.Entry
	var found bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketIndex).Get(indexKey(partition, sort))
		if v == nil {
			return nil
		}
		var err error
		e, err = decodeEntry(partition, sort, v)
		found = err == nil
		return err
	})
	switch {
	case err != nil:
		return store.Entry{}, s.fail("get entry", err)
	case !found || !live(e.ExpiresAt, now):
		return store.Entry{}, store.ErrNotFound
	}
	return e, nil
}

// Entries returns partition's entries live at now, ordered by Sort. Entries
// it finds expired on the wall clock are deleted on the way, best effort:
// Purge reports the errors this ignores.
func (s *Store) directEntries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	if partition == "" {
		return nil, errors.New("index: empty partition")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Entry
	var dead [][]byte
	wall := s.wallNow()
	err := s.db.View(func(tx *bbolt.Tx) error {
		out, dead = nil, nil
		prefix := partitionPrefix(partition)
		cur := tx.Bucket(bucketIndex).Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			e, err := decodeEntry(partition, string(k[len(prefix):]), v)
			if err != nil {
				return err
			}
			if !live(e.ExpiresAt, wall) {
				dead = append(dead, bytes.Clone(k))
			}
			if live(e.ExpiresAt, now) {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("list partition %q", partition), err)
	}
	if len(dead) > 0 {
		_ = s.write(func(tx *bbolt.Tx) error { return deleteExpired(tx.Bucket(bucketIndex), dead, wall) })
	}
	return out, nil
}

// deleteExpired deletes those of keys that are still expired at now (a Put
// may have renewed one since it was read).
func deleteExpired(b *bbolt.Bucket, keys [][]byte, now time.Time) error {
	for _, k := range keys {
		if v := b.Get(k); v != nil && !live(expiresAt(v), now) {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes one entry; removing a missing one is not an error.
func (s *Store) directDelete(ctx context.Context, partition, sort string) error {
	if err := store.CheckKey(partition, sort); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k := indexKey(partition, sort)
	if err := s.write(func(tx *bbolt.Tx) error { return tx.Bucket(bucketIndex).Delete(k) }); err != nil {
		return s.fail(fmt.Sprintf("delete (%q, %q)", partition, sort), err)
	}
	return nil
}

var _ store.Batcher = (*Store)(nil)

// Apply writes ws in one transaction (one fsync): all or none.
func (s *Store) directApply(ctx context.Context, ws []store.Write) error {
	for _, w := range ws {
		if err := store.CheckKey(w.Entry.Partition, w.Entry.Sort); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.write(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIndex)
		for _, w := range ws {
			k := indexKey(w.Entry.Partition, w.Entry.Sort)
			var err error
			if w.Delete {
				err = b.Delete(k)
			} else {
				err = b.Put(k, encodeEntry(w.Entry))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.fail(fmt.Sprintf("apply %d index writes", len(ws)), err)
	}
	return nil
}
