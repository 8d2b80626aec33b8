package pipeline

import (
	"fmt"
	"strings"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
)

// fold turns one rule's per-channel outcomes into its decision: an error if
// any channel failed (the finding stays pending), else the notification
// kind if any channel was notified, else a duplicate.
func fold(r Rule, f *asff.Finding, now time.Time, outs []outcome) Decision {
	d := newDecision(f, r.Name, "", "")
	var errs, dups []string
	var sent *outcome
	for i := range outs {
		o := &outs[i]
		switch {
		case o.err != nil:
			errs = append(errs, o.err.Error())
		case o.kind != "":
			if o.channel != "" {
				d.Channels = append(d.Channels, o.channel)
			}
			if sent == nil {
				sent = o
			}
		default:
			dups = append(dups, o.dup)
		}
	}
	switch {
	case len(errs) > 0:
		d.Decision = DecisionError
		d.Reason = strings.Join(errs, "; ") + "; kept pending, retried on the next occurrence or run"
		if len(d.Channels) > 0 {
			d.Reason += " (delivered to " + strings.Join(d.Channels, ", ") + ")"
		}
	case sent != nil:
		d.Decision, d.Reason = kindDecision(r, f, now, sent.kind, sent.prev)
	default:
		d.Decision, d.Reason = DecisionDuplicate, dups[0]
	}
	return d
}

func kindDecision(r Rule, f *asff.Finding, now time.Time, k store.Kind, prev store.Record) (string, string) {
	switch k {
	case store.KindRenotify:
		return DecisionRenotify, fmt.Sprintf("still open after %d days (last notified %s; renotify_after %s)",
			daysOpen(openSince(f, prev), now), prev.LastNotifiedAt.UTC().Format(time.RFC3339), formatDays(r.RenotifyAfter))
	case store.KindRecurrence:
		return DecisionRecurrence, "came back after being resolved " + prev.ResolvedAt.UTC().Format(time.RFC3339)
	}
	return DecisionNotify, "new active finding"
}

// openSince is when the finding's open period began: when its product first
// observed it, else when we first notified it.
func openSince(f *asff.Finding, prev store.Record) time.Time {
	if !f.FirstObservedAt.IsZero() {
		return f.FirstObservedAt
	}
	if !f.CreatedAt.IsZero() {
		return f.CreatedAt
	}
	return prev.FirstNotifiedAt
}

func daysOpen(since, now time.Time) int {
	if since.IsZero() || now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}
