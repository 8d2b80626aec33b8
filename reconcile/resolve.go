package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/notify"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// resolveBatch judges every ref of a batch that was looked up.
func (r *Reconciler) resolveBatch(ctx context.Context, batch []securityhub.FindingRef, records map[securityhub.FindingRef][]store.Record,
	got map[securityhub.FindingRef]found, sum *Summary, emit func(Resolution) error) error {
	now := r.opt.Now()
	for _, ref := range batch {
		sum.Checked++
		res, ok := r.judge(ctx, ref, records[ref], got, now, sum)
		if !ok {
			continue
		}
		if err := emit(res); err != nil {
			return err
		}
	}
	return nil
}

// judge decides one tracked finding and, when it is inactive or gone,
// resolves its records. It reports whether there is a Resolution to emit.
func (r *Reconciler) judge(ctx context.Context, ref securityhub.FindingRef, recs []store.Record,
	got map[securityhub.FindingRef]found, now time.Time, sum *Summary) (Resolution, bool) {
	g, present := got[ref]
	switch {
	case present && g.err != nil:
		r.log.Error("tracked finding does not decode; kept", keyFinding, ref.ID, keyErr, g.err)
		sum.Errors++
		return Resolution{}, false
	case present && g.finding.Active():
		sum.Active++
		return Resolution{}, false
	}
	res := Resolution{FindingID: ref.ID, ProductArn: ref.ProductArn, Decision: DecisionNotFound,
		Reason: "no longer returned by Security Hub", Rules: []string{}, Notified: []string{}}
	if present {
		res.Decision, res.Reason = DecisionResolved, "finding is "+g.finding.InactiveReason()
	}
	var failed []string
	for _, rec := range recs {
		if !slices.Contains(res.Rules, rec.Meta.Rule) {
			res.Rules = append(res.Rules, rec.Meta.Rule)
		}
		if err := r.resolve(ctx, rec, g.finding, now, &res, sum); err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		r.log.Error("resolve tracked finding; kept for the next pass", keyFinding, ref.ID, keyErr, strings.Join(failed, "; "))
		sum.Errors++
		return Resolution{}, false
	}
	slices.Sort(res.Rules)
	slices.Sort(res.Notified)
	if present {
		sum.Resolved++
	} else {
		sum.NotFound++
	}
	return res, true
}

// resolve resolves one record and, when this call moved it from notified to
// resolved and f is known, tells the record's channel.
func (r *Reconciler) resolve(ctx context.Context, rec store.Record, f *asff.Finding, now time.Time, res *Resolution, sum *Summary) error {
	was, err := r.opt.Store.Resolve(ctx, rec.Key, now)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", rec.Key, err)
	}
	if !was || !r.opt.NotifyResolved || f == nil || rec.Meta.Channel == "" {
		return nil
	}
	ch, ok := r.opt.Channels[rec.Meta.Channel]
	if !ok {
		r.log.Warn("resolved notification skipped: channel no longer configured", keyKey, rec.Key, keyChannel, rec.Meta.Channel)
		return nil
	}
	n := notify.Notification{Finding: f, Rule: rec.Meta.Rule, Reason: ReasonResolved, Now: now}
	if _, err := r.deliver.Deliver(ctx, ch, n); err != nil {
		r.log.Error("resolved notification failed", keyKey, rec.Key, keyChannel, ch.Name(), keyErr, err)
		sum.NotifyErrors++
		res.Reason += "; resolved notification to " + ch.Name() + " failed"
		return nil
	}
	res.Notified = append(res.Notified, ch.Name())
	return nil
}
