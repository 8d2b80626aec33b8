package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// pendingPartition holds findings whose delivery failed in a way a retry
// may fix, keyed by identity, so the next run retries them even if
// Security Hub does not send them again.
const pendingPartition = "pending"

// pendingTTL bounds how long a failed delivery is retried.
const pendingTTL = 14 * 24 * time.Hour

func (p *Pipeline) park(ctx context.Context, f *asff.Finding) error {
	return p.opt.Store.Put(ctx, store.Entry{
		Partition: pendingPartition,
		Sort:      f.Identity(),
		Value:     f.Raw,
		ExpiresAt: p.now().Add(pendingTTL),
	})
}

// parked lists the deliveries parked by earlier runs.
func (p *Pipeline) parked(ctx context.Context) ([]store.Entry, error) {
	entries, err := p.opt.Store.Entries(ctx, pendingPartition, p.now())
	if err != nil {
		return nil, fmt.Errorf("read parked deliveries: %w", err)
	}
	return entries, nil
}

// retryPending runs the parked findings still parked through the pipeline
// again. An entry is dropped once its finding went through without being
// parked again.
func (p *Pipeline) retryPending(ctx context.Context, r *runState, parked []store.Entry, emit func(Decision) error) error {
	for _, e := range parked {
		cur, err := p.opt.Store.GetEntry(ctx, pendingPartition, e.Sort, p.now())
		if errors.Is(err, store.ErrNotFound) {
			continue // unparked meanwhile: the finding went inactive
		}
		if err != nil {
			return fmt.Errorf("read parked delivery: %w", err)
		}
		if err := p.retryOne(ctx, r, cur, emit); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) retryOne(ctx context.Context, r *runState, e store.Entry, emit func(Decision) error) error {
	f, err := asff.DecodeFinding(e.Value)
	if err != nil {
		p.log.Error("drop unreadable parked delivery", "key", e.Sort, "err", err)
		return p.opt.Store.Delete(ctx, pendingPartition, e.Sort)
	}
	a := &Alert{Finding: f}
	b, err := exec(ctx, from(r.stages, "match"), Batch{Findings: []*Alert{a}, Alerts: []*Alert{a}})
	if err != nil {
		return err
	}
	for _, d := range b.decisions() {
		d.Reason, d.Retry = "retry of a failed delivery: "+d.Reason, true
		if err := emit(d); err != nil {
			return err
		}
	}
	if b.parked {
		return nil
	}
	if err := p.opt.Store.Delete(ctx, pendingPartition, e.Sort); err != nil {
		return fmt.Errorf("clear parked delivery: %w", err)
	}
	return nil
}

// unpark drops a parked delivery of a finding that went inactive: it is no
// longer worth an alert. It reads first, so the common case costs no write.
func (p *Pipeline) unpark(ctx context.Context, f *asff.Finding, now time.Time) error {
	_, err := p.opt.Store.GetEntry(ctx, pendingPartition, f.Identity(), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return p.opt.Store.Delete(ctx, pendingPartition, f.Identity())
}
