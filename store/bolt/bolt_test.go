package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"hubtriage/internal/storetest"
	"hubtriage/store"
	"hubtriage/store/bolt"
)

// openTemp opens a store in a fresh file; the caller closes it.
func openTemp(t *testing.T) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// TestContract runs the suite without fsync: it checks behaviour, not
// durability, and fsync would make it slow on most disks.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenPersists(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	s, path := openTemp(t)
	c, err := s.Claim(ctx, "k", store.Meta{FindingID: "f", Rule: "r"}, now, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, c, now); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Claim(ctx, "pending", store.Meta{}, now, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	entry := store.Entry{Partition: "p", Sort: "s", Value: []byte("v"), ExpiresAt: now.Add(time.Hour)}
	if err := s.Put(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	r, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusNotified || !r.LastNotifiedAt.Equal(now) || r.Meta.Rule != "r" || r.Notifications != 1 {
		t.Fatalf("record after reopen = %+v", r)
	}
	if _, err := s.Claim(ctx, "k", store.Meta{}, now.Add(time.Minute), time.Hour, time.Minute); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("claim after reopen = %v, want ErrDuplicate", err)
	}
	// A claim found at Open was left by a process that is gone (bbolt lets
	// one process hold the file): it is taken over at once, so the
	// notification is delivered by the next run instead of after the lease.
	if s.TookOver() != 1 {
		t.Fatalf("TookOver() = %d, want 1", s.TookOver())
	}
	if err := s.Confirm(ctx, pending, now); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("confirm a claim made before reopening = %v, want ErrClaimLost", err)
	}
	if c, err := s.Claim(ctx, "pending", store.Meta{}, now, time.Hour, time.Minute); err != nil || c.Kind != store.KindNew {
		t.Fatalf("claim of a taken-over key within its lease = %+v, %v; want a new claim", c, err)
	}
	got, err := s.GetEntry(ctx, "p", "s", now)
	if err != nil || string(got.Value) != "v" || !got.ExpiresAt.Equal(entry.ExpiresAt) {
		t.Fatalf("entry after reopen = %+v, %v", got, err)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	_, err := bolt.Open(path, bolt.Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the file", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := bolt.Open(path, bolt.Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the first store closed: %v", err)
	}
	s2.Close()
}

