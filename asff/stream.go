package asff

import (
	"context"
	"errors"
	"io"
	"runtime"
)

// Options tunes Stream.
type Options struct {
	// Workers is the number of goroutines decoding documents; <= 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// MaxDocument caps the size in bytes of one top-level document (or one
	// element of a top-level array); larger ones are skipped with an
	// ErrTooLarge DecodeError. <= 0 means 64 MiB.
	MaxDocument int
	// OnRead, when set, is called with the size of every read from an
	// input file (not stdin), for progress reports.
	OnRead func(n int)
}

// Result is one decoded finding, or one problem with the input (Err, a
// *DecodeError). Exactly one of the two is set.
type Result struct {
	Finding *Finding
	Err     error
}

// maxBatch bounds how many documents one decoding job carries.
const maxBatch = 256

// job is a batch of scanned documents decoded together by one worker.
type job struct {
	items   []scanItem
	results []Result
	done    chan struct{}
}

// Stream decodes every finding in r, calling fn once per finding or
// problem, sequentially and in input order. name labels errors (a file name,
// or "stdin").
//
// r may hold any mix of the supported shapes: single findings, EventBridge
// "Security Hub Findings - Imported" / "- Custom Action" / "Findings
// Imported V2" events (every finding in detail.findings) and their detail
// object alone, GetFindings and GetFindingsV2 responses (also wrapped as
// {"status_code":..., "data": {...}}), and arrays of these, as one document
// or as newline-delimited or concatenated documents; findings may be ASFF
// or OCSF. An event that carries no findings by design is reported as an
// ErrNoFindings DecodeError, to be skipped. A document cut short (a line
// that begins with '{' or '[' in column 0 where it cannot go on) is
// reported and scanning resumes at that line. Memory stays bounded by
// the largest document, not by the input: elements of a top-level array are
// streamed one by one.
//
// If fn fails or ctx ends while r blocks in Read, Stream returns at once;
// its goroutines finish when that Read returns (close r to release them).
//
// Problems with the input (invalid JSON, a finding without Id, stray bytes
// between documents) reach fn as a Result with a *DecodeError, and decoding
// goes on with the next document. Stream returns fn's first error, a read
// error, or ctx's error, and nil once all of r was processed.
func Stream(ctx context.Context, name string, r io.Reader, opt Options, fn func(Result) error) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	order := make(chan *job, 2*workers+2)
	work := make(chan *job, 2*workers+2)
	for range workers {
		go decodeJobs(work)
	}
	produced := make(chan error, 1)
	go func() {
		produced <- produce(ctx, newScanner(r, name, opt.MaxDocument), order, work)
	}()
	if err := consume(ctx, order, fn); err != nil {
		// The producer and workers stop on their own once cancelled; the
		// producer may first have to wait for a blocked Read to return.
		return err
	}
	readErr := <-produced // order was closed: the producer is done
	if err := parent.Err(); err != nil {
		return err
	}
	return readErr
}

// produce scans documents into jobs, handing each job to the consumer (in
// order) and to the workers. It closes both channels when done.
func produce(ctx context.Context, sc *scanner, order, work chan<- *job) error {
	defer close(order)
	defer close(work)
	var batch []scanItem
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		j := &job{items: batch, done: make(chan struct{})}
		batch = nil
		select {
		case order <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case work <- j:
			return nil
		case <-ctx.Done():
			close(j.done)
			return ctx.Err()
		}
	}
	sc.beforeRead = flush
	for {
		it, err := sc.next()
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		batch = append(batch, it)
		if len(batch) >= maxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// decodeJobs decodes jobs until work is closed.
func decodeJobs(work <-chan *job) {
	for j := range work {
		for _, it := range j.items {
			if it.err != nil {
				j.results = append(j.results, Result{Err: it.err})
				continue
			}
			n := len(j.results)
			j.results = decodeDocument(it.doc, it.pos, j.results)
			if it.cut && !hasError(j.results[n:]) {
				j.results = append(j.results, Result{Err: it.pos.errorAt(it.doc, len(it.doc), ErrSyntax,
					"document cut short: a new document begins on the next line")})
			}
		}
		j.items = nil
		close(j.done)
	}
}

func hasError(rs []Result) bool {
	for _, r := range rs {
		if r.Err != nil {
			return true
		}
	}
	return false
}

// consume delivers each job's results to fn in order.
func consume(ctx context.Context, order <-chan *job, fn func(Result) error) error {
	for {
		var j *job
		select {
		case next, ok := <-order:
			if !ok {
				return nil
			}
			j = next
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, r := range j.results {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}
