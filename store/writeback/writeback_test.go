package writeback

import (
	"context"
	"errors"
	"testing"
	"time"

	"hubtriage/internal/storetest"
	"hubtriage/store"
	"hubtriage/store/memstore"
)

type combo struct {
	store.Dedup
	*Index
}

func (combo) Close() error { return nil }

// TestContract runs the store contract with writes held in the buffer, and
// with a buffer so small that nearly every write flushes.
func TestContract(t *testing.T) {
	for _, limit := range []int{0, 1, 3} {
		name := map[int]string{0: "buffered", 1: "flush every write", 3: "flush every third"}[limit]
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return combo{memstore.New(), New(memstore.New(), Options{Limit: limit})}
			})
		})
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
