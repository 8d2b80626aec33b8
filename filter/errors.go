package filter

import (
	"errors"
	"fmt"
	"strings"

	"hubtriage/strictyaml"
)

// Sentinel errors wrapped by FieldError; check them with errors.Is.
var (
	// ErrUnknownField means a filter names a field that AwsSecurityFindingFilters does not have.
	ErrUnknownField = errors.New("unknown filter field")
)

// FieldError is one problem found while parsing a filter. Path is relative to
// the filter itself (e.g. `SeverityLabel[1].Comparison`, empty for the filter
// as a whole), so callers embedding a filter in a larger document place it
// with Prefixed; Line is 0 for filters converted from the SDK. It is the
// FieldError of every hubtriage document.
type FieldError = strictyaml.FieldError

// errorList collects FieldErrors while walking a filter.
type errorList []error

// add records a problem at path and line.
func (l *errorList) add(path string, line int, format string, args ...any) {
	*l = append(*l, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// oneOfMsg describes a value outside an allowed set, suggesting the allowed
// spelling when the value only differs in case (filters are case-sensitive).
func oneOfMsg(got string, allowed []string) string {
	msg := fmt.Sprintf("must be one of %s (got %q)", strings.Join(allowed, ", "), got)
	if len(allowed) == 1 {
		msg = fmt.Sprintf("must be %s (got %q)", allowed[0], got)
	}
	if s := suggest(got, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

// suggest returns the element of allowed equal to got ignoring case, or "".
func suggest(got string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, got) {
			return a
		}
	}
	return ""
}
