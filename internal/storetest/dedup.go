package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"hubtriage/store"
)

// runDedup checks the store.Dedup contract one clause at a time, each on a
// fresh store.
func runDedup(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"get missing is not found", testGetMissing},
		{"new then duplicate within window", testNewThenDuplicate},
		{"renotify after window keeps period", testRenotify},
		{"claim alone creates no record", testClaimCreatesNoRecord},
		{"resolve then recurrence starts new period", testRecurrence},
		{"resolve is idempotent", testResolveIdempotent},
		{"resolve missing or never-notified key", testResolveMissing},
		{"release of new claim forgets key", testReleaseNew},
		{"release of renotify claim keeps record", testReleaseRenotify},
		{"release of recurrence claim keeps resolved", testReleaseRecurrence},
		{"release keeps resolve made meanwhile", testReleaseAfterResolve},
		{"release of lost, confirmed or released claim is a no-op", testReleaseLost},
		{"in flight until lease expires then taken over", testLeaseTakeover},
		{"takeover of renotify claim keeps prev", testTakeoverRenotify},
		{"expired claim not taken over still confirms", testExpiredClaimConfirms},
		{"confirm twice loses", testConfirmTwice},
		{"claimed flag follows backend clock", testClaimedFlag},
		{"meta round trip", testMetaRoundTrip},
		{"forget", testForget},
		{"invalid arguments", testClaimInvalid},
		{"cancelled context", testCancelledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, fresh(t, open)) })
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	wantNotFound(t, s, "never-seen")
}

func testNewThenDuplicate(t *testing.T, s store.Store) {
	t0 := base()
	c := mustClaim(t, s, "k", t0, store.KindNew)
	if d := diffRecord(c.Prev, store.Record{}); d != "" {
		t.Fatalf("KindNew claim has a Prev:%s", d)
	}
	mustConfirm(t, s, c, t0.Add(time.Second))
	wantRecord(t, s, notified("k", t0.Add(time.Second), t0.Add(time.Second), 1))
	wantClaimErr(t, s, "k", t0.Add(time.Second), store.ErrDuplicate)
	wantClaimErr(t, s, "k", t0.Add(time.Second+window-time.Second), store.ErrDuplicate)
	// A clock that went backwards is still within the window.
	wantClaimErr(t, s, "k", t0.Add(-time.Hour), store.ErrDuplicate)
}

func testRenotify(t *testing.T, s store.Store) {
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	before := mustGet(t, s, "k")

	// The window has elapsed at exactly LastNotifiedAt+window.
	t1 := t0.Add(window)
	c := mustClaim(t, s, "k", t1, store.KindRenotify)
	if d := diffRecord(c.Prev, before); d != "" {
		t.Fatalf("renotify Prev differs from the record before the claim:%s", d)
	}
	mustConfirm(t, s, c, t1)
	wantRecord(t, s, notified("k", t0, t1, 2))

	// Not again for another window, counted from the renotification.
	wantClaimErr(t, s, "k", t1.Add(window-time.Second), store.ErrDuplicate)
	t2 := t1.Add(window)
	notify(t, s, "k", t2, store.KindRenotify)
	wantRecord(t, s, notified("k", t0, t2, 3))
}

func testClaimCreatesNoRecord(t *testing.T, s store.Store) {
	t0 := base()
	c := mustClaim(t, s, "k", t0, store.KindNew)
	wantNotFound(t, s, "k")
	mustConfirm(t, s, c, t0)
	wantRecord(t, s, notified("k", t0, t0, 1))
}

func testRecurrence(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	notify(t, s, "k", t0.Add(window), store.KindRenotify)
	tr := t0.Add(window + time.Hour)
	was, err := s.Resolve(ctx, "k", tr)
	if err != nil || !was {
		t.Fatalf("Resolve(notified) = %v, %v; want true, nil", was, err)
	}
	resolved := notified("k", t0, t0.Add(window), 2)
	resolved.Status, resolved.ResolvedAt = store.StatusResolved, tr
	wantRecord(t, s, resolved)

	// A resolved key recurs at once, window or not.
	t3 := tr.Add(time.Minute)
	c := mustClaim(t, s, "k", t3, store.KindRecurrence)
	if d := diffRecord(c.Prev, resolved); d != "" {
		t.Fatalf("recurrence Prev differs from the resolved record:%s", d)
	}
	mustConfirm(t, s, c, t3)
	got := mustGet(t, s, "k")
	want := notified("k", t3, t3, 1)
	want.ResolvedAt = got.ResolvedAt // the contract leaves it open
	if d := diffRecord(got, want); d != "" {
		t.Fatalf("after recurrence:%s", d)
	}
	wantClaimErr(t, s, "k", t3.Add(time.Hour), store.ErrDuplicate)
}

func testResolveIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	if was, err := s.Resolve(ctx, "k", t0.Add(time.Hour)); err != nil || !was {
		t.Fatalf("first Resolve = %v, %v; want true, nil", was, err)
	}
	if was, err := s.Resolve(ctx, "k", t0.Add(2*time.Hour)); err != nil || was {
		t.Fatalf("second Resolve = %v, %v; want false, nil", was, err)
	}
	want := notified("k", t0, t0, 1)
	want.Status, want.ResolvedAt = store.StatusResolved, t0.Add(time.Hour)
	wantRecord(t, s, want)
}

