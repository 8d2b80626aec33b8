// Package store defines the state hubtriage keeps between runs: the
// de-duplication records that make "one alert per finding per window" hold,
// and a small partitioned key-value index that correlation and the poller
// build on. Backends live in sibling packages (store/bolt, store/dynamo) and
// all pass the contract suite in internal/storetest.
package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors returned by every backend.
var (
	// ErrNotFound: no live record or entry under that key.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: the key was notified less than the window ago.
	ErrDuplicate = errors.New("already notified within the window")
	// ErrInFlight: another worker holds an unexpired claim on the key.
	ErrInFlight = errors.New("notification in flight elsewhere")
	// ErrClaimLost: the claim expired and was taken over, or was already confirmed or released.
	ErrClaimLost = errors.New("claim lost")
	// ErrConflict: a conditional index write found a different current value.
	ErrConflict = errors.New("conditional write conflict")
)

// Kind says why a claim may notify.
type Kind string

// Claim kinds.
const (
	KindNew        Kind = "new"        // never notified (or not since state was lost)
	KindRenotify   Kind = "renotify"   // notified, still active, window elapsed
	KindRecurrence Kind = "recurrence" // was resolved, came back active
)

// Status is the state of a dedup record.
type Status string

// Record statuses.
const (
	StatusNotified Status = "notified" // last notification accepted by the channel
	StatusResolved Status = "resolved" // finding went inactive; next claim is a recurrence
)

// Meta describes which finding a dedup key stands for; it is stored with the
// record so reconcile can look the finding up again.
type Meta struct {
	FindingID  string
	ProductArn string
	Rule       string
	Channel    string
}

// Record is the recorded state of one dedup key.
type Record struct {
	Key             string
	Meta            Meta
	Status          Status
	FirstNotifiedAt time.Time // first notification of the current open period
	LastNotifiedAt  time.Time
	ResolvedAt      time.Time
	Notifications   int // notifications in the current open period
	// Claimed is true while an unexpired claim is held on the key. Get and
	// Records take no now, so expiry is judged by the backend's clock.
	Claimed bool
}

// Claim is the right, granted by Dedup.Claim, to send one notification for a
// key. It must end with Confirm (sent) or Release (not sent).
type Claim struct {
	Key   string
	Token string
	Kind  Kind
	// Prev is the record as it was before the claim (zero for KindNew).
	Prev Record
}

// Dedup is the de-duplication state.
//
// Contract, for every backend:
//   - All methods are safe for concurrent use by many goroutines and, for
//     shared backends, many processes. Exactly one of any number of concurrent
//     Claim calls on one key succeeds; the others get ErrInFlight or ErrDuplicate.
//   - Claim(key, now, window, lease) returns ErrDuplicate when the key's record
//     is StatusNotified and now-LastNotifiedAt < window; ErrInFlight while
//     another claim's lease (granted at its now, for lease) has not expired;
//     otherwise a Claim of KindNew (no record), KindRenotify (notified, window
//     elapsed) or KindRecurrence (StatusResolved). An expired claim is taken over.
//     lease must be positive and key non-empty, else an error. A claim alone
//     creates no record: until its Confirm, Get returns ErrNotFound for a
//     never-notified key, Records skips it and Resolve returns false.
//   - Confirm(claim, now) records the key as StatusNotified at now: on
//     KindRenotify it keeps FirstNotifiedAt and increments Notifications; on
//     KindNew/KindRecurrence it starts a new period. The record's Meta becomes
//     the meta passed to Claim. ErrClaimLost if the token no longer holds the
//     key (an expired claim not yet taken over still confirms).
//   - Release(claim) drops the claim and leaves the record as it was before it
//     (deleting it for KindNew); a Resolve made meanwhile stays. Releasing a
//     lost claim is a no-op returning nil.
//   - Resolve(key, now) marks a record StatusResolved and reports whether the
//     key was StatusNotified before. Idempotent; a missing key returns false, nil
//     and records nothing; resolving again keeps the first ResolvedAt.
//   - Forget(key) deletes the record; idempotent.
//   - Get returns ErrNotFound for a missing key.
//   - Records calls fn for every record, in no particular order, paging
//     internally; an error from fn stops the walk and is returned. fn may call
//     the store (e.g. Resolve or Forget the record it was given); records
//     written during the walk may or may not be visited.
type Dedup interface {
	Get(ctx context.Context, key string) (Record, error)
	Claim(ctx context.Context, key string, meta Meta, now time.Time, window, lease time.Duration) (Claim, error)
	Confirm(ctx context.Context, c Claim, now time.Time) error
	Release(ctx context.Context, c Claim) error
	Resolve(ctx context.Context, key string, now time.Time) (bool, error)
	Forget(ctx context.Context, key string) error
	Records(ctx context.Context, fn func(Record) error) error
}

