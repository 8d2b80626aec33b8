package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"hubtriage/reconcile"
)

// shutdownTimeout bounds the wait for open HTTP requests at shutdown.
const shutdownTimeout = 5 * time.Second

// Serve polls and reconciles until ctx is cancelled, serving /metrics and
// /healthz meanwhile, and returns once everything it started has stopped.
//
// On cancellation it stops polling: the poll in flight stops reading
// Security Hub, the pipeline finishes the findings already read (their
// notifications are sent and recorded), and the checkpoint stays where it
// was unless that poll had read everything. /healthz answers 503 while this
// drains. Serve returns nil after a cancellation, or the error that stopped
// the HTTP server (the loops are stopped first).
func (d *Daemon) Serve(ctx context.Context) error {
	ln := d.opt.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", d.opt.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", d.opt.Listen, err)
		}
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	d.log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())

	loops, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { d.pollLoop(loops) })
	if d.opt.Reconciler != nil {
		wg.Go(func() { d.reconcileLoop(loops) })
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("metrics server: %w", err)
	}
	d.health.setStopping()
	stop()
	wg.Wait()
	d.log.Info("stopped polling")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil && err == nil {
		err = fmt.Errorf("metrics server shutdown: %w", serr)
	}
	return err
}

// pollLoop polls, then waits PollInterval, until ctx is done.
func (d *Daemon) pollLoop(ctx context.Context) {
	for {
		res, err := d.Poll(ctx)
		if ctx.Err() == nil || res.Complete {
			d.opt.Recorder.Polled(d.opt.Now(), err)
			d.health.polled(d.opt.Now(), res.Checkpoint, err)
		}
		d.logPoll(res, err)
		if d.opt.AfterPoll != nil {
			d.opt.AfterPoll(res, err)
		}
		if !sleep(ctx, d.opt.PollInterval) {
			return
		}
	}
}

func (d *Daemon) logPoll(res PollResult, err error) {
	s := res.Summary
	attrs := []any{"read", s.Read, "notified", s.Notified, "duplicates", s.Duplicates, "resolved", s.Resolved,
		"errors", s.Errors, "queries", res.Queries, "checkpoint", res.Checkpoint}
	switch {
	case errors.Is(err, context.Canceled):
		d.log.Info("poll interrupted by shutdown", attrs...)
	case err != nil:
		d.log.Error("poll failed", append(attrs, "err", err)...)
	default:
		d.log.Info("poll done", attrs...)
	}
}

// reconcileLoop runs a pass (when this replica gets the lease), then waits
// ReconcileInterval, until ctx is done.
func (d *Daemon) reconcileLoop(ctx context.Context) {
	for {
		d.reconcileOnce(ctx)
		if !sleep(ctx, d.opt.ReconcileInterval) {
			return
		}
	}
}

// reconcileOnce runs one pass if no replica ran one within the interval.
func (d *Daemon) reconcileOnce(ctx context.Context) {
	ok, err := d.takeLease(ctx)
	if err != nil {
		d.log.Error("reconcile skipped", "err", err)
		d.opt.Recorder.Reconciled(reconcile.Summary{}, err)
		return
	}
	if !ok {
		d.log.Info("reconcile skipped: another replica ran it within the interval")
		return
	}
	sum, err := d.opt.Reconciler.Run(ctx, func(r reconcile.Resolution) error {
		d.log.Info("reconcile resolved", "finding_id", r.FindingID, "product_arn", r.ProductArn,
			"decision", r.Decision, "reason", r.Reason, "rules", r.Rules)
		return nil
	})
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		d.log.Info("reconcile interrupted by shutdown", "summary", sum.String())
	} else {
		d.opt.Recorder.Reconciled(sum, err)
		d.log.Info("reconcile done", "summary", sum.String(), "err", err)
	}
	if d.opt.AfterReconcile != nil {
		d.opt.AfterReconcile(sum, err)
	}
}

// sleep waits d or until ctx is done, reporting whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
