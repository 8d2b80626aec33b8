package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// Source yields findings, or decode errors, in input order. asff.Stream
// and the Security Hub poller are sources.
type Source func(ctx context.Context, fn func(asff.Result) error) error

// runState is what the stages of one Run share.
type runState struct {
	stages   []namedStage
	breakers *breakers
	later    *results
}

func (p *Pipeline) newRun() *runState {
	r := &runState{breakers: newBreakers(runOpen), later: &results{}}
	r.stages = p.stages(r)
	return r
}

type job struct {
	seq int64
	in  asff.Result
}

type result struct {
	seq       int64
	decisions []Decision
	read      bool
}

// Run feeds every finding of src through the stages and calls emit with
// the decisions in input order, then settles the batch's correlations and
// retries deliveries parked by earlier runs. Findings of one identity are
// processed in order by one worker; different findings run concurrently.
// Cancelling ctx stops reading src, but findings already read are
// finished (not half-sent), so a shutdown neither loses nor doubles an
// alert; the summary's Interrupted says so. Before it returns, Run
// flushes the store, so that a daemon moves its checkpoint only past
// findings whose state is stored.
func (p *Pipeline) Run(ctx context.Context, src Source, emit func(Decision) error) (sum Summary, err error) {
	work := context.WithoutCancel(ctx)
	defer func() {
		if ferr := p.opt.Store.Flush(work); ferr != nil {
			err = errors.Join(err, fmt.Errorf("store state: %w", ferr))
		}
	}()
	r := p.newRun()
	var parked []store.Entry
	parked, err = p.parked(work)
	if err != nil {
		return sum, err
	}
	if err := p.read(ctx, work, r, src, &sum, emit); err != nil {
		return sum, err
	}
	sum.Interrupted = ctx.Err() != nil
	// Correlations changed by the input are settled once: a burst of
	// findings on one resource gives one correlated finding.
	b, err := p.settle(work, r)
	if err != nil {
		return sum, err
	}
	if err := p.emitResult(result{decisions: b.decisions()}, &sum, emit); err != nil {
		return sum, err
	}
	// Deliveries parked before this run are retried after the input, so a
	// finding the input shows resolved is not alerted from a stale copy.
	if !sum.Interrupted {
		if err := p.retryPending(work, r, parked, func(d Decision) error { return p.emitDecision(d, &sum, emit) }); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// read runs src's findings through the stages, emitting decisions in
// input order.
func (p *Pipeline) read(ctx, work context.Context, r *runState, src Source, sum *Summary, emit func(Decision) error) error {
	srcCtx, stop := context.WithCancel(ctx)
	defer stop()
	// inflight bounds the findings read but not yet emitted, and with it
	// memory: a slow finding holds back output, never the whole input.
	inflight := make(chan struct{}, max(4*p.opt.Workers, 512))
	results := make(chan result, cap(inflight))
	var srcErr error
	go func() {
		srcErr = p.feed(srcCtx, work, r, src, results, inflight)
		close(results)
	}()
	if err := p.collect(results, inflight, sum, emit); err != nil {
		stop()
		for range results { // let the feeder and workers drain
		}
		return err
	}
	return srcErr
}

// feed reads src and hands each result to a worker by identity (decode
// errors by position), and returns when every worker is done.
func (p *Pipeline) feed(ctx, work context.Context, r *runState, src Source, results chan<- result, inflight chan struct{}) error {
	queues := make([]chan job, p.opt.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, 64)
		wg.Add(1)
		go func(q <-chan job) {
			defer wg.Done()
			for j := range q {
				results <- p.one(work, r, j)
			}
		}(queues[i])
	}
	var seq int64
	err := src(ctx, func(res asff.Result) error {
		select {
		case inflight <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		seq++
		q := int(seq % int64(len(queues)))
		if res.Err == nil {
			q = shard(res.Finding, len(queues))
		}
		queues[q] <- job{seq: seq, in: res}
		return nil
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if ctx.Err() != nil && err == ctx.Err() {
		return nil // asked to stop: not a failure
	}
	return err
}

// one runs one input result through every stage.
func (p *Pipeline) one(ctx context.Context, r *runState, j job) result {
	// The batch of one finding gets its input, its finding's alert and the
	// room for its first decisions in one allocation.
	m := &single{in: [1]asff.Result{j.in}}
	b, err := exec(ctx, r.stages, Batch{Input: m.in[:], decided: m.decided[:0], spare: m.alert[:], sparePtrs: m.ptrs[:]})
	ds := b.decisions()
	if err != nil {
		ds = append(ds, decodeError(err))
	}
	return result{seq: j.seq, decisions: ds, read: j.in.Err == nil}
}

// single is the memory of a batch of one input result (see one).
type single struct {
	in      [1]asff.Result
	alert   [1]Alert
	ptrs    [2]*Alert
	decided [2]placed
}

// collect re-orders results by sequence number and emits them.
func (p *Pipeline) collect(results <-chan result, inflight <-chan struct{}, sum *Summary, emit func(Decision) error) error {
	waiting := map[int64]result{}
	next := int64(1)
	lastProgress := time.Now()
	for r := range results {
		waiting[r.seq] = r
		for {
			r, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			<-inflight
			if err := p.emitResult(r, sum, emit); err != nil {
				return err
			}
		}
		if p.opt.Progress != nil && sum.Read%1024 == 0 && time.Since(lastProgress) > time.Second {
			lastProgress = time.Now()
			p.opt.Progress(*sum)
		}
	}
	return nil
}

func (p *Pipeline) emitResult(r result, sum *Summary, emit func(Decision) error) error {
	if r.read {
		sum.Read++
	}
	matched := false
	for _, d := range r.decisions {
		if d.Rule != "" && d.Decision != DecisionResolved {
			matched = true
		}
		if err := p.emitDecision(d, sum, emit); err != nil {
			return err
		}
	}
	if matched {
		sum.Matched++
	}
	return nil
}

// emitDecision counts d, tells the observer (metrics) and emits it: every
// decision, a retried parked delivery's included, goes through here.
func (p *Pipeline) emitDecision(d Decision, sum *Summary, emit func(Decision) error) error {
	sum.count(d)
	if p.opt.Observer != nil {
		p.opt.Observer.Decided(d)
	}
	return emit(d)
}

func shard(f *asff.Finding, n int) int {
	// FNV-1a of the identity, hashed from a stack buffer: no allocation.
	var buf [256]byte
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for _, c := range f.AppendIdentity(buf[:0]) {
		h ^= uint32(c)
		h *= prime32
	}
	return int(h % uint32(n))
}
