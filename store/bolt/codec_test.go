package bolt

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"hubtriage/store"
)

func sampleItems() []item {
	t0 := time.Date(2025, 3, 1, 12, 30, 15, 123456789, time.UTC)
	return []item{
		{Rec: store.Record{Key: "k"}}, // unsettled, no claim
		{
			Rec: store.Record{Key: "rule/email/arn:aws:securityhub:eu-west-1:1:finding/ü", Status: store.StatusNotified,
				Meta:            store.Meta{FindingID: "f", ProductArn: "p", Rule: "règle", Channel: "email"},
				FirstNotifiedAt: t0, LastNotifiedAt: t0.Add(48 * time.Hour), Notifications: 300},
			Token: "0123456789abcdef", Kind: store.KindRenotify, LeaseUntil: t0.Add(49 * time.Hour),
			Pending: store.Meta{FindingID: "f2", Rule: "r2"},
		},
		{Rec: store.Record{Key: "epoch", Status: store.StatusResolved, FirstNotifiedAt: time.Unix(0, 0).UTC(),
			LastNotifiedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ResolvedAt: t0}},
	}
}

func TestItemRoundTrip(t *testing.T) {
	for _, want := range sampleItems() {
		got, err := decodeItem(want.Rec.Key, encodeItem(want))
		if err != nil {
			t.Fatalf("decode %q: %v", want.Rec.Key, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", want.Rec.Key, got, want)
		}
	}
}

// TestItemTruncated checks that every proper prefix of an encoded item is
// reported as damaged, never decoded as a shorter item or a panic.
func TestItemTruncated(t *testing.T) {
	b := encodeItem(sampleItems()[1])
	for n := range len(b) {
		if _, err := decodeItem("k", b[:n]); err == nil {
			t.Fatalf("decoding the first %d of %d bytes succeeded", n, len(b))
		}
	}
	if _, err := decodeItem("k", append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("decoding with a trailing byte succeeded")
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for _, want := range []store.Entry{
		{Partition: "p", Sort: "s"},
		{Partition: "p", Sort: "s", Value: []byte{0, 1, 2}, ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 1, time.UTC)},
	} {
		got, err := decodeEntry(want.Partition, want.Sort, encodeEntry(want))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Value, want.Value) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.ExpiresAt.IsZero() != want.ExpiresAt.IsZero() {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}
	}
}

func FuzzDecodeItem(f *testing.F) {
	for _, it := range sampleItems() {
		f.Add(encodeItem(it))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeItem("k", b)
		if err != nil {
			return
		}
		// Whatever decodes must survive being written back unchanged.
		again, err := decodeItem("k", encodeItem(it))
		if err != nil {
			t.Fatalf("re-decode %x: %v", b, err)
		}
		if !reflect.DeepEqual(again, it) {
			t.Fatalf("decode, encode, decode of %x changed %+v to %+v", b, it, again)
		}
	})
}
