package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/store"
	"hubtriage/store/bolt"
)

func testDaemon(t *testing.T, st store.Index, interval time.Duration) *Daemon {
	t.Helper()
	opt := Options{Index: st, ReconcileInterval: interval}
	if err := opt.defaults(); err != nil {
		t.Fatal(err)
	}
	return &Daemon{opt: opt, owner: owner()}
}

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestCheckpointOnlyMovesForward(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b := testDaemon(t, st, 0), testDaemon(t, st, 0)
	if got, err := a.advance(ctx, base.Add(time.Hour)); err != nil || !got.Equal(base.Add(time.Hour)) {
		t.Fatalf("advance = %s, %v", got, err)
	}
	if got, err := b.advance(ctx, base); err != nil || !got.Equal(base.Add(time.Hour)) {
		t.Errorf("a replica moved the checkpoint back: %s, %v", got, err)
	}

	// Replicas racing: the latest time wins whatever the order.
	var wg sync.WaitGroup
	for i := range 20 {
		d := testDaemon(t, st, 0)
		wg.Go(func() {
			if _, err := d.advance(ctx, base.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _, err := a.loadCheckpoint(ctx); err != nil || !got.Equal(base.Add(19*time.Hour)) {
		t.Errorf("after racing advances: %s, %v; want the latest", got, err)
	}
}

func TestUnreadableCheckpointIsAnError(t *testing.T) {
	st := openStore(t)
	if err := st.Put(context.Background(), store.Entry{Partition: CheckpointPartition, Sort: DefaultName, Value: []byte("yesterday")}); err != nil {
		t.Fatal(err)
	}
	_, _, err := testDaemon(t, st, 0).loadCheckpoint(context.Background())
	if err == nil || !strings.Contains(err.Error(), `value "yesterday"`) {
		t.Errorf("loadCheckpoint = %v; want an error naming the stored value", err)
	}
}

func TestReconcileLeaseOncePerInterval(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	a, b := testDaemon(t, st, time.Hour), testDaemon(t, st, time.Hour)
	for i, c := range []struct {
		d    *Daemon
		want bool
	}{{a, true}, {b, false}, {a, false}} {
		if got, err := c.d.takeLease(ctx); err != nil || got != c.want {
			t.Errorf("take %d = %v, %v; want %v", i, got, err, c.want)
		}
	}
	// Pollers with other names (other rules) have their own lease.
	other := testDaemon(t, st, time.Hour)
	other.opt.Name = "other"
	if got, err := other.takeLease(ctx); err != nil || !got {
		t.Errorf("other poller's lease = %v, %v; want taken", got, err)
	}
}