func testResolveMissing(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	if was, err := s.Resolve(ctx, "missing", t0); err != nil || was {
		t.Fatalf("Resolve(missing) = %v, %v; want false, nil", was, err)
	}
	wantNotFound(t, s, "missing")
	mustClaim(t, s, "missing", t0, store.KindNew) // nothing was recorded

	c := mustClaim(t, s, "pending", t0, store.KindNew)
	if was, err := s.Resolve(ctx, "pending", t0); err != nil || was {
		t.Fatalf("Resolve(claimed, never notified) = %v, %v; want false, nil", was, err)
	}
	mustConfirm(t, s, c, t0)
	wantRecord(t, s, notified("pending", t0, t0, 1))
}

func testReleaseNew(t *testing.T, s store.Store) {
	t0 := base()
	c := mustClaim(t, s, "k", t0, store.KindNew)
	if err := s.Release(context.Background(), c); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantNotFound(t, s, "k")
	mustClaim(t, s, "k", t0, store.KindNew) // not in flight any more
}

func testReleaseRenotify(t *testing.T, s store.Store) {
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	c := mustClaim(t, s, "k", t0.Add(window), store.KindRenotify)
	if err := s.Release(context.Background(), c); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantRecord(t, s, notified("k", t0, t0, 1))
	mustClaim(t, s, "k", t0.Add(window), store.KindRenotify)
}

func testReleaseRecurrence(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	if _, err := s.Resolve(ctx, "k", t0.Add(time.Minute)); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	before := mustGet(t, s, "k")
	c := mustClaim(t, s, "k", t0.Add(time.Hour), store.KindRecurrence)
	if err := s.Release(ctx, c); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantRecord(t, s, before)
}

func testReleaseAfterResolve(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	c := mustClaim(t, s, "k", t0.Add(window), store.KindRenotify)
	if was, err := s.Resolve(ctx, "k", t0.Add(window+time.Second)); err != nil || !was {
		t.Fatalf("Resolve during claim = %v, %v; want true, nil", was, err)
	}
	if err := s.Release(ctx, c); err != nil {
		t.Fatalf("Release: %v", err)
	}
	want := notified("k", t0, t0, 1)
	want.Status, want.ResolvedAt = store.StatusResolved, t0.Add(window+time.Second)
	wantRecord(t, s, want)
}

func testReleaseLost(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	stale := mustClaim(t, s, "k", t0, store.KindNew)
	fresh := mustClaim(t, s, "k", t0.Add(lease), store.KindNew)
	if err := s.Release(ctx, stale); err != nil {
		t.Fatalf("Release(lost claim) = %v, want nil", err)
	}
	mustConfirm(t, s, fresh, t0.Add(lease)) // the release did not touch it
	if err := s.Release(ctx, fresh); err != nil {
		t.Fatalf("Release(confirmed claim) = %v, want nil", err)
	}
	if err := s.Release(ctx, fresh); err != nil {
		t.Fatalf("second Release = %v, want nil", err)
	}
	wantRecord(t, s, notified("k", t0.Add(lease), t0.Add(lease), 1))
}

func testLeaseTakeover(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	stale := mustClaim(t, s, "k", t0, store.KindNew)
	wantClaimErr(t, s, "k", t0, store.ErrInFlight)
	wantClaimErr(t, s, "k", t0.Add(lease-time.Second), store.ErrInFlight)
	taker := mustClaim(t, s, "k", t0.Add(lease), store.KindNew)
	if taker.Token == stale.Token {
		t.Fatalf("takeover reused the stale token %q", stale.Token)
	}
	if err := s.Confirm(ctx, stale, t0.Add(lease)); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("Confirm(stale) = %v, want ErrClaimLost", err)
	}
	wantNotFound(t, s, "k") // the stale Confirm recorded nothing
	mustConfirm(t, s, taker, t0.Add(lease+time.Second))
	wantRecord(t, s, notified("k", t0.Add(lease+time.Second), t0.Add(lease+time.Second), 1))
}

func testTakeoverRenotify(t *testing.T, s store.Store) {
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	before := mustGet(t, s, "k")
	t1 := t0.Add(window)
	mustClaim(t, s, "k", t1, store.KindRenotify)
	wantClaimErr(t, s, "k", t1.Add(lease-time.Second), store.ErrInFlight)
	c := mustClaim(t, s, "k", t1.Add(lease), store.KindRenotify)
	if d := diffRecord(c.Prev, before); d != "" {
		t.Fatalf("taken-over renotify Prev differs from the record:%s", d)
	}
	mustConfirm(t, s, c, t1.Add(lease))
	wantRecord(t, s, notified("k", t0, t1.Add(lease), 2))
}

