// Package storetest is the contract test suite every store.Store backend
// runs, so that the embedded and the DynamoDB backend behave the same for
// the pipeline. Each clause of the store.Dedup and store.Index doc comments
// has a subtest here; the suite drives the backend only through the
// interface and expresses every timing through the now arguments, so it
// never sleeps.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hubtriage/store"
)

// Opener returns a new, empty store for one subtest. Run closes it.
type Opener func(t *testing.T) store.Store

// Run runs the whole contract suite against the backend open returns.
//
// Times given to the backend are whole seconds near the wall clock, so that
// the clauses judged by the backend's clock (Record.Claimed, PutIf's "live")
// can be checked without sleeping: a lease granted at the suite's base time
// is still running on the wall clock, one granted hours before it is not.
func Run(t *testing.T, open Opener) {
	t.Run("dedup", func(t *testing.T) { runDedup(t, open) })
	t.Run("records", func(t *testing.T) { runRecords(t, open) })
	t.Run("index", func(t *testing.T) { runIndex(t, open) })
	t.Run("concurrency", func(t *testing.T) { runConcurrency(t, open) })
}

// Windows and leases used throughout: renotify after a day, claims held for
// five minutes.
const (
	window = 24 * time.Hour
	lease  = 5 * time.Minute
)

// fresh opens a store for one subtest and closes it when the subtest ends.
func fresh(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// base is the suite's "now": the wall clock, truncated to whole seconds so
// that backends storing coarser times still round-trip it.
func base() time.Time {
	return time.Now().UTC().Truncate(time.Second)
}

// meta builds a distinct Meta for a key.
func meta(key string) store.Meta {
	return store.Meta{
		FindingID:  "arn:aws:securityhub:eu-west-1:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/" + key,
		ProductArn: "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
		Rule:       "critical-s3",
		Channel:    "email",
	}
}

// mustClaim claims key or fails the test, checking the kind granted.
func mustClaim(t *testing.T, s store.Store, key string, now time.Time, want store.Kind) store.Claim {
	t.Helper()
	c, err := s.Claim(context.Background(), key, meta(key), now, window, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %s): %v", key, now.Format(time.RFC3339), err)
	}
	if c.Kind != want {
		t.Fatalf("Claim(%q, %s) kind = %q, want %q", key, now.Format(time.RFC3339), c.Kind, want)
	}
	if c.Key != key || c.Token == "" {
		t.Fatalf("Claim(%q) = key %q token %q, want the key and a non-empty token", key, c.Key, c.Token)
	}
	return c
}

// mustConfirm confirms c at now or fails the test.
func mustConfirm(t *testing.T, s store.Store, c store.Claim, now time.Time) {
	t.Helper()
	if err := s.Confirm(context.Background(), c, now); err != nil {
		t.Fatalf("Confirm(%q, %s): %v", c.Key, now.Format(time.RFC3339), err)
	}
}

// notify claims and confirms key at now: one accepted notification.
func notify(t *testing.T, s store.Store, key string, now time.Time, want store.Kind) {
	t.Helper()
	mustConfirm(t, s, mustClaim(t, s, key, now, want), now)
}

// mustGet reads key or fails the test.
func mustGet(t *testing.T, s store.Store, key string) store.Record {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return r
}

// wantNotFound fails the test unless key has no record.
func wantNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %+v, %v; want ErrNotFound", key, r, err)
	}
}

// wantClaimErr fails the test unless claiming key at now fails with want.
func wantClaimErr(t *testing.T, s store.Store, key string, now time.Time, want error) {
	t.Helper()
	c, err := s.Claim(context.Background(), key, meta(key), now, window, lease)
	if !errors.Is(err, want) {
		t.Fatalf("Claim(%q, %s) = %+v, %v; want %v", key, now.Format(time.RFC3339), c, err, want)
	}
}

// diffRecord describes how got differs from want, field by field, comparing
// times with Equal; "" when they are the same.
func diffRecord(got, want store.Record) string {
	var d string
	add := func(field string, g, w any) { d += fmt.Sprintf("\n  %s = %v, want %v", field, g, w) }
	if got.Key != want.Key {
		add("Key", got.Key, want.Key)
	}
	if got.Meta != want.Meta {
		add("Meta", got.Meta, want.Meta)
	}
	if got.Status != want.Status {
		add("Status", got.Status, want.Status)
	}
	for _, f := range []struct {
		name   string
		got, w time.Time
	}{
		{"FirstNotifiedAt", got.FirstNotifiedAt, want.FirstNotifiedAt},
		{"LastNotifiedAt", got.LastNotifiedAt, want.LastNotifiedAt},
		{"ResolvedAt", got.ResolvedAt, want.ResolvedAt},
	} {
		if !f.got.Equal(f.w) {
			add(f.name, f.got, f.w)
		}
	}
	if got.Notifications != want.Notifications {
		add("Notifications", got.Notifications, want.Notifications)
	}
	if got.Claimed != want.Claimed {
		add("Claimed", got.Claimed, want.Claimed)
	}
	return d
}

// wantRecord fails the test unless key's record equals want.
func wantRecord(t *testing.T, s store.Store, want store.Record) {
	t.Helper()
	if d := diffRecord(mustGet(t, s, want.Key), want); d != "" {
		t.Fatalf("Get(%q) differs:%s", want.Key, d)
	}
}

// notified is the record of a key notified n times in a period that began
// at first, last at last.
func notified(key string, first, last time.Time, n int) store.Record {
	return store.Record{Key: key, Meta: meta(key), Status: store.StatusNotified,
		FirstNotifiedAt: first, LastNotifiedAt: last, Notifications: n}
}
