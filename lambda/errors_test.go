package lambda

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// TestErrorTypes checks the errorType Lambda reports for each kind of
// failure: aws-lambda-go uses the name of the error's type (through one
// pointer), and deploy/README.md documents these names.
func TestErrorTypes(t *testing.T) {
	reconcileErr := errors.New("reconcile: GetFindings: throttled")
	for _, c := range []struct {
		err      error
		want     string
		sentinel error
	}{
		{fmt.Errorf("%w: detail-type %q", ErrUnsupportedEvent, "x"), "UnsupportedEvent", ErrUnsupportedEvent},
		{fmt.Errorf("%w: empty payload", ErrMalformedEvent), "MalformedEvent", ErrMalformedEvent},
		{fmt.Errorf("%w: 1 failed", ErrFindingsFailed), "FindingsFailed", ErrFindingsFailed},
		{errors.Join(fmt.Errorf("%w: %w", ErrPendingFailed, fmt.Errorf("%w: 1 failed", ErrFindingsFailed)), reconcileErr), "PendingFailed", ErrPendingFailed},
		{reconcileErr, "InvocationFailed", reconcileErr},
	} {
		got := typed(c.err)
		name := reflect.TypeOf(got).Elem().Name()
		if name != c.want || !errors.Is(got, c.sentinel) || got.Error() != c.err.Error() {
			t.Errorf("typed(%q) is a %s (%q); want a %s wrapping it unchanged", c.err, name, got, c.want)
		}
	}
	if typed(nil) != nil {
		t.Error("typed(nil) is not nil")
	}
}
