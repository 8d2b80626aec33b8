package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Purge deletes what can no longer matter at now: index entries expired at
// now, and claims on never-notified keys whose lease ran out (left by a
// worker that died between Claim and Confirm). It returns how many it
// deleted. Entries already drops the expired entries it comes across;
// Purge also reaches the partitions nobody reads any more.
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.readOnly {
		return 0, ErrReadOnly
	}
	if err := s.Flush(ctx); err != nil {
		return 0, err
	}
	var n int
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n = 0
		dead, err := expiredEntries(tx.Bucket(bucketIndex), now)
		if err != nil {
			return err
		}
		abandoned, err := abandonedClaims(tx.Bucket(bucketDedup), now)
		if err != nil {
			return err
		}
		for _, d := range []struct {
			b    *bbolt.Bucket
			keys [][]byte
		}{{tx.Bucket(bucketIndex), dead}, {tx.Bucket(bucketDedup), abandoned}} {
			for _, k := range d.keys {
				if err := d.b.Delete(k); err != nil {
					return err
				}
			}
			n += len(d.keys)
		}
		return nil
	})
	if err != nil {
		return 0, s.fail("purge", err)
	}
	return n, nil
}

// expiredEntries lists the keys of index entries expired at now.
func expiredEntries(b *bbolt.Bucket, now time.Time) ([][]byte, error) {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		d := decoder{b: v}
		exp := d.time()
		if d.err != nil {
			return fmt.Errorf("decode index key %q: %w", k, d.err)
		}
		if !live(exp, now) {
			keys = append(keys, append([]byte{}, k...))
		}
		return nil
	})
	return keys, err
}

// abandonedClaims lists never-notified keys whose claim expired at now.
func abandonedClaims(b *bbolt.Bucket, now time.Time) ([][]byte, error) {
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		it, err := decodeItem(string(k), v)
		if err != nil {
			return err
		}
		if !it.HasRecord() && !now.Before(it.LeaseUntil) {
			keys = append(keys, append([]byte{}, k...))
		}
		return nil
	})
	return keys, err
}

// takeOver drops every claim in b (see Store.TookOver) and returns how many.
func takeOver(b *bbolt.Bucket) (int, error) {
	var held []item
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		it, err := decodeItem(string(k), v)
		if err == nil && it.Token != "" {
			held, keys = append(held, it), append(keys, bytes.Clone(k))
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for i := range held {
		var err error
		if held[i].HasRecord() {
			held[i].DropClaim()
			err = save(b.Tx(), string(keys[i]), held[i])
		} else {
			err = b.Delete(keys[i])
		}
		if err != nil {
			return 0, err
		}
	}
	return len(held), nil
}
