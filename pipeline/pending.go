package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// pendingPartition holds findings whose delivery failed, keyed by identity,
// so the next run retries them even if Security Hub does not send them again.
const pendingPartition = "pending"

// pendingTTL bounds how long a failed delivery is retried.
const pendingTTL = 14 * 24 * time.Hour

func (p *Pipeline) park(ctx context.Context, f *asff.Finding) error {
	return p.opt.Store.Put(ctx, store.Entry{
		Partition: pendingPartition,
		Sort:      f.Identity(),
		Value:     f.Raw,
		ExpiresAt: p.opt.Now().Add(pendingTTL),
	})
}

// parked lists the deliveries parked by earlier runs (none in a dry run).
func (p *Pipeline) parked(ctx context.Context) ([]store.Entry, error) {
	if p.opt.DryRun {
		return nil, nil
	}
	entries, err := p.opt.Store.Entries(ctx, pendingPartition, p.opt.Now())
	if err != nil {
		return nil, fmt.Errorf("read parked deliveries: %w", err)
	}
	return entries, nil
}

// retryPending runs the parked findings still parked through the pipeline
// again. An entry is dropped once its finding went through without a
// delivery error; a failing one stays parked (process parks it again).
func (p *Pipeline) retryPending(ctx context.Context, parked []store.Entry, emit func(Decision) error) error {
	for _, e := range parked {
		cur, err := p.opt.Store.GetEntry(ctx, pendingPartition, e.Sort, p.opt.Now())
		if errors.Is(err, store.ErrNotFound) {
			continue // unparked meanwhile: the finding went inactive
		}
		if err != nil {
			return fmt.Errorf("read parked delivery: %w", err)
		}
		if err := p.retryOne(ctx, cur, emit); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) retryOne(ctx context.Context, e store.Entry, emit func(Decision) error) error {
	f, err := asff.DecodeFinding(e.Value)
	if err != nil {
		p.log.Error("drop unreadable parked delivery", "key", e.Sort, "err", err)
		return p.opt.Store.Delete(ctx, pendingPartition, e.Sort)
	}
	failed := false
	for _, d := range p.process(ctx, f) {
		failed = failed || d.Decision == DecisionError
		d.Reason, d.Retry = "retry of a failed delivery: "+d.Reason, true
		if err := emit(d); err != nil {
			return err
		}
	}
	if failed {
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
	if p.opt.DryRun {
		return nil
	}
	_, err := p.opt.Store.GetEntry(ctx, pendingPartition, f.Identity(), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return p.opt.Store.Delete(ctx, pendingPartition, f.Identity())
}
