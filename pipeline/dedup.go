package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hubtriage/asff"
	"hubtriage/notify"
	"hubtriage/store"
)

// dedupStage claims each alert's notification on each of its rule's
// channels. An alert the store refuses on every channel (notified within
// the window) stops as a duplicate; the others pass on with their claims.
type dedupStage struct{ p *Pipeline }

func (s dedupStage) Exec(ctx context.Context, b Batch) (Batch, error) {
	out := b.Alerts[:0] // (filtered in place)
	for _, a := range b.Alerts {
		claimed := false
		chs := targets(*a.Rule)
		a.Sends = make([]Send, len(chs))
		for i, ch := range chs {
			s.claim(ctx, a, ch, &a.Sends[i])
			claimed = claimed || a.Sends[i].Dup == ""
		}
		if !claimed {
			b.stop(a, fold(a))
			continue
		}
		out = append(out, a)
	}
	b.Alerts = out
	return b, nil
}

// claim takes the right to notify a on ch, or says why not, in snd.
func (s dedupStage) claim(ctx context.Context, a *Alert, ch notify.Channel, snd *Send) {
	r, f, now := a.Rule, a.Finding, a.now
	*snd = Send{Channel: ch, Key: dedupKey(r.Name, channelName(ch), f)}
	st := s.p.opt.Store
	// Fast path: most events are re-imports of findings notified within the
	// window; a read decides them without a conditional write.
	if rec, err := st.Get(ctx, snd.Key); err == nil && rec.Status == store.StatusNotified && now.Sub(rec.LastNotifiedAt) < r.window() {
		snd.Dup = dupReason(*r, rec.LastNotifiedAt)
		return
	}
	meta := store.Meta{FindingID: f.ID, ProductArn: f.ProductArn, Rule: r.Name, Channel: channelName(ch)}
	c, err := st.Claim(ctx, snd.Key, meta, now, r.window(), s.p.opt.Lease)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		snd.Dup = dupReason(*r, time.Time{})
	case errors.Is(err, store.ErrInFlight):
		snd.Pending = "notification claimed by another worker that has not confirmed it (" + err.Error() + "); not sent by this run, the next run sees its outcome"
	case err != nil:
		snd.Err, snd.Retry = fmt.Errorf("claim: %w", err), true
	default:
		snd.Claim, snd.Claimed = c, true
	}
}

// dedupKey is the store key of one rule's view of one finding on one
// channel ("" for rules without channels).
func dedupKey(rule, channel string, f *asff.Finding) string {
	return rule + "|" + channel + "|" + f.Identity()
}

func targets(r Rule) []notify.Channel {
	if len(r.Channels) == 0 {
		return []notify.Channel{nil}
	}
	return r.Channels
}

func channelName(ch notify.Channel) string {
	if ch == nil {
		return ""
	}
	return ch.Name()
}

func dupReason(r Rule, last time.Time) string {
	window := "never re-notified (no renotify_after)"
	if r.RenotifyAfter > 0 {
		window = "renotify_after " + formatDays(r.RenotifyAfter)
	}
	if last.IsZero() {
		return "already notified; " + window
	}
	return "notified " + last.UTC().Format(time.RFC3339) + "; " + window
}

func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
