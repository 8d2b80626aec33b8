// Package reconcile brings hubtriage's de-duplication state back in line with
// Security Hub. The pipeline only learns that a finding went inactive when it
// is sent that version of the finding; when it never is (the event was lost,
// the finding was archived by its product and then deleted, the daemon was
// down), the record stays "notified" and a later recurrence would be
// suppressed as a duplicate. Reconcile asks Security Hub for the current
// state of every tracked finding and resolves the records of those that are
// no longer active or no longer exist, so that their return is alerted as a
// recurrence.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// Finder looks findings up by identity. *securityhub.Client satisfies it.
//
// Contract: fn receives only findings that match one of refs exactly (as raw
// ASFF JSON); a ref that matches nothing is absent, not an error. An error
// means the lookup is incomplete and nothing about the absent refs may be
// concluded.
type Finder interface {
	FindingsByID(ctx context.Context, refs []securityhub.FindingRef, fn func(page [][]byte) error) error
}

var _ Finder = (*securityhub.Client)(nil)

// ReasonResolved is the notification reason of a "resolved" message.
const ReasonResolved = notify.ReasonResolved

// Options configures a Reconciler.
type Options struct {
	// Store holds the records to reconcile (required).
	Store store.Dedup
	// Finder looks the findings up (required).
	Finder Finder
	// Now stamps ResolvedAt; nil means time.Now.
	Now func() time.Time
	// NotifyResolved sends a ReasonResolved notification on the record's
	// channel for every record this run moved from notified to resolved on a
	// finding Security Hub still holds (a finding that no longer exists has
	// nothing to show and is resolved silently).
	NotifyResolved bool
	// Channels by name, for NotifyResolved.
	Channels map[string]notify.Channel
	// BatchSize is how many findings one lookup asks for; zero or more than
	// securityhub.MaxFilterValues means securityhub.MaxFilterValues.
	BatchSize int
	// Logger receives per-batch failures; nil discards.
	Logger *slog.Logger
}

// Reconciler runs reconcile passes. It is safe to run several passes at once,
// in one process or many on a shared store: resolving is idempotent, and a
// resolved notification is sent only by the pass whose Resolve moved the
// record from notified to resolved.
//
// A dry run is a pass over a scratch store layer (store/scratch) with
// channels that send nothing (pipeline.Discard).
type Reconciler struct {
	opt     Options
	log     *slog.Logger
	deliver *pipeline.Deliverer
}

// Errors of New.
var (
	ErrNoStore  = errors.New("reconcile needs a store")
	ErrNoFinder = errors.New("reconcile needs a Security Hub finder")
)

// New checks opt and returns a Reconciler.
func New(opt Options) (*Reconciler, error) {
	if opt.Store == nil {
		return nil, ErrNoStore
	}
	if opt.Finder == nil {
		return nil, ErrNoFinder
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BatchSize <= 0 || opt.BatchSize > securityhub.MaxFilterValues {
		opt.BatchSize = securityhub.MaxFilterValues
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{opt: opt, log: log, deliver: pipeline.NewDeliverer(nil)}, nil
}

// Resolution is one tracked finding reconcile found inactive or gone, printed
// as one JSON line. Its records are resolved (unless the run is a dry run).
type Resolution struct {
	FindingID  string `json:"finding_id"`
	ProductArn string `json:"product_arn"`
	// Decision is "resolved" (Security Hub holds it, inactive) or
	// "not_found" (Security Hub no longer returns it).
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	// Rules whose state for the finding was resolved.
	Rules []string `json:"rules"`
	// Notified lists the channels told it was resolved.
	Notified []string `json:"notified"`
}

// Resolution decisions.
const (
	DecisionResolved = "resolved"
	DecisionNotFound = "not_found"
)

// Summary counts what a pass did. Every checked finding is counted once in
// Active, Resolved, NotFound or Errors.
type Summary struct {
	Checked  int // distinct tracked findings looked up
	Active   int // still active: kept
	Resolved int // inactive in Security Hub: records resolved
	NotFound int // no longer in Security Hub: records resolved
	Errors   int // lookup, decoding or resolving failed: kept for the next pass
	// NotifyErrors counts resolved notifications a channel refused; the
	// records stay resolved (the message is not retried).
	NotifyErrors int
}

// Failed reports whether anything went wrong in the pass.
func (s Summary) Failed() bool { return s.Errors > 0 || s.NotifyErrors > 0 }

// String is the one-line summary the CLI and the Lambda report.
func (s Summary) String() string {
	return fmt.Sprintf("checked %d, active %d, resolved %d, not found %d, errors %d, notify errors %d",
		s.Checked, s.Active, s.Resolved, s.NotFound, s.Errors, s.NotifyErrors)
}

// Run reconciles every record in StatusNotified: it looks their findings up
// in batches of BatchSize (one finding shared by several records is looked up
// once) and resolves the records of findings that are not Active() or not
// returned, calling emit for each such finding in (ProductArn, Id) order.
//
// A failed batch is counted in Errors and logged, and the pass goes on with
// the next one; its records are kept as they are. Run returns an error only
// when the records cannot be read, emit fails, or ctx is cancelled (between
// batches: a batch that was looked up is always judged completely).
func (r *Reconciler) Run(ctx context.Context, emit func(Resolution) error) (Summary, error) {
	tracked, err := collect(ctx, r.opt.Store)
	if err != nil {
		return Summary{}, fmt.Errorf("read tracked findings: %w", err)
	}
	var sum Summary
	for _, batch := range batches(tracked.refs, r.opt.BatchSize) {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		found, err := r.lookup(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return sum, ctx.Err()
			}
			r.log.Error("reconcile batch failed; its findings are kept", keyBatch, len(batch), keyFirst, batch[0].ID, keyErr, err)
			sum.Checked += len(batch)
			sum.Errors += len(batch)
			continue
		}
		if err := r.resolveBatch(context.WithoutCancel(ctx), batch, tracked.records, found, &sum, emit); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// Log attribute keys.
const (
	keyBatch   = "batch"
	keyFirst   = "first_id"
	keyFinding = "finding_id"
	keyKey     = "key"
	keyChannel = "channel"
	keyErr     = "err"
)
