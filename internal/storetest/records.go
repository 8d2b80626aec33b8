package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hubtriage/store"
)

// manyRecords is more than one page for every backend (bolt pages by 1000,
// DynamoDB scans by 1 MB).
const manyRecords = 2500

// runRecords checks store.Dedup.Records.
func runRecords(t *testing.T, open Opener) {
	t.Run("visits every record once", func(t *testing.T) { testRecordsAll(t, fresh(t, open)) })
	t.Run("fn error stops the walk", func(t *testing.T) { testRecordsStop(t, fresh(t, open)) })
	t.Run("fn may forget what it visits", func(t *testing.T) { testRecordsForget(t, fresh(t, open)) })
	t.Run("empty store", func(t *testing.T) { testRecordsEmpty(t, fresh(t, open)) })
}

// key names the i-th of many records.
func key(i int) string { return fmt.Sprintf("rule/channel/finding-%05d", i) }

// populate notifies manyRecords keys at t0, from a few goroutines so that
// slow backends fill up in reasonable time.
func populate(t *testing.T, s store.Store, t0 time.Time) {
	t.Helper()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < manyRecords; i += workers {
				if err := claimConfirm(s, key(i), t0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// claimConfirm is notify for goroutines that must not call t.Fatal.
func claimConfirm(s store.Store, k string, now time.Time) error {
	ctx := context.Background()
	c, err := s.Claim(ctx, k, meta(k), now, window, lease)
	if err != nil {
		return fmt.Errorf("claim %q: %w", k, err)
	}
	if err := s.Confirm(ctx, c, now); err != nil {
		return fmt.Errorf("confirm %q: %w", k, err)
	}
	return nil
}

func testRecordsAll(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	populate(t, s, t0)
	if _, err := s.Resolve(ctx, key(7), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "claimed-only", t0, store.KindNew) // no record until confirmed

	seen := make(map[string]int, manyRecords)
	err := s.Records(ctx, func(r store.Record) error {
		seen[r.Key]++
		want := notified(r.Key, t0, t0, 1)
		if r.Key == key(7) {
			want.Status, want.ResolvedAt = store.StatusResolved, t0.Add(time.Hour)
		}
		if d := diffRecord(r, want); d != "" {
			return fmt.Errorf("record %q differs:%s", r.Key, d)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if len(seen) != manyRecords {
		t.Errorf("Records visited %d keys, want %d", len(seen), manyRecords)
	}
	for i := range manyRecords {
		if n := seen[key(i)]; n != 1 {
			t.Errorf("Records visited %q %d times, want once", key(i), n)
		}
	}
	if seen["claimed-only"] != 0 {
		t.Errorf("Records visited a key that was claimed but never notified")
	}
}

func testRecordsStop(t *testing.T, s store.Store) {
	t0 := base()
	for i := range 20 {
		notify(t, s, key(i), t0, store.KindNew)
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.Records(context.Background(), func(store.Record) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Records = %v, want the error fn returned", err)
	}
	if calls != 10 {
		t.Fatalf("fn called %d times, want the walk to stop at the 10th", calls)
	}
}

// testRecordsForget is what reconcile does: resolve each record from inside
// the walk. It must neither deadlock nor skip records.
func testRecordsForget(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	populate(t, s, t0)
	visited := 0
	err := s.Records(ctx, func(r store.Record) error {
		visited++
		if visited%2 == 0 {
			if _, err := s.Resolve(ctx, r.Key, t0.Add(time.Hour)); err != nil {
				return err
			}
		}
		return s.Forget(ctx, r.Key)
	})
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if visited != manyRecords {
		t.Fatalf("visited %d records while forgetting them, want %d", visited, manyRecords)
	}
	testRecordsEmpty(t, s)
}

func testRecordsEmpty(t *testing.T, s store.Store) {
	err := s.Records(context.Background(), func(r store.Record) error {
		return fmt.Errorf("visited %q in a store that should be empty", r.Key)
	})
	if err != nil {
		t.Fatal(err)
	}
}
