package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// TestGroupCommitFailureIsolated queues writes behind a blocked one so that
// they commit as one group, one of which fails: only that one reports an
// error and loses its change; the others are committed.
func TestGroupCommitFailureIsolated(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	g := &groupCommit{db: db}

	const queued, failing = 20, 7
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.run(func(tx *bbolt.Tx) error {
			close(entered)
			<-release
			return tx.Bucket([]byte("b")).Put([]byte("first"), []byte("1"))
		})
	}()

	<-entered
	boom := errors.New("boom")
	errs := make([]error, queued)
	var wg sync.WaitGroup
	for i := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.run(func(tx *bbolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%02d", i), []byte("v")); err != nil {
					return err
				}
				if i == failing {
					return boom
				}
				return nil
			})
		}()
	}
	waitQueued(g, queued)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("blocked write: %v", err)
	}

	for i, err := range errs {
		switch {
		case i == failing && !errors.Is(err, boom):
			t.Errorf("failing write returned %v, want its own error", err)
		case i != failing && err != nil:
			t.Errorf("write %d returned %v, want nil", i, err)
		}
	}
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range queued {
			got := b.Get(fmt.Appendf(nil, "k%02d", i)) != nil
			if got != (i != failing) {
				t.Errorf("key k%02d stored = %t, want %t", i, got, i != failing)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitQueued waits until n writes are queued behind the leader.
func waitQueued(g *groupCommit, n int) {
	for {
		g.mu.Lock()
		q := len(g.queue)
		g.mu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}

// TestGroupCommitPanicIsError checks that a panicking write reports an
// error instead of leaving the lead taken and every later write waiting.
func TestGroupCommitPanicIsError(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := &groupCommit{db: db}
	if err := g.run(func(*bbolt.Tx) error { panic("bad value") }); err == nil || !strings.Contains(err.Error(), "bad value") {
		t.Fatalf("panicking write = %v, want an error carrying the panic", err)
	}
	if err := g.run(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
}

// BenchmarkCommit compares groupCommit with bbolt's DB.Batch on the store's
// write path: concurrent writers, fsync on, each write a read-modify-write
// of its own key like Claim and Confirm. One op is one committed write.
// batch is DB.Batch at its defaults; batch-sized is DB.Batch tuned to this
// benchmark's exact concurrency, which no caller of the store knows. The
// results are in groupCommit's comment.
func BenchmarkCommit(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("group/writers=%d", writers), func(b *testing.B) {
			benchCommit(b, writers, func(db *bbolt.DB) func(func(*bbolt.Tx) error) error {
				g := &groupCommit{db: db}
				return g.run
			})
		})
		b.Run(fmt.Sprintf("batch/writers=%d", writers), func(b *testing.B) {
			benchCommit(b, writers, func(db *bbolt.DB) func(func(*bbolt.Tx) error) error { return db.Batch })
		})
		b.Run(fmt.Sprintf("batch-sized/writers=%d", writers), func(b *testing.B) {
			benchCommit(b, writers, func(db *bbolt.DB) func(func(*bbolt.Tx) error) error {
				db.MaxBatchDelay = time.Millisecond
				db.MaxBatchSize = writers
				return db.Batch
			})
		})
	}
}

func benchCommit(b *testing.B, writers int, committer func(*bbolt.DB) func(func(*bbolt.Tx) error) error) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "c.db"), 0o600, &bbolt.Options{FreelistType: bbolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	commit := committer(db)
	value := make([]byte, 200)
	var seq atomic.Int64
	write := func() error {
		key := fmt.Appendf(nil, "rule/email/finding-%d", seq.Add(1))
		return commit(func(tx *bbolt.Tx) error {
			bk := tx.Bucket([]byte("b"))
			_ = bk.Get(key)
			return bk.Put(key, value)
		})
	}
	b.ReportAllocs()
	b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	if writers == 1 {
		for range b.N {
			if err := write(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := write(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
