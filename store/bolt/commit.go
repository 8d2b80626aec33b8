package bolt

import (
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// maxGroup bounds the writes one transaction commits.
const maxGroup = 1024

// groupCommit runs concurrent writes in shared transactions, one fsync
// for the group. Unlike bbolt's Batch it waits on no timer: a lone write
// commits at once, and writes arriving while a commit is in progress are
// committed together by the next one. One waiting writer at a time leads:
// it takes the queue and commits it, then hands the lead to the first
// writer still queued.
//
// It is kept over bbolt's DB.Batch because it is faster on this store's
// workload, measured with fsync on, alternating the two, on a shared
// 2-core VM (December 2026):
//   - BenchmarkPipelineBolt100k (64 workers), Store.write swapped to
//     DB.Batch: 2.6–9.5x the findings/s of DB.Batch at its defaults
//     (4,523–23,117 vs 1,768–2,437 findings/s, 4 runs each), and 1.0–3.6x
//     Batch with MaxBatchDelay 1ms (4,552–6,979 findings/s).
//   - BenchmarkCommit (every writer always writing), against DB.Batch at
//     its defaults: 7–32x the writes/s with 1 writer, 3–16x with 8,
//     2.2–8.9x with 64 (5 runs each). Batch waits up to MaxBatchDelay
//     (10ms) for a batch to fill, which a lone or slow writer never does.
//     Batch tuned to exactly the number of writers (MaxBatchSize = writers,
//     MaxBatchDelay 1ms) beats it there at 8 and 64 writers (1.2–4.6x),
//     but not in the pipeline, whose workers are not all writing at once
//     (BenchmarkPipelineBolt100k: group commit 0.95–6x that tuning).
type groupCommit struct {
	db      *bbolt.DB
	mu      sync.Mutex
	queue   []*write
	leading bool
}

// write is one queued write transaction function and where its caller
// waits: done gets its result, or lead tells it to commit the queue.
type write struct {
	fn   func(*bbolt.Tx) error
	done chan error
	lead chan struct{}
}

// run commits fn, alone or with concurrent writes. fn may run more than
// once (when another write of its group fails), so it must set its results
// afresh on every call and report dedup outcomes through them, not through
// its error: an error means fn's changes are not committed.
func (g *groupCommit) run(fn func(*bbolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if !g.leading {
		g.leading = true
		w.lead <- struct{}{}
	}
	g.mu.Unlock()
	for {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
			g.commitQueue()
		}
	}
}

// commitQueue commits the queued writes, then passes the lead on.
func (g *groupCommit) commitQueue() {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	group := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.commit(group)

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.leading = false
		return
	}
	g.queue[0].lead <- struct{}{}
}

// commit runs group in one transaction. A write whose fn fails gets its
// error and is dropped; the others are run again without it.
func (g *groupCommit) commit(group []*write) {
	for len(group) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range group {
				if err := call(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, w := range group {
				w.done <- err // nil, or a commit failure all of them share
			}
			return
		}
		group[failed].done <- err
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// call runs fn, turning a panic into an error: the leader runs other
// callers' functions, and a panic escaping it would leave them waiting.
func call(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return fn(tx)
}
