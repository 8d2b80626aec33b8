package writeback

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/bolt"
	"hubtriage/store/memstore"
	"hubtriage/store/storetest"
)

type combo struct {
	store.Dedup
	*Index
}

func (combo) Close() error { return nil }

// TestContract runs the store contract with writes held in the buffer, and
// with a buffer so small that nearly every write flushes.
func TestContract(t *testing.T) {
	for _, scratch := range []bool{false, true} {
		for _, limit := range []int{0, 1, 3} {
			name := map[int]string{0: "buffered", 1: "flush every write", 3: "flush every third"}[limit]
			if scratch {
				name += " on scratch"
			}
			t.Run(name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) store.Store {
					return combo{memstore.New(), New(memstore.New(), Options{Limit: limit, Scratch: scratch})}
				})
			})
		}
	}
}

// TestFlushWritesOneBatchToBolt: buffered writes reach bbolt only on
// Flush (or when the buffer is full), as one transaction, and a reopened
// store holds them.
func TestFlushWritesOneBatchToBolt(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, store.Entry{Partition: "p", Sort: "old", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	x := New(db, Options{})
	for _, s := range []string{"a", "b", "c"} {
		if err := x.Put(ctx, store.Entry{Partition: "p", Sort: s, Value: []byte(s)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Delete(ctx, "p", "old"); err != nil {
		t.Fatal(err)
	}
	if err := x.PutIf(ctx, store.Entry{Partition: "p", Sort: "a", Value: []byte("a2")}, []byte("a")); err != nil {
		t.Fatalf("PutIf on a buffered entry: %v", err)
	}
	if got, _ := db.Entries(ctx, "p", now); len(got) != 1 {
		t.Fatalf("base has %d entries before Flush, want only the old one", len(got))
	}
	if got, _ := x.Entries(ctx, "p", now); len(got) != 3 || string(got[0].Value) != "a2" {
		t.Fatalf("buffered view = %+v, want a2, b, c", got)
	}
	if err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if x.Pending() != 0 {
		t.Errorf("%d writes pending after Flush", x.Pending())
	}
	db.Close()
	db, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Entries(ctx, "p", now)
	if err != nil || len(got) != 3 || string(got[0].Value) != "a2" || got[1].Sort != "b" || got[2].Sort != "c" {
		t.Errorf("reopened store: %+v, %v; want a2, b, c", got, err)
	}
}

// failing is a base whose writes fail.
type failing struct{ *memstore.Store }

func (failing) Put(context.Context, store.Entry) error { return errors.New("disk full") }

// TestFailedFlushKeepsTheWrites: nothing buffered is dropped when the base
// refuses it; a later Flush writes it.
func TestFailedFlushKeepsTheWrites(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	x := New(failing{mem}, Options{})
	if err := x.Put(ctx, store.Entry{Partition: "p", Sort: "s", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := x.Flush(ctx); err == nil {
		t.Fatal("Flush to a failing base = nil, want the error")
	}
	if x.Pending() != 1 {
		t.Fatalf("%d pending after a failed flush, want 1", x.Pending())
	}
	if _, err := x.GetEntry(ctx, "p", "s", time.Now()); err != nil {
		t.Errorf("entry lost from the view after a failed flush: %v", err)
	}
	x.base = mem
	if err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.GetEntry(ctx, "p", "s", time.Now()); err != nil {
		t.Errorf("entry not in base after the retried flush: %v", err)
	}
}
