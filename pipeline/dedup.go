package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	n := 0
	for _, a := range b.Alerts {
		n += len(targets(a.Rule))
	}
	sends := make([]Send, n) // (one allocation for the batch's sends)
	out := b.Alerts[:0]      // (filtered in place)
	for _, a := range b.Alerts {
		claimed := false
		chs := targets(a.Rule)
		a.Sends, sends = sends[:len(chs):len(chs)], sends[len(chs):]
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
	// One allocation: the key is built in place, not from Identity().
	var sb strings.Builder
	sb.Grow(len(rule) + len(channel) + 2 + f.IdentityLen())
	sb.WriteString(rule)
	sb.WriteByte('|')
	sb.WriteString(channel)
	sb.WriteByte('|')
	var buf [256]byte
	sb.Write(f.AppendIdentity(buf[:0]))
	return sb.String()
}

// targets are r's channels, or the one nil channel of a rule without
// channels. The result is shared: callers must not modify it.
func targets(r *Rule) []notify.Channel {
	if len(r.Channels) == 0 {
		return noChannels
	}
	return r.Channels
}

var noChannels = []notify.Channel{nil}

func channelName(ch notify.Channel) string {
	if ch == nil {
		return ""
	}
	return ch.Name()
}

func dupReason(r Rule, last time.Time) string {
	// Built in one buffer: one allocation for the reason.
	var buf [128]byte
	b := buf[:0]
	if last.IsZero() {
		b = append(b, "already notified; "...)
	} else {
		b = append(b, "notified "...)
		b = last.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, "; "...)
	}
	if r.RenotifyAfter > 0 {
		b = append(b, "renotify_after "...)
		b = appendDays(b, r.RenotifyAfter)
	} else {
		b = append(b, "never re-notified (no renotify_after)"...)
	}
	return string(b)
}

func formatDays(d time.Duration) string {
	var buf [32]byte
	return string(appendDays(buf[:0], d))
}

// appendDays appends d as whole days ("30d"), else as a duration.
func appendDays(b []byte, d time.Duration) []byte {
	if d%(24*time.Hour) == 0 {
		return append(strconv.AppendInt(b, int64(d/(24*time.Hour)), 10), 'd')
	}
	return append(b, d.String()...)
}
