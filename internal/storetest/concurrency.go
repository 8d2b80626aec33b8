package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hubtriage/store"
)

// racers is how many goroutines contend for one key.
const racers = 50

// runConcurrency checks "exactly one of any number of concurrent Claim calls
// on one key succeeds" and PutIf's single winner, with real goroutines.
func runConcurrency(t *testing.T, open Opener) {
	t.Run("one claim wins", func(t *testing.T) { testClaimRace(t, fresh(t, open)) })
	t.Run("claim confirm loop notifies once", func(t *testing.T) { testClaimConfirmLoop(t, fresh(t, open)) })
	t.Run("one renotify wins", func(t *testing.T) { testRenotifyRace(t, fresh(t, open)) })
	t.Run("one takeover wins", func(t *testing.T) { testTakeoverRace(t, fresh(t, open)) })
	t.Run("put if has one winner", func(t *testing.T) { testPutIfRace(t, fresh(t, open)) })
	t.Run("put if counter loses no update", func(t *testing.T) { testPutIfCounter(t, fresh(t, open)) })
}

// race runs fn on n goroutines released at once and returns the errors
// they reported.
func race(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// claimRace has racers goroutines claim key at now and checks that exactly
// one gets a claim of kind want and the rest a dedup outcome.
func claimRace(t *testing.T, s store.Store, key string, now time.Time, want store.Kind) store.Claim {
	t.Helper()
	claims := make([]store.Claim, racers)
	errs := race(racers, func(i int) error {
		var err error
		claims[i], err = s.Claim(context.Background(), key, meta(key), now, window, lease)
		return err
	})
	var won []store.Claim
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, claims[i])
		case !errors.Is(err, store.ErrInFlight) && !errors.Is(err, store.ErrDuplicate):
			t.Fatalf("racer %d: Claim = %v, want success, ErrInFlight or ErrDuplicate", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d concurrent claims succeeded, want exactly 1", len(won), racers)
	}
	if won[0].Kind != want {
		t.Fatalf("winning claim kind = %q, want %q", won[0].Kind, want)
	}
	return won[0]
}

func testClaimRace(t *testing.T, s store.Store) {
	t0 := base()
	c := claimRace(t, s, "k", t0, store.KindNew)
	mustConfirm(t, s, c, t0)
	wantRecord(t, s, notified("k", t0, t0, 1))
}

// testClaimConfirmLoop is the pipeline under load: every worker sees the
// same finding over and over and notifies whenever its claim succeeds.
func testClaimConfirmLoop(t *testing.T, s store.Store) {
	const rounds = 20
	t0 := base()
	var sent atomic.Int32
	errs := race(racers, func(int) error {
		ctx := context.Background()
		for range rounds {
			c, err := s.Claim(ctx, "k", meta("k"), t0, window, lease)
			if errors.Is(err, store.ErrInFlight) || errors.Is(err, store.ErrDuplicate) {
				continue
			}
			if err != nil {
				return err
			}
			sent.Add(1)
			if err := s.Confirm(ctx, c, t0); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	if n := sent.Load(); n != 1 {
		t.Fatalf("%d notifications sent by %d workers × %d rounds, want exactly 1", n, racers, rounds)
	}
	wantRecord(t, s, notified("k", t0, t0, 1))
}

func testRenotifyRace(t *testing.T, s store.Store) {
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	t1 := t0.Add(window)
	c := claimRace(t, s, "k", t1, store.KindRenotify)
	mustConfirm(t, s, c, t1)
	wantRecord(t, s, notified("k", t0, t1, 2))
}

func testTakeoverRace(t *testing.T, s store.Store) {
	t0 := base()
	stale := mustClaim(t, s, "k", t0, store.KindNew)
	c := claimRace(t, s, "k", t0.Add(lease), store.KindNew)
	if err := s.Confirm(context.Background(), stale, t0.Add(lease)); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("Confirm(stale) after takeover race = %v, want ErrClaimLost", err)
	}
	mustConfirm(t, s, c, t0.Add(lease))
	wantRecord(t, s, notified("k", t0.Add(lease), t0.Add(lease), 1))
}

func testPutIfRace(t *testing.T, s store.Store) {
	t0 := base()
	errs := race(racers, func(i int) error {
		e := store.Entry{Partition: "lock", Sort: "poller", Value: []byte(strconv.Itoa(i))}
		return s.PutIf(context.Background(), e, nil)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both won PutIf(prev nil)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("racer %d: PutIf = %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer won PutIf(prev nil) on an absent entry")
	}
	wantEntry(t, s, store.Entry{Partition: "lock", Sort: "poller", Value: []byte(strconv.Itoa(winner))}, t0)
}

// testPutIfCounter increments one counter by read-modify-PutIf from many
// goroutines; a lost update shows as a short count.
func testPutIfCounter(t *testing.T, s store.Store) {
	const counters, increments = 10, 10
	t0 := base()
	put(t, s, store.Entry{Partition: "counter", Sort: "n", Value: []byte("0")})
	errs := race(counters, func(int) error {
		for range increments {
			if err := increment(s, t0); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	want := strconv.Itoa(counters * increments)
	wantEntry(t, s, store.Entry{Partition: "counter", Sort: "n", Value: []byte(want)}, t0)
}

// increment adds one to the counter, retrying on conflict.
func increment(s store.Store, now time.Time) error {
	ctx := context.Background()
	for {
		e, err := s.GetEntry(ctx, "counter", "n", now)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(string(e.Value))
		if err != nil {
			return fmt.Errorf("counter value %q: %w", e.Value, err)
		}
		next := store.Entry{Partition: "counter", Sort: "n", Value: []byte(strconv.Itoa(n + 1))}
		err = s.PutIf(ctx, next, e.Value)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}
