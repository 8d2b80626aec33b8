package pipeline

import (
	"context"
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

// retryPending runs every parked finding through the pipeline again. An
// entry is dropped once its finding went through without a delivery error;
// a failing one stays parked (process parks it again).
func (p *Pipeline) retryPending(ctx context.Context, emit func(Decision) error) error {
	entries, err := p.opt.Store.Entries(ctx, pendingPartition, p.opt.Now())
	if err != nil {
		return fmt.Errorf("read pending deliveries: %w", err)
	}
	for _, e := range entries {
		f, err := asff.DecodeFinding(e.Value)
		if err != nil {
			p.log.Error("drop unreadable pending delivery", "key", e.Sort, "err", err)
			_ = p.opt.Store.Delete(ctx, pendingPartition, e.Sort)
			continue
		}
		failed := false
		for _, d := range p.process(ctx, f) {
			failed = failed || d.Decision == DecisionError
			d.Reason = "retry of a failed delivery: " + d.Reason
			if err := emit(d); err != nil {
				return err
			}
		}
		if !failed {
			if err := p.opt.Store.Delete(ctx, pendingPartition, e.Sort); err != nil {
				return fmt.Errorf("clear pending delivery: %w", err)
			}
		}
	}
	return nil
}
