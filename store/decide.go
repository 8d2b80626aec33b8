package store

import "time"

// Decide is the claim decision table, the one every backend and the dry
// run's scratch layer apply: given a key's record (zero Status:
// never notified), whether another claim's lease is still running at now,
// and the rule's window, it returns the kind of notification a Claim may
// send, or ErrDuplicate (notified less than window ago) or ErrInFlight
// (another worker holds the key). A duplicate wins over an in-flight claim:
// a renotification racing a recorded notification is not worth a retry.
func Decide(rec Record, claimed bool, now time.Time, window time.Duration) (Kind, error) {
	switch {
	case rec.Status == StatusNotified && now.Sub(rec.LastNotifiedAt) < window:
		return "", ErrDuplicate
	case claimed:
		return "", ErrInFlight
	case rec.Status == StatusNotified:
		return KindRenotify, nil
	case rec.Status == StatusResolved:
		return KindRecurrence, nil
	}
	return KindNew, nil
}

// Item is what an in-process backend (the embedded file, the in-memory
// store, the dry run's scratch layer) keeps for one dedup key: the
// record (Status "" while the key was never notified) and the claim held on
// it, if any. Claim writes only the claim fields and Confirm only then
// writes the record, which is what lets Release drop a claim without
// undoing a Resolve made meanwhile. Item is not safe for concurrent use;
// its backend serialises access.
type Item struct {
	Rec        Record
	Token      string
	Kind       Kind
	LeaseUntil time.Time
	Pending    Meta // meta of the held claim, stored on Confirm
}

// HasRecord reports whether the key was ever notified (a record exists).
func (it *Item) HasRecord() bool { return it.Rec.Status != "" }

// Holds reports whether token is the claim held on the item.
func (it *Item) Holds(token string) bool { return it.Token != "" && it.Token == token }

// DropClaim forgets the held claim.
func (it *Item) DropClaim() {
	it.Token, it.Kind, it.LeaseUntil, it.Pending = "", "", time.Time{}, Meta{}
}

// Record is the caller's view of the item under key at wall-clock time wall.
func (it *Item) Record(key string, wall time.Time) Record {
	r := it.Rec
	r.Key = key
	r.Claimed = it.Token != "" && wall.Before(it.LeaseUntil)
	return r
}

// Claim applies a Claim at now to the item (see Decide), recording token
// as the held claim when granted.
func (it *Item) Claim(key, token string, meta Meta, now time.Time, window, lease time.Duration) (Claim, error) {
	kind, err := Decide(it.Rec, it.Token != "" && now.Before(it.LeaseUntil), now, window)
	if err != nil {
		return Claim{}, err
	}
	c := Claim{Key: key, Token: token, Kind: kind}
	if kind != KindNew {
		c.Prev = it.Rec
		c.Prev.Key, c.Prev.Claimed = key, false
	}
	it.Token, it.Kind, it.LeaseUntil, it.Pending = token, kind, now.Add(lease), meta
	return c, nil
}

// Confirm records the held claim as notified at now. A renotification
// continues the open period; anything else starts one.
func (it *Item) Confirm(now time.Time) {
	if it.Kind != KindRenotify || !it.HasRecord() {
		it.Rec.FirstNotifiedAt, it.Rec.Notifications = now, 0
	}
	it.Rec.Status, it.Rec.LastNotifiedAt, it.Rec.Meta = StatusNotified, now, it.Pending
	it.Rec.Notifications++
	it.DropClaim()
}

// Resolve marks a notified item resolved at now and reports whether it was
// notified.
func (it *Item) Resolve(now time.Time) bool {
	if it.Rec.Status != StatusNotified {
		return false
	}
	it.Rec.Status, it.Rec.ResolvedAt = StatusResolved, now
	return true
}
