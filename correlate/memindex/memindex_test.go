package memindex

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/memstore"
	"hubtriage/store/storetest"
)

// combo is a store.Store whose Index is a memindex (the Dedup half comes
// from memstore), so the contract suite can judge the index.
type combo struct {
	store.Dedup
	*Index
}

func (combo) Close() error { return nil }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return combo{memstore.New(), New()} })
}

func TestOverlayContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return combo{memstore.New(), Overlay(New())} })
}

// TestOverlayNeverWritesBase: a dry run sees the real entries and its own
// writes and deletions, and leaves the real index untouched.
func TestOverlayNeverWritesBase(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	base := New()
	for _, s := range []string{"a", "b"} {
		if err := base.Put(ctx, store.Entry{Partition: "p", Sort: s, Value: []byte("base-" + s)}); err != nil {
			t.Fatal(err)
		}
	}
	o := Overlay(base)
	if err := o.Put(ctx, store.Entry{Partition: "p", Sort: "c", Value: []byte("mine")}); err != nil {
		t.Fatal(err)
	}
	if err := o.Delete(ctx, "p", "a"); err != nil {
		t.Fatal(err)
	}
	if err := o.PutIf(ctx, store.Entry{Partition: "p", Sort: "b", Value: []byte("b2")}, []byte("base-b")); err != nil {
		t.Fatalf("PutIf over a base entry: %v", err)
	}
	got, _ := o.Entries(ctx, "p", now)
	if len(got) != 2 || got[0].Sort != "b" || !bytes.Equal(got[0].Value, []byte("b2")) || got[1].Sort != "c" {
		t.Errorf("overlay entries = %+v, want b=b2 and c", got)
	}
	under, _ := base.Entries(ctx, "p", now)
	if len(under) != 2 || string(under[0].Value) != "base-a" || string(under[1].Value) != "base-b" {
		t.Errorf("base changed: %+v", under)
	}
}

// TestOverlayEntriesMergeInOrder: the overlay's writes, deletions and
// expired entries replace the base's entries of the same sort key, and the
// result stays ordered by sort key.
func TestOverlayEntriesMergeInOrder(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	base := New()
	for _, s := range []string{"a", "c", "e", "g"} {
		if err := base.Put(ctx, store.Entry{Partition: "p", Sort: s, Value: []byte("base-" + s)}); err != nil {
			t.Fatal(err)
		}
	}
	o := Overlay(base)
	puts := []store.Entry{
		{Partition: "p", Sort: "b", Value: []byte("b")},
		{Partition: "p", Sort: "c", Value: []byte("c2")},
		{Partition: "p", Sort: "e", Value: []byte("e2"), ExpiresAt: now.Add(-time.Second)}, // hides base-e
		{Partition: "p", Sort: "h", Value: []byte("h")},
	}
	for _, e := range puts {
		if err := o.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Delete(ctx, "p", "g"); err != nil {
		t.Fatal(err)
	}
	got, err := o.Entries(ctx, "p", now)
	if err != nil {
		t.Fatal(err)
	}
	var flat []string
	for _, e := range got {
		flat = append(flat, e.Sort+"="+string(e.Value))
	}
	want := []string{"a=base-a", "b=b", "c=c2", "h=h"}
	if !slices.Equal(flat, want) {
		t.Errorf("entries = %v, want %v", flat, want)
	}
	// Values are the caller's: appending to one does not reach the next.
	got[1].Value = append(got[1].Value, 'x')
	if string(got[2].Value) != "c2" {
		t.Errorf("appending to one value changed the next: %q", got[2].Value)
	}
	again, _ := o.Entries(ctx, "p", now)
	if string(again[1].Value) != "b" {
		t.Errorf("modifying a returned value changed the index: %q", again[1].Value)
	}
}
