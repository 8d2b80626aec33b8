// Package strictyaml decodes hubtriage's YAML documents (the config file,
// correlation rules, rule test files) strictly: a key that matches no field
// is an error, every problem is collected rather than the first, and each is
// a *FieldError naming its field path and YAML line. It also holds Duration,
// the one way durations are written in those documents.
package strictyaml

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a document, located by its field path
// (rules[2].renotify_after) and the 1-based YAML line it was found on (0 when
// the value has no line: a default, or a document built in code).
type FieldError struct {
	Path string
	Line int
	Msg  string
	// Err is an optional sentinel the error wraps, checked with errors.Is.
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
	c.Path = Join(prefix, e.Path)
	return &c
}

// Join places the relative path rel under prefix: "a" and "b" give "a.b",
// "a" and "[0]" give "a[0]", and an empty side gives the other.
func Join(prefix, rel string) string {
	switch {
	case prefix == "":
		return rel
	case rel == "":
		return prefix
	case strings.HasPrefix(rel, "["):
		return prefix + rel
	}
	return prefix + "." + rel
}

// Errorf returns a *FieldError at path and line.
func Errorf(path string, line int, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}
