// Package notify defines what a notification channel is and renders the
// message every email-like channel sends. Each channel lives in its own
// sub-package (notify/smtp, notify/ses, ...).
package notify

import (
	"context"
	"time"

	"hubtriage/asff"
)

// Reason says why a notification is sent.
type Reason string

// Notification reasons.
const (
	ReasonNew        Reason = "new"
	ReasonRenotify   Reason = "renotify"   // still open after the rule's window
	ReasonRecurrence Reason = "recurrence" // came back after being resolved
	ReasonResolved   Reason = "resolved"   // no longer active (sent by reconcile when asked to)
)

// Notification is one message about one finding for one rule.
type Notification struct {
	Finding *asff.Finding
	Rule    string
	Reason  Reason
	// OpenSince is when the current open period was first notified (for
	// renotify: "still open after N days"); zero for new and recurrence.
	OpenSince time.Time
	// Now is the pipeline's clock when the decision was made.
	Now time.Time
}

// Channel delivers notifications.
//
// Contract: Notify returns nil only once the destination accepted the message
// (the SMTP server answered 250 to DATA, SES returned a MessageId). On error,
// retry reports whether trying the same message later may succeed (network
// errors, throttling, 4xx SMTP replies) as opposed to a permanent rejection.
// Implementations are safe for concurrent use and never log secrets.
type Channel interface {
	Name() string
	Notify(ctx context.Context, n Notification) (retry bool, err error)
}
