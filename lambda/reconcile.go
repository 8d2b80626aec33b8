package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"hubtriage/app"
	"hubtriage/reconcile"
)

// reconcilerFor builds the reconcile pass scheduled events run: the
// reconcile package over the app's store and a Security Hub client of the
// config's securityhub section (the function's region by default).
// Resolutions are logged as JSON records ("reconcile resolved").
//
// A pass fails when tracked findings could not be looked up (they are kept
// and retried by the next pass; Lambda also retries the scheduled event).
// It stops at the invocation's deadline: at Security Hub's 3 requests/s and
// 20 ids per request, a 900 s invocation checks about 50,000 alerted, still
// open findings.
func reconcilerFor(ctx context.Context, a *app.App, now func() time.Time, log *slog.Logger) (Reconciler, error) {
	client, err := app.SecurityHubClient(ctx, a.Config)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	r, err := reconcile.New(reconcile.Options{Store: a.Store, Finder: client, Now: now, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return reconcileWith(r, log), nil
}

// reconcileWith adapts a reconcile.Reconciler to the handler.
func reconcileWith(r *reconcile.Reconciler, log *slog.Logger) Reconciler {
	return func(ctx context.Context) (string, error) {
		sum, err := r.Run(ctx, func(res reconcile.Resolution) error {
			log.LogAttrs(ctx, slog.LevelInfo, "reconcile resolved",
				slog.String("finding_id", res.FindingID), slog.String("product_arn", res.ProductArn),
				slog.String("decision", res.Decision), slog.String("reason", res.Reason), slog.Any("rules", res.Rules))
			return nil
		})
		if err == nil && sum.Failed() {
			err = fmt.Errorf("%d findings could not be checked and %d resolved notifications failed (kept for the next pass)",
				sum.Errors, sum.NotifyErrors)
		}
		return sum.String(), err
	}
}
