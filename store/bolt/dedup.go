package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hubtriage/store"
)

// recordsPage bounds how many keys one read transaction of Records visits;
// fn runs between transactions, so it may write to the store.
const recordsPage = 1000

// load reads key's item; ok is false when the key has none.
func load(tx *bbolt.Tx, key string) (it item, ok bool, err error) {
	v := tx.Bucket(bucketDedup).Get([]byte(key))
	if v == nil {
		return item{}, false, nil
	}
	it, err = decodeItem(key, v)
	return it, err == nil, err
}

// save writes key's item.
func save(tx *bbolt.Tx, key string, it item) error {
	return tx.Bucket(bucketDedup).Put([]byte(key), encodeItem(it))
}

// drop deletes key's item.
func drop(tx *bbolt.Tx, key string) error {
	return tx.Bucket(bucketDedup).Delete([]byte(key))
}

// Get returns key's record, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := ctx.Err(); err != nil {
		return store.Record{}, err
	}
	var it item
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		it, ok, err = load(tx, key)
		return err
	})
	switch {
	case err != nil:
		return store.Record{}, s.fail(fmt.Sprintf("get %q", key), err)
	case !ok || !it.HasRecord():
		return store.Record{}, store.ErrNotFound
	}
	return it.Record(key, s.wallNow()), nil
}

// Claim grants the right to send one notification for key; see store.Dedup.
func (s *Store) Claim(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error) {
	switch {
	case key == "":
		return store.Claim{}, errors.New("claim: empty key")
	case lease <= 0:
		return store.Claim{}, fmt.Errorf("claim %q: lease must be positive (got %s)", key, lease)
	}
	if err := ctx.Err(); err != nil {
		return store.Claim{}, err
	}
	if err := s.refused(key, now, window); err != nil {
		return store.Claim{}, err
	}
	token := newToken()
	var c store.Claim
	var outcome error
	err := s.write(func(tx *bbolt.Tx) error {
		it, _, err := load(tx, key)
		if err != nil {
			return err
		}
		c, outcome = it.Claim(key, token, meta, now, window, lease)
		if outcome != nil {
			return nil
		}
		return save(tx, key, it)
	})
	if err != nil {
		return store.Claim{}, s.fail(fmt.Sprintf("claim %q", key), err)
	}
	return c, outcome
}

// refused answers a Claim from a read transaction when the key's state
// refuses it (store.ErrDuplicate or store.ErrInFlight), so that the common
// case, a finding already notified, costs no write. The answer is as of
// the read, a moment the Claim may be ordered at. nil means a write
// transaction must decide.
func (s *Store) refused(key string, now time.Time, window time.Duration) error {
	var outcome error
	err := s.db.View(func(tx *bbolt.Tx) error {
		it, _, err := load(tx, key)
		if err == nil {
			_, outcome = it.Claim(key, "", store.Meta{}, now, window, time.Nanosecond)
		}
		return err
	})
	if err != nil {
		return s.fail(fmt.Sprintf("claim %q", key), err)
	}
	return outcome
}

// Confirm records c as notified at now, or returns store.ErrClaimLost.
func (s *Store) Confirm(ctx context.Context, c store.Claim, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var lost bool
	err := s.write(func(tx *bbolt.Tx) error {
		it, ok, err := load(tx, c.Key)
		lost = !ok || !it.Holds(c.Token)
		if err != nil || lost {
			return err
		}
		it.Confirm(now)
		return save(tx, c.Key, it)
	})
	switch {
	case err != nil:
		return s.fail(fmt.Sprintf("confirm %q", c.Key), err)
	case lost:
		return store.ErrClaimLost
	}
	return nil
}

// Release drops c if it still holds its key, leaving the record as it was.
func (s *Store) Release(ctx context.Context, c store.Claim) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.write(func(tx *bbolt.Tx) error {
		it, ok, err := load(tx, c.Key)
		if err != nil || !ok || !it.Holds(c.Token) {
			return err
		}
		if !it.HasRecord() {
			return drop(tx, c.Key)
		}
		it.DropClaim()
		return save(tx, c.Key, it)
	})
	if err != nil {
		return s.fail(fmt.Sprintf("release %q", c.Key), err)
	}
	return nil
}

// Resolve marks key resolved at now and reports whether it was notified.
// It reads first, so resolving a key that needs no change costs no write.
func (s *Store) Resolve(ctx context.Context, key string, now time.Time) (bool, error) {
	rec, err := s.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case rec.Status != store.StatusNotified:
		return false, nil
	}
	var was bool
	err = s.write(func(tx *bbolt.Tx) error {
		it, ok, err := load(tx, key)
		was = false
		if err != nil || !ok || !it.Resolve(now) {
			return err
		}
		was = true
		return save(tx, key, it)
	})
	if err != nil {
		return false, s.fail(fmt.Sprintf("resolve %q", key), err)
	}
	return was, nil
}

// Forget deletes key's record and any claim on it.
func (s *Store) Forget(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return nil
	}
	if err := s.write(func(tx *bbolt.Tx) error { return drop(tx, key) }); err != nil {
		return s.fail(fmt.Sprintf("forget %q", key), err)
	}
	return nil
}

// Records calls fn for every record, a page at a time, outside any
// transaction.
func (s *Store) Records(ctx context.Context, fn func(store.Record) error) error {
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, last, err := s.recordsPage(after)
		if err != nil {
			return s.fail("list records", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if last == nil {
			return nil
		}
		after = last
	}
}

// recordsPage reads up to recordsPage keys after the key after (from the
// first when nil). last is the last key read, nil at the end of the bucket.
func (s *Store) recordsPage(after []byte) (page []store.Record, last []byte, err error) {
	wall := s.wallNow()
	err = s.db.View(func(tx *bbolt.Tx) error {
		cur := tx.Bucket(bucketDedup).Cursor()
		k, v := cur.First()
		if after != nil {
			k, v = cur.Seek(after)
			if bytes.Equal(k, after) {
				k, v = cur.Next()
			}
		}
		for n := 0; k != nil && n < recordsPage; k, v = cur.Next() {
			n++
			it, err := decodeItem(string(k), v)
			if err != nil {
				return err
			}
			if it.HasRecord() {
				page = append(page, it.Record(string(k), wall))
			}
			last = bytes.Clone(k)
		}
		if k == nil {
			last = nil
		}
		return nil
	})
	return page, last, err
}

// newToken returns a random claim token.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