func testExpiredClaimConfirms(t *testing.T, s store.Store) {
	t0 := base()
	c := mustClaim(t, s, "k", t0, store.KindNew)
	mustConfirm(t, s, c, t0.Add(10*lease))
	wantRecord(t, s, notified("k", t0.Add(10*lease), t0.Add(10*lease), 1))
}

func testConfirmTwice(t *testing.T, s store.Store) {
	t0 := base()
	c := mustClaim(t, s, "k", t0, store.KindNew)
	mustConfirm(t, s, c, t0)
	if err := s.Confirm(context.Background(), c, t0.Add(time.Second)); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("second Confirm = %v, want ErrClaimLost", err)
	}
	wantRecord(t, s, notified("k", t0, t0, 1))
}

func testClaimedFlag(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "live", t0.Add(-window), store.KindNew)
	mustClaim(t, s, "live", t0, store.KindRenotify) // lease runs past the wall clock
	if r := mustGet(t, s, "live"); !r.Claimed {
		t.Fatalf("Get during an unexpired claim: Claimed = false")
	}

	old := t0.Add(-3 * window)
	notify(t, s, "stale", old, store.KindNew)
	mustClaim(t, s, "stale", old.Add(window), store.KindRenotify) // lease long over
	if r := mustGet(t, s, "stale"); r.Claimed {
		t.Fatalf("Get after the claim's lease expired on the backend clock: Claimed = true")
	}

	c := mustClaim(t, s, "released", t0.Add(-window), store.KindNew)
	mustConfirm(t, s, c, t0.Add(-window))
	c = mustClaim(t, s, "released", t0, store.KindRenotify)
	if err := s.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if r := mustGet(t, s, "released"); r.Claimed {
		t.Fatalf("Get after Release: Claimed = true")
	}
}

func testMetaRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	first := store.Meta{
		FindingID:  "arn:aws:inspector2:eu-west-1:123456789012:finding/0a1b2c3d4e5f",
		ProductArn: "arn:aws:securityhub:eu-west-1::product/aws/inspector",
		Rule:       "règle critique / prod",
		Channel:    "sns:alerts",
	}
	c, err := s.Claim(ctx, "k", first, t0, window, lease)
	if err != nil {
		t.Fatal(err)
	}
	mustConfirm(t, s, c, t0)
	if got := mustGet(t, s, "k").Meta; got != first {
		t.Fatalf("Meta after Confirm = %+v, want %+v", got, first)
	}

	// A released claim's meta is not kept; a confirmed one's replaces it.
	second := store.Meta{FindingID: first.FindingID, Rule: "renamed"}
	c, err = s.Claim(ctx, "k", second, t0.Add(window), window, lease)
	if err != nil {
		t.Fatal(err)
	}
	if c.Prev.Meta != first {
		t.Fatalf("Prev.Meta = %+v, want %+v", c.Prev.Meta, first)
	}
	if err := s.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k").Meta; got != first {
		t.Fatalf("Meta after Release = %+v, want %+v", got, first)
	}
	c, err = s.Claim(ctx, "k", second, t0.Add(window), window, lease)
	if err != nil {
		t.Fatal(err)
	}
	mustConfirm(t, s, c, t0.Add(window))
	if got := mustGet(t, s, "k").Meta; got != second {
		t.Fatalf("Meta after renotify Confirm = %+v, want %+v", got, second)
	}
}

func testForget(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	notify(t, s, "k", t0, store.KindNew)
	for i := range 2 {
		if err := s.Forget(ctx, "k"); err != nil {
			t.Fatalf("Forget #%d: %v", i+1, err)
		}
	}
	wantNotFound(t, s, "k")
	if err := s.Forget(ctx, "never-seen"); err != nil {
		t.Fatalf("Forget(missing): %v", err)
	}
	// Forgotten state is gone: the next claim is new, and a claim held
	// across the Forget no longer holds the key.
	c := mustClaim(t, s, "k", t0, store.KindNew)
	if err := s.Forget(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, c, t0); !errors.Is(err, store.ErrClaimLost) {
		t.Fatalf("Confirm after Forget = %v, want ErrClaimLost", err)
	}
	wantNotFound(t, s, "k")
}

func testClaimInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	tests := []struct {
		name  string
		key   string
		lease time.Duration
	}{
		{"empty key", "", lease},
		{"zero lease", "k", 0},
		{"negative lease", "k", -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.Claim(ctx, tt.key, meta(tt.key), t0, window, tt.lease)
			if err == nil {
				t.Fatalf("Claim = %+v, nil; want an error", c)
			}
			for _, sentinel := range []error{store.ErrDuplicate, store.ErrInFlight, store.ErrNotFound} {
				if errors.Is(err, sentinel) {
					t.Fatalf("Claim error %q is %v; invalid input must not look like a dedup outcome", err, sentinel)
				}
			}
		})
	}
	mustClaim(t, s, "k", t0, store.KindNew) // the rejected claims left nothing behind
}

func testCancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t0 := base()
	if _, err := s.Claim(ctx, "k", meta("k"), t0, window, lease); !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim with a cancelled context = %v, want context.Canceled", err)
	}
	mustClaim(t, s, "k", t0, store.KindNew)
}
