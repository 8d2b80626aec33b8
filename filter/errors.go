package filter

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors wrapped by FieldError; check them with errors.Is.
var (
	// ErrUnknownField means a filter names a field that AwsSecurityFindingFilters does not have.
	ErrUnknownField = errors.New("unknown filter field")
)

// FieldError is one problem found while parsing a filter. Path is relative to
// the filter itself (e.g. `SeverityLabel[1].Comparison`, empty for the filter
// as a whole) so that callers embedding a filter in a larger document can
// prefix it with Prefixed. Line is the 1-based line in the YAML or JSON input,
// 0 when unknown (filters converted from the SDK).
type FieldError struct {
	Path string
	Line int
	Msg  string
	// Err is an optional sentinel (ErrUnknownField).
	Err error
}

// Error renders the error as `path: message (line N)`.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Unwrap returns the sentinel the error wraps, if any.
func (e *FieldError) Unwrap() error { return e.Err }

// Prefixed returns a copy of e whose Path is placed under prefix, joining
// with a dot unless the relative path is empty or starts with an index:
// prefix "rules[0].filter" and path "Id[0].Value" give
// "rules[0].filter.Id[0].Value".
func (e *FieldError) Prefixed(prefix string) *FieldError {
	c := *e
	switch {
	case prefix == "":
	case e.Path == "":
		c.Path = prefix
	case strings.HasPrefix(e.Path, "["):
		c.Path = prefix + e.Path
	default:
		c.Path = prefix + "." + e.Path
	}
	return &c
}

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