// writeRaw creates a bbolt file with the given buckets and keys, as another
// program or a future hubtriage might have.
func writeRaw(t *testing.T, path string, content map[string]map[string]string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for bucket, kv := range content {
			b, err := tx.CreateBucket([]byte(bucket))
			if err != nil {
				return err
			}
			for k, v := range kv {
				if err := b.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesForeignFiles(t *testing.T) {
	tests := []struct {
		name    string
		content map[string]map[string]string
		wantErr string
	}{
		{"future format", map[string]map[string]string{"meta": {"format": "2"}}, `format version "2", this build reads "1"`},
		{"no format", map[string]map[string]string{"meta": {}}, `format version "", this build reads "1"`},
		{"another program's file", map[string]map[string]string{"users": {"alice": "x"}}, `bucket "users" but no format version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			writeRaw(t, path, tt.content)
			s, err := bolt.Open(path, bolt.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want ErrFormat")
			}
			if !errors.Is(err, bolt.ErrFormat) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Open = %q, want ErrFormat naming %s and saying %q", err, path, tt.wantErr)
			}
			// The refused file is left closed: it can be opened again.
			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatalf("file still locked after a refused Open: %v", err)
			}
			db.Close()
		})
	}
}

func TestOpenErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a bolt file\n"), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "no-such-dir", "state.db"), garbage} {
		s, err := bolt.Open(path, bolt.Options{})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded, want an error", path)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %q, want an error naming %s", err, path)
		}
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	s, _ := openTemp(t)
	defer s.Close()
	for _, e := range []store.Entry{
		{Partition: "old", Sort: "gone", ExpiresAt: now.Add(-time.Minute)},
		{Partition: "old", Sort: "kept", ExpiresAt: now.Add(time.Minute)},
		{Partition: "forever", Sort: "kept"},
	} {
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	abandoned, err := s.Claim(ctx, "abandoned", store.Meta{}, now.Add(-time.Hour), time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "in-flight", store.Meta{}, now, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, "notified", store.Meta{}, now.Add(-2*time.Hour), time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, c, now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	n, err := s.Purge(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("Purge deleted %d, want 2 (one expired entry, one abandoned claim)", n)
	}
	// Read at an earlier now: only a deleted entry is missing.
	if _, err := s.GetEntry(ctx, "old", "gone", now.Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("purged entry still readable: %v", err)
	}
	for _, k := range [][2]string{{"old", "kept"}, {"forever", "kept"}} {
		if _, err := s.GetEntry(ctx, k[0], k[1], now); err != nil {
			t.Fatalf("live entry %v purged: %v", k, err)
		}
	}
	if err := s.Confirm(ctx, abandoned, now); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("Confirm of a purged abandoned claim = %v, want ErrClaimLost", err)
	}
	if _, err := s.Claim(ctx, "in-flight", store.Meta{}, now, time.Hour, time.Minute); !errors.Is(err, store.ErrInFlight) {
		t.Fatalf("live claim purged: Claim = %v, want ErrInFlight", err)
	}
	if _, err := s.Get(ctx, "notified"); err != nil {
		t.Fatalf("notified record purged: %v", err)
	}
	if n, err := s.Purge(ctx, now); err != nil || n != 0 {
		t.Fatalf("second Purge = %d, %v; want 0, nil", n, err)
	}
}

// TestEntriesDropsExpired checks that reading a partition deletes what
// expired on the wall clock, but not what is only expired at the caller's
// now.
func TestEntriesDropsExpired(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	s, _ := openTemp(t)
	defer s.Close()
	for _, e := range []store.Entry{
		{Partition: "p", Sort: "expired", ExpiresAt: now.Add(-time.Hour)},
		{Partition: "p", Sort: "later", ExpiresAt: now.Add(time.Hour)},
	} {
		if err := s.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil { // (the buffer holds them until then)
		t.Fatal(err)
	}
	if es, err := s.Entries(ctx, "p", now.Add(2*time.Hour)); err != nil || len(es) != 0 {
		t.Fatalf("Entries after both expired = %v, %v; want none", es, err)
	}
	es, err := s.Entries(ctx, "p", now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Sort != "later" {
		t.Fatalf("Entries at an earlier now = %+v, want only the entry not yet expired on the wall clock", es)
	}
	if n, err := s.Purge(ctx, now); err != nil || n != 0 {
		t.Fatalf("Purge after Entries = %d, %v; want 0 left to purge", n, err)
	}
}

// TestReadOnlyWritesNothing: a store opened ReadOnly reads what is there
// and leaves the file byte for byte as it was, even when its reads meet
// expired entries (which a writable store purges as it reads) or claims.
func TestReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	now := time.Now().UTC()
	put := func(sort string, exp time.Time) {
		if err := s.Put(ctx, store.Entry{Partition: "p", Sort: sort, Value: []byte(sort), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	put("expired", now.Add(-time.Hour))
	put("live", now.Add(time.Hour))
	if _, err := s.Claim(ctx, "held", store.Meta{}, now, time.Hour, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	es, err := ro.Entries(ctx, "p", now)
	if err != nil || len(es) != 1 || es[0].Sort != "live" {
		t.Fatalf("Entries = %+v, %v; want the live entry", es, err)
	}
	if err := ro.Put(ctx, store.Entry{Partition: "p", Sort: "x"}); !errors.Is(err, bolt.ErrReadOnly) {
		t.Fatalf("Put on a read-only store = %v, want ErrReadOnly", err)
	}
	if _, err := ro.Claim(ctx, "k", store.Meta{}, now, time.Hour, time.Hour); !errors.Is(err, bolt.ErrReadOnly) {
		t.Fatalf("Claim on a read-only store = %v, want ErrReadOnly", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a read-only store changed the state file")
	}
}

// TestBufferedIndexWritesCommitOnClose: index writes are buffered (reads
// see them at once) and committed by Flush or Close, so a reopened store
// holds them.
func TestBufferedIndexWritesCommitOnClose(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	now := time.Now()
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Put(ctx, store.Entry{Partition: "p", Sort: k, Value: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutIf(ctx, store.Entry{Partition: "p", Sort: "a", Value: []byte("a2")}, []byte("a")); err != nil {
		t.Fatalf("PutIf on a buffered entry: %v", err)
	}
	if err := s.Delete(ctx, "p", "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Entries(ctx, "p", now); len(got) != 2 || string(got[0].Value) != "a2" {
		t.Fatalf("buffered view = %+v, want a2, c", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Entries(ctx, "p", now)
	if err != nil || len(got) != 2 || string(got[0].Value) != "a2" || got[1].Sort != "c" {
		t.Fatalf("reopened store: %+v, %v; want a2, c", got, err)
	}
}
