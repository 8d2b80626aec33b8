package lambda

import "errors"

// The error types an invocation returns. aws-lambda-go reports the Go type
// name of a function's error as the invocation's errorType (in the
// synchronous response, the on-failure destination record and the
// dead-letter queue), so these names are a stable contract operators can
// match on; deploy/README.md lists them. Each wraps the sentinel error of
// its kind (errors.Is(err, ErrUnsupportedEvent) holds for an
// *UnsupportedEvent) and the details.
type (
	// UnsupportedEvent is an EventBridge event the handler does not
	// process (another service's): the rule routing it here is
	// misconfigured. Retrying it cannot succeed.
	UnsupportedEvent struct{ error }
	// MalformedEvent is a payload that is not JSON, or whose findings do
	// not decode. Retrying it cannot succeed.
	MalformedEvent struct{ error }
	// FindingsFailed is an event some of whose findings were not fully
	// processed (a delivery or the store failed); they are parked and
	// retried.
	FindingsFailed struct{ error }
	// PendingFailed is a scheduled invocation whose parked deliveries
	// still fail (possibly together with a failed reconcile).
	PendingFailed struct{ error }
	// InvocationFailed is any other failure: the pipeline could not run,
	// or reconcile could not ask Security Hub.
	InvocationFailed struct{ error }
)

func (e *UnsupportedEvent) Unwrap() error { return e.error }
func (e *MalformedEvent) Unwrap() error   { return e.error }
func (e *FindingsFailed) Unwrap() error   { return e.error }
func (e *PendingFailed) Unwrap() error    { return e.error }
func (e *InvocationFailed) Unwrap() error { return e.error }

// typed gives err the error type of its kind; nil stays nil. A scheduled
// run's joined errors are typed by the parked deliveries first.
func typed(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnsupportedEvent):
		return &UnsupportedEvent{err}
	case errors.Is(err, ErrPendingFailed):
		return &PendingFailed{err}
	case errors.Is(err, ErrMalformedEvent):
		return &MalformedEvent{err}
	case errors.Is(err, ErrFindingsFailed):
		return &FindingsFailed{err}
	}
	return &InvocationFailed{err}
}
