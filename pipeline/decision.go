package pipeline

// Decision kinds, as printed in the "decision" field.
const (
	DecisionNotify     = "notify"
	DecisionRenotify   = "renotify"
	DecisionRecurrence = "recurrence"
	DecisionDuplicate  = "duplicate"
	// DecisionPending: another worker holds the claim and has neither
	// confirmed nor released it; this run sent nothing and cannot tell whether that worker will.
	DecisionPending   = "pending"
	DecisionFiltered  = "filtered"
	DecisionResolved  = "resolved"
	DecisionError     = "error"
	DecisionCorrelate = "correlate"
	// DecisionSkipped is a well-formed document that carries no findings
	// by design (an EventBridge event such as "Security Hub Insight
	// Results"); the reason names it. Not an error.
	DecisionSkipped = "skipped"
)

// Decision is what the pipeline decided for one finding and one rule (or
// for the finding as a whole when no rule matched or it failed to decode).
// It is printed as one JSON line.
type Decision struct {
	FindingID  string   `json:"finding_id"`
	ProductArn string   `json:"product_arn"`
	Rule       string   `json:"rule"`
	Decision   string   `json:"decision"`
	Reason     string   `json:"reason"`
	Channels   []string `json:"channels"`
	// Severity, Product and Title describe the finding to a reader (the
	// table output); they are finding text, so attacker-controlled.
	Severity string `json:"severity,omitempty"`
	Product  string `json:"product,omitempty"`
	Title    string `json:"title,omitempty"`
	// Resource is the finding's first resource, or the correlated
	// resource; Contributing is set on correlate decisions.
	Resource     string   `json:"resource,omitempty"`
	Contributing []string `json:"contributing,omitempty"`
	// Retry marks decisions about a delivery parked by an earlier run and
	// retried at the end of this one (not about this run's input).
	Retry bool `json:"retry,omitempty"`
}

// Summary counts what a run did.
type Summary struct {
	Read       int64 // findings decoded
	Matched    int64 // findings matched by at least one rule
	Notified   int64 // notify, renotify and recurrence decisions
	Duplicates int64 // decisions suppressed as duplicates
	Resolved   int64 // resolved decisions
	Filtered   int64 // findings matched by no rule
	Correlated int64 // correlate decisions
	Errors     int64 // decode errors and failed deliveries
	Skipped    int64 // documents without findings by design (skipped decisions)
	Pending    int64 // notifications another worker holds unconfirmed
	// Interrupted is set when the run stopped reading its input because it
	// was cancelled; Read then says how far it got.
	Interrupted bool
}

func (s *Summary) count(d Decision) {
	switch d.Decision {
	case DecisionNotify, DecisionRenotify, DecisionRecurrence:
		s.Notified++
	case DecisionDuplicate:
		s.Duplicates++
	case DecisionResolved:
		s.Resolved++
	case DecisionFiltered:
		s.Filtered++
	case DecisionCorrelate:
		s.Correlated++
	case DecisionError:
		s.Errors++
	case DecisionPending:
		s.Pending++
	case DecisionSkipped:
		s.Skipped++
	}
}
