package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hubtriage/asff"
	"hubtriage/pipeline"
)

// PollResult is what one poll did.
type PollResult struct {
	// From and To bound the UpdatedAt window asked for.
	From, To time.Time
	// Queries is the number of GetFindings queries (one per pushed-down
	// rule filter, or one for everything).
	Queries int
	// Summary is the pipeline's account of the poll (Read counts findings
	// once even when several queries returned them).
	Summary pipeline.Summary
	// Complete is true when every query was read to its last page and the
	// pipeline finished without error; only then may the checkpoint move.
	Complete bool
	// Checkpoint is the stored checkpoint after the poll.
	Checkpoint time.Time
}

// Poll reads every finding updated since the checkpoint (less Overlap, or
// InitialLookback before the first checkpoint) through the pipeline and
// then moves the checkpoint to the latest UpdatedAt it processed, capped at
// the poll's start and held at the earliest finding whose processing failed,
// so that finding is read again.
//
// The checkpoint moves only after a complete poll. A poll cut short (ctx
// cancelled, a query failed) leaves it where it was: the next poll reads
// the same findings again and the store's de-duplication turns what was
// already sent into duplicates, so nothing is lost or sent twice.
func (d *Daemon) Poll(ctx context.Context) (PollResult, error) {
	cp, _, err := d.loadCheckpoint(ctx)
	if err != nil {
		return PollResult{}, err
	}
	start := d.opt.Now()
	res := PollResult{From: start.Add(-d.opt.InitialLookback), To: start.Add(futureSlack), Checkpoint: cp}
	if !cp.IsZero() {
		res.From = cp.Add(-d.opt.Overlap)
	}
	qs := d.queries(res.From, res.To)
	res.Queries = len(qs)
	src := &pollSource{d: d, queries: qs, updated: map[string]time.Time{}}
	res.Summary, err = d.opt.Pipeline.Run(ctx, src.run, src.decided)
	if err == nil && !src.complete {
		err = errors.New("poll ended before its queries were read") // cancelled while reading
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("poll interrupted: %w", ctx.Err())
		}
		return res, fmt.Errorf("poll: %w", err)
	}
	res.Complete = true
	next := src.checkpoint(start)
	if next.IsZero() || !next.After(cp) {
		if !cp.IsZero() {
			d.opt.Recorder.Checkpointed(cp, nil)
		}
		return res, nil
	}
	res.Checkpoint, err = d.advance(context.WithoutCancel(ctx), next)
	d.opt.Recorder.Checkpointed(res.Checkpoint, err)
	return res, err
}

// futureSlack extends a poll's window past its start, for findings stamped
// by a product whose clock runs ahead; the checkpoint never passes the
// poll's start, so such findings are read again until time catches up.
const futureSlack = 24 * time.Hour

// query runs one GetFindings or GetFindingsV2 query, calling fn per page.
type query func(ctx context.Context, fn func(page [][]byte) error) error

// queries returns the poll's queries over findings updated in [from, to]:
// GetFindingsV2 ones when the daemon reads the new Security Hub, else
// GetFindings ones.
func (d *Daemon) queries(from, to time.Time) []query {
	var out []query
	if d.opt.GetterV2 != nil {
		for _, q := range queriesV2(d.opt.Filters, d.opt.OCSFFilters, from, to) {
			out = append(out, func(ctx context.Context, fn func([][]byte) error) error {
				return d.opt.GetterV2.GetFindingsV2(ctx, q, fn)
			})
		}
		return out
	}
	for _, q := range queries(d.opt.Filters, from, to) {
		out = append(out, func(ctx context.Context, fn func([][]byte) error) error {
			return d.opt.Getter.GetFindings(ctx, q, fn)
		})
	}
	return out
}

// pollSource is the pipeline.Source of one poll: it runs the queries in
// turn, decodes each page's findings and passes each version of a finding
// on once, remembering what the checkpoint needs.
type pollSource struct {
	d        *Daemon
	queries  []query
	complete bool // set by run, read after Run returned

	mu      sync.Mutex
	seen    map[string]bool
	updated map[string]time.Time // finding ref -> UpdatedAt, for holds
	latest  time.Time            // max UpdatedAt passed on
	hold    time.Time            // min UpdatedAt of a finding that failed
}

func (s *pollSource) run(ctx context.Context, fn func(asff.Result) error) error {
	s.seen = map[string]bool{}
	for i, q := range s.queries {
		err := q(ctx, func(page [][]byte) error {
			s.d.opt.Recorder.Received(len(page))
			for _, raw := range page {
				if err := s.feed(raw, fn); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("query %d of %d: %w", i+1, len(s.queries), err)
		}
	}
	s.complete = true
	return nil
}

// feed decodes one finding and passes it on unless this poll already did.
func (s *pollSource) feed(raw []byte, fn func(asff.Result) error) error {
	f, err := asff.DecodeFinding(raw)
	if err != nil {
		return fn(asff.Result{Err: fmt.Errorf("decode finding from Security Hub: %w", err)})
	}
	version := ref(f.ProductArn, f.ID) + "|" + f.UpdatedAt.String()
	if s.seen[version] {
		return nil
	}
	s.seen[version] = true
	s.mu.Lock()
	s.updated[ref(f.ProductArn, f.ID)] = f.UpdatedAt
	if f.UpdatedAt.After(s.latest) {
		s.latest = f.UpdatedAt
	}
	s.mu.Unlock()
	return fn(asff.Result{Finding: f})
}

// decided is the pipeline's emit: it holds the checkpoint at findings whose
// processing failed (a decode error has no finding to read again) and
// hands every decision to Options.Decisions.
func (s *pollSource) decided(dec pipeline.Decision) error {
	if dec.Decision == pipeline.DecisionError && dec.FindingID != "" {
		s.mu.Lock()
		if t, ok := s.updated[ref(dec.ProductArn, dec.FindingID)]; ok && (s.hold.IsZero() || t.Before(s.hold)) {
			s.hold = t
		}
		s.mu.Unlock()
	}
	if s.d.opt.Decisions != nil {
		return s.d.opt.Decisions(dec)
	}
	return nil
}

// checkpoint is where a complete poll that started at start may move the
// checkpoint: the latest UpdatedAt processed, but not past start nor past
// a failed finding. Zero when nothing was read.
func (s *pollSource) checkpoint(start time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.latest
	if next.After(start) {
		next = start
	}
	if !s.hold.IsZero() && s.hold.Before(next) {
		next = s.hold
	}
	return next
}

func ref(productArn, id string) string { return productArn + "|" + id }