// Entry is one item of the index: a value under (Partition, Sort) that
// stops existing at ExpiresAt (zero: never).
type Entry struct {
	Partition string
	Sort      string
	Value     []byte
	ExpiresAt time.Time
}

// Live reports whether e exists at now: it never expires, or expires after now.
func (e Entry) Live(now time.Time) bool { return e.ExpiresAt.IsZero() || e.ExpiresAt.After(now) }

// Clone returns e with its own copy of Value.
func (e Entry) Clone() Entry {
	e.Value = bytes.Clone(e.Value)
	return e
}

// CheckPrev decides a conditional write (Index.PutIf) from a read of the
// current entry: nil when its live value is prev (prev nil: when there is
// none), ErrConflict when not, or the read's error.
func CheckPrev(cur Entry, readErr error, prev []byte) error {
	switch {
	case errors.Is(readErr, ErrNotFound):
		if prev != nil {
			return ErrConflict
		}
		return nil
	case readErr != nil:
		return readErr
	case prev == nil || !bytes.Equal(cur.Value, prev):
		return ErrConflict
	}
	return nil
}

// CheckKey rejects the empty partitions and sort keys the Index contract forbids.
func CheckKey(partition, sort string) error {
	switch {
	case partition == "":
		return errors.New("index: empty partition")
	case sort == "":
		return fmt.Errorf("index partition %q: empty sort key", partition)
	}
	return nil
}

// Index is a partitioned key-value store with expiry, used for the
// per-resource correlation index, correlation state and poll checkpoints.
//
// Contract, for every backend:
//   - Entries(partition, now) returns the partition's entries whose ExpiresAt
//     is zero or after now, ordered by Sort (byte-wise), reading only that
//     partition (no scan of other partitions), paging internally.
//   - Put writes or replaces an entry. Delete removes one; idempotent.
//   - GetEntry returns ErrNotFound for a missing or expired entry.
//   - PutIf writes e only if the current value equals prev (prev nil: only if
//     no live entry exists), otherwise ErrConflict. PutIf takes no now, so
//     "live" is judged by the backend's clock.
//   - Partition and Sort must be non-empty, else an error.
//   - Safe for concurrent use.
type Index interface {
	Put(ctx context.Context, e Entry) error
	PutIf(ctx context.Context, e Entry, prev []byte) error
	GetEntry(ctx context.Context, partition, sort string, now time.Time) (Entry, error)
	Entries(ctx context.Context, partition string, now time.Time) ([]Entry, error)
	Delete(ctx context.Context, partition, sort string) error
}

// Store is everything hubtriage persists.
//
// Contract, beyond Dedup's and Index's: a backend may buffer index writes
// (the embedded store, which one process alone writes, commits them in
// batches); reads always see them. Flush makes every write made before it
// durable, and is called once per batch (the pipeline calls it before Run
// returns, so a daemon moves its checkpoint only past stored state); a
// backend that writes through returns nil. Close flushes, then releases
// the backend.
type Store interface {
	Dedup
	Index
	Flush(ctx context.Context) error
	Close() error
}

// Write is one change of a batch: Entry is put or, with Delete, the entry
// under its Partition and Sort removed.
type Write struct {
	Entry  Entry
	Delete bool
}

// Batcher is implemented by indexes that apply many writes at once.
//
// Contract: Apply applies every write, in order, or (on error) none; the
// result is as if each were a Put or Delete.
type Batcher interface {
	Apply(ctx context.Context, ws []Write) error
}
