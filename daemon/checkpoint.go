package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hubtriage/store"
)

// Index partitions the daemon writes.
const (
	// CheckpointPartition holds one entry per poller (Options.Name): the
	// UpdatedAt up to which every finding has been processed, RFC 3339.
	CheckpointPartition = "checkpoint"
	// LeasePartition holds the reconcile lease, so that replicas sharing a
	// store reconcile once per interval between them.
	LeasePartition = "lease"
)

// checkpointRetries bounds the read-compare-write rounds of one advance
// when other replicas keep moving the checkpoint.
const checkpointRetries = 8

// loadCheckpoint returns the stored checkpoint, zero when there is none.
func (d *Daemon) loadCheckpoint(ctx context.Context) (time.Time, []byte, error) {
	e, err := d.opt.Index.GetEntry(ctx, CheckpointPartition, d.opt.Name, d.opt.Now())
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil, nil
	}
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("read checkpoint %s: %w", d.opt.Name, err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(e.Value))
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("read checkpoint %s: value %q: %w", d.opt.Name, e.Value, err)
	}
	return t, e.Value, nil
}

// advance moves the checkpoint forward to t and returns the checkpoint as
// stored afterwards. It never moves it backwards: when another replica
// stored a later one, that one stays. Conditional writes (PutIf) make
// concurrent advances safe.
func (d *Daemon) advance(ctx context.Context, t time.Time) (time.Time, error) {
	for range checkpointRetries {
		cur, prev, err := d.loadCheckpoint(ctx)
		if err != nil {
			return cur, err
		}
		if !t.After(cur) {
			return cur, nil
		}
		value := []byte(t.UTC().Format(time.RFC3339Nano))
		err = d.opt.Index.PutIf(ctx, store.Entry{Partition: CheckpointPartition, Sort: d.opt.Name, Value: value}, prev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return cur, fmt.Errorf("save checkpoint %s: %w", d.opt.Name, err)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("save checkpoint %s: still conflicting after %d attempts", d.opt.Name, checkpointRetries)
}

// takeLease claims the reconcile lease for about one interval and reports
// whether this replica got it. An unexpired lease held by anyone (this
// replica included) means a pass ran recently.
func (d *Daemon) takeLease(ctx context.Context) (bool, error) {
	// The backend judges expiry by its own clock, so the wall clock, not
	// Options.Now, sets it.
	now := time.Now()
	e := store.Entry{
		Partition: LeasePartition,
		Sort:      "reconcile:" + d.opt.Name,
		Value:     []byte(d.owner + " " + now.UTC().Format(time.RFC3339Nano)),
		// A little under the interval, so this replica's own next tick
		// does not find its previous lease still live.
		ExpiresAt: now.Add(d.opt.ReconcileInterval - d.opt.ReconcileInterval/10),
	}
	err := d.opt.Index.PutIf(ctx, e, nil)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take reconcile lease: %w", err)
	}
	return true, nil
}
