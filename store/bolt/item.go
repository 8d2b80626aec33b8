package bolt

import (
	"time"

	"hubtriage/store"
)

// item is what the file holds for one dedup key: the settled record
// (Status "" while the key was never notified) and the claim held on it,
// if any. Claim writes only the claim fields and Confirm only then settles
// the record, which is what lets Release drop a claim without undoing a
// Resolve made meanwhile.
type item struct {
	rec        store.Record
	token      string
	kind       store.Kind
	leaseUntil time.Time
	pending    store.Meta // meta of the held claim, stored on Confirm
}

// settled reports whether the key was ever notified (a record exists).
func (it *item) settled() bool { return it.rec.Status != "" }

// holds reports whether token is the claim held on the item.
func (it *item) holds(token string) bool { return it.token != "" && it.token == token }

// dropClaim forgets the held claim.
func (it *item) dropClaim() {
	it.token, it.kind, it.leaseUntil, it.pending = "", "", time.Time{}, store.Meta{}
}

// record is the caller's view of the item at wall-clock time wall.
func (it *item) record(wall time.Time) store.Record {
	r := it.rec
	r.Claimed = it.token != "" && wall.Before(it.leaseUntil)
	return r
}

// claim applies a Claim at now to it, returning the claim or the dedup
// outcome (ErrDuplicate, ErrInFlight) that refuses it.
func (it *item) claim(key, token string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error) {
	if it.rec.Status == store.StatusNotified && now.Sub(it.rec.LastNotifiedAt) < window {
		return store.Claim{}, store.ErrDuplicate
	}
	if it.token != "" && now.Before(it.leaseUntil) {
		return store.Claim{}, store.ErrInFlight
	}
	c := store.Claim{Key: key, Token: token, Kind: store.KindNew}
	switch it.rec.Status {
	case store.StatusNotified:
		c.Kind, c.Prev = store.KindRenotify, it.rec
	case store.StatusResolved:
		c.Kind, c.Prev = store.KindRecurrence, it.rec
	}
	it.token, it.kind, it.leaseUntil, it.pending = token, c.Kind, now.Add(lease), meta
	return c, nil
}

// confirm settles the held claim as notified at now. A renotification
// continues the open period; anything else starts one.
func (it *item) confirm(now time.Time) {
	if it.kind != store.KindRenotify || !it.settled() {
		it.rec.FirstNotifiedAt, it.rec.Notifications = now, 0
	}
	it.rec.Status, it.rec.LastNotifiedAt, it.rec.Meta = store.StatusNotified, now, it.pending
	it.rec.Notifications++
	it.dropClaim()
}

// resolve marks a notified item resolved at now and reports whether it was
// notified.
func (it *item) resolve(now time.Time) bool {
	if it.rec.Status != store.StatusNotified {
		return false
	}
	it.rec.Status, it.rec.ResolvedAt = store.StatusResolved, now
	return true
}
