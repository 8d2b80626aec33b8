package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// Source yields findings, or decode errors, in input order. asff.Stream
// and the Security Hub poller are sources.
type Source func(ctx context.Context, fn func(asff.Result) error) error

type job struct {
	seq int64
	f   *asff.Finding
}

type result struct {
	seq       int64
	decisions []Decision
	read      bool
}

// Run feeds every finding of src through the pipeline and calls emit with
// the decisions in input order, then retries deliveries parked by earlier
// failures. Findings of one identity are processed in
// order by one worker; different findings run concurrently. Cancelling ctx
// stops reading src, but findings already read are finished (not
// half-sent), so a shutdown neither loses nor doubles an alert.
func (p *Pipeline) Run(ctx context.Context, src Source, emit func(Decision) error) (sum Summary, err error) {
	work := context.WithoutCancel(ctx)
	defer func() {
		if p.opt.Correlator == nil {
			return
		}
		if ferr := p.opt.Correlator.Flush(work); ferr != nil {
			err = errors.Join(err, fmt.Errorf("store correlation state: %w", ferr))
		}
	}()
	var parked []store.Entry
	parked, err = p.parked(work)
	if err != nil {
		return sum, err
	}
	srcCtx, stop := context.WithCancel(ctx)
	defer stop()
	// inflight bounds the findings read but not yet emitted, and with it
	// memory: a slow finding holds back output, never the whole input.
	inflight := make(chan struct{}, max(4*p.opt.Workers, 512))
	results := make(chan result, cap(inflight))
	var srcErr error
	go func() {
		srcErr = p.feed(srcCtx, work, src, results, inflight)
		close(results)
	}()
	err = p.collect(results, inflight, &sum, emit)
	if err != nil {
		stop()
		for range results { // let the feeder and workers drain
		}
		return sum, err
	}
	// Correlations deferred while reading the input are settled once: a
	// burst of findings on one resource gives one correlated finding.
	if err := p.emitResult(result{decisions: p.settle(work)}, &sum, emit); err != nil {
		return sum, err
	}
	// Deliveries parked before this run are retried after the input, so a
	// finding the input shows resolved is not alerted from a stale copy.
	if ctx.Err() == nil {
		if err := p.retryPending(work, parked, func(d Decision) error { sum.count(d); return emit(d) }); err != nil {
			return sum, err
		}
	}
	return sum, srcErr
}

// feed reads src, hands findings to workers by identity and decode errors
// straight to the collector, and returns when every worker is done.
func (p *Pipeline) feed(ctx, work context.Context, src Source, results chan<- result, inflight chan struct{}) error {
	queues := make([]chan job, p.opt.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, 64)
		wg.Add(1)
		go func(q <-chan job) {
			defer wg.Done()
			for j := range q {
				results <- result{seq: j.seq, decisions: p.process(work, j.f), read: true}
			}
		}(queues[i])
	}
	var seq int64
	err := src(ctx, func(r asff.Result) error {
		select {
		case inflight <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		seq++
		if r.Err != nil {
			results <- result{seq: seq, decisions: []Decision{decodeError(r.Err)}}
			return nil
		}
		queues[shard(r.Finding, len(queues))] <- job{seq: seq, f: r.Finding}
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
		sum.count(d)
		if d.Rule != "" && d.Decision != DecisionResolved {
			matched = true
		}
		if p.opt.Observer != nil {
			p.opt.Observer.Decided(d)
		}
		if err := emit(d); err != nil {
			return err
		}
	}
	if matched {
		sum.Matched++
	}
	return nil
}

func shard(f *asff.Finding, n int) int {
	h := fnv.New32a()
	h.Write([]byte(f.Identity()))
	return int(h.Sum32() % uint32(n))
}

// decodeError is the decision for a decode problem: skipped for a document
// that carries no findings by design, else an error.
func decodeError(err error) Decision {
	if errors.Is(err, asff.ErrNoFindings) {
		return Decision{Decision: DecisionSkipped, Reason: err.Error(), Channels: []string{}}
	}
	return Decision{Decision: DecisionError, Reason: err.Error(), Channels: []string{}}
}
