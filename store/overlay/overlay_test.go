package overlay

import (
	"context"
	"errors"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/memstore"
	"hubtriage/store/storetest"
)

func TestOverlaySeesBaseWritesTopOnly(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base, top := memstore.New(), memstore.New()
	for _, s := range []string{"a", "c", "e"} {
		if err := base.Put(ctx, store.Entry{Partition: "p", Sort: s, Value: []byte("base-" + s)}); err != nil {
			t.Fatal(err)
		}
	}
	x := New(base, top, func() time.Time { return now })

	if err := x.Put(ctx, store.Entry{Partition: "p", Sort: "b", Value: []byte("top-b")}); err != nil {
		t.Fatal(err)
	}
	if err := x.Put(ctx, store.Entry{Partition: "p", Sort: "c", Value: []byte("top-c")}); err != nil {
		t.Fatal(err)
	}
	if err := x.Delete(ctx, "p", "e"); err != nil {
		t.Fatal(err)
	}
	got, err := x.Entries(ctx, "p", now)
	if err != nil {
		t.Fatal(err)
	}
	var view []string
	for _, e := range got {
		view = append(view, e.Sort+"="+string(e.Value))
	}
	if want := "a=base-a b=top-b c=top-c"; join(view) != want {
		t.Errorf("view = %s, want %s", join(view), want)
	}
	if _, err := x.GetEntry(ctx, "p", "e", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted entry still visible: %v", err)
	}
	// The base is untouched.
	if e, err := base.GetEntry(ctx, "p", "c", now); err != nil || string(e.Value) != "base-c" {
		t.Errorf("base changed: %q %v", e.Value, err)
	}
	if _, err := base.GetEntry(ctx, "p", "e", now); err != nil {
		t.Errorf("base entry deleted: %v", err)
	}
}

func TestOverlayPutIf(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := memstore.New()
	base.Put(ctx, store.Entry{Partition: "p", Sort: "s", Value: []byte("v1")})
	x := New(base, memstore.New(), func() time.Time { return now })
	e := store.Entry{Partition: "p", Sort: "s", Value: []byte("v2")}
	if err := x.PutIf(ctx, e, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutIf(nil) over a base entry = %v, want conflict", err)
	}
	if err := x.PutIf(ctx, e, []byte("v0")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutIf(wrong prev) = %v, want conflict", err)
	}
	if err := x.PutIf(ctx, e, []byte("v1")); err != nil {
		t.Errorf("PutIf(base value) = %v", err)
	}
	if err := x.PutIf(ctx, store.Entry{Partition: "p", Sort: "t", Value: []byte("x")}, nil); err != nil {
		t.Errorf("PutIf(nil) on a missing entry = %v", err)
	}
	x.Delete(ctx, "p", "s")
	if err := x.PutIf(ctx, e, nil); err != nil {
		t.Errorf("PutIf(nil) after delete = %v", err)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

// combo is a store.Store whose Index is an overlay, so the contract suite
// every backend passes judges the overlay too.
type combo struct {
	store.Dedup
	*Index
}

func (combo) Close() error { return nil }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return combo{memstore.New(), New(memstore.New(), memstore.New(), nil)}
	})
}

// TestExpiredTopEntryHidesBase: an entry this layer rewrote and that has
// since expired does not let the base's older entry show through.
func TestExpiredTopEntryHidesBase(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := memstore.New()
	base.Put(ctx, store.Entry{Partition: "p", Sort: "s", Value: []byte("old")})
	x := New(base, memstore.New(), func() time.Time { return now })
	x.Put(ctx, store.Entry{Partition: "p", Sort: "s", Value: []byte("new"), ExpiresAt: now.Add(-time.Second)})
	if _, err := x.GetEntry(ctx, "p", "s", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetEntry = %v, want not found", err)
	}
	if got, _ := x.Entries(ctx, "p", now); len(got) != 0 {
		t.Errorf("Entries = %+v, want none", got)
	}
}
