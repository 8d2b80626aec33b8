package asff

import (
	"errors"
	"fmt"
)

// Sentinel causes carried by DecodeError.Err, for errors.Is.
var (
	// ErrSyntax marks input that is not valid JSON.
	ErrSyntax = errors.New("invalid json")
	// ErrMissingField marks a finding without Id or ProductArn.
	ErrMissingField = errors.New("missing required field")
	// ErrNotFinding marks a JSON value that is not an ASFF finding (or a
	// container of findings), e.g. a BatchUpdateFindings request body.
	ErrNotFinding = errors.New("not a finding")
	// ErrTooLarge marks a single document larger than Options.MaxDocument.
	ErrTooLarge = errors.New("document too large")
	// ErrUnreadable marks an input (file, folder, stdin) that could not be
	// listed, opened or read; its DecodeError has no line.
	ErrUnreadable = errors.New("unreadable input")
	// ErrNoFindings marks a well-formed document that carries no findings
	// by design, such as an EventBridge event of another detail-type
	// ("Security Hub Insight Results"): it is skipped, not a failure.
	ErrNoFindings = errors.New("no findings")
	// ErrField marks a finding whose field holds a value that cannot be
	// used (an unparseable timestamp, an out-of-range severity).
	ErrField = errors.New("invalid field")
)

// DecodeError reports one document (or finding) of an input that could not
// be decoded. File is the input's name ("" for DecodeFinding), Line is the
// 1-based line and Offset the 0-based byte offset of the problem within the
// input (Line 0 when the problem is the input as a whole), and Reason says
// what is wrong. Processing of the input continues
// after a DecodeError.
type DecodeError struct {
	File   string
	Line   int
	Offset int64
	Reason string
	// Err is the sentinel cause (ErrSyntax, ErrMissingField, ErrNotFinding,
	// ErrTooLarge, ErrUnreadable, ErrNoFindings, ErrField) or the
	// underlying error; it may be nil.
	Err error
}

// Error reads like
// "decode events.json: line 12 (byte 5120): invalid character '}' ...".
func (e *DecodeError) Error() string {
	name := e.File
	if name != "" {
		name = " " + name
	}
	if e.Line == 0 {
		return fmt.Sprintf("decode%s: %s", name, e.Reason)
	}
	return fmt.Sprintf("decode%s: line %d (byte %d): %s", name, e.Line, e.Offset, e.Reason)
}

// Unwrap returns the cause, so errors.Is(err, ErrMissingField) works.
func (e *DecodeError) Unwrap() error { return e.Err }

// position maps offsets inside one in-memory document back to its input.
type position struct {
	file   string
	line   int   // line of doc[0]
	offset int64 // input offset of doc[0]
}

// errorAt builds a DecodeError for byte p of doc.
func (pos position) errorAt(doc []byte, p int, cause error, reason string) *DecodeError {
	p = min(max(p, 0), len(doc))
	return &DecodeError{
		File:   pos.file,
		Line:   pos.line + countLines(doc[:p]),
		Offset: pos.offset + int64(p),
		Reason: reason,
		Err:    cause,
	}
}

// at returns the position of doc[p:] as a position of its own.
func (pos position) at(doc []byte, p int) position {
	return position{file: pos.file, line: pos.line + countLines(doc[:p]), offset: pos.offset + int64(p)}
}

// errorf builds a DecodeError at pos itself.
func (pos position) errorf(cause error, format string, args ...any) *DecodeError {
	return &DecodeError{File: pos.file, Line: pos.line, Offset: pos.offset, Reason: fmt.Sprintf(format, args...), Err: cause}
}
