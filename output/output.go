// Package output renders replay's decisions for people and programs: a
// table for a terminal, JSON lines for a pipe, and the run's summary line.
// Finding text (titles, resource ids, product names) is attacker-controlled:
// the table escapes every control and formatting character, so a title
// carrying ANSI escapes or bidi overrides cannot reach a terminal raw.
package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"hubtriage/pipeline"
)

// Formats of New.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// Writer writes decisions in input order. It is not safe for concurrent
// use; Flush writes out what is buffered.
type Writer interface {
	Write(d pipeline.Decision) error
	Flush() error
}

// New returns the writer of format (table or json) on w.
func New(w io.Writer, format string) (Writer, error) {
	switch format {
	case FormatJSON:
		b := bufio.NewWriterSize(w, 64<<10)
		return &jsonWriter{b: b, enc: json.NewEncoder(b)}, nil
	case FormatTable:
		return &tableWriter{b: bufio.NewWriterSize(w, 64<<10)}, nil
	}
	return nil, fmt.Errorf("--output must be table or json (got %q)", format)
}

type jsonWriter struct {
	b   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonWriter) Write(d pipeline.Decision) error { return j.enc.Encode(d) }
func (j *jsonWriter) Flush() error                    { return j.b.Flush() }

// column is one table column: its heading, width, and whether a value too
// long keeps its end (resource ids differ at the end) rather than its start.
type column struct {
	title string
	width int
	tail  bool
}

var columns = []column{
	{"SEVERITY", 13, false}, {"PRODUCT", 16, false}, {"TITLE", 48, false},
	{"RESOURCE", 40, true}, {"DECISION", 10, false}, {"RULE", 0, false},
}

// tableWriter streams fixed-width rows, so a long replay needs no buffering
// to align its columns. Rows are flushed every 64 so a terminal sees them
// as they come.
type tableWriter struct {
	b    *bufio.Writer
	rows int
}

func (t *tableWriter) Write(d pipeline.Decision) error {
	if t.rows == 0 {
		t.row(headings())
	}
	t.rows++
	t.row([]string{d.Severity, d.Product, d.Title, d.Resource, d.Decision, d.Rule})
	if t.rows%64 == 0 {
		return t.b.Flush()
	}
	return nil
}

func (t *tableWriter) Flush() error { return t.b.Flush() }

func headings() []string {
	h := make([]string, len(columns))
	for i, c := range columns {
		h[i] = c.title
	}
	return h
}

func (t *tableWriter) row(cells []string) {
	for i, c := range columns {
		v := Clean(cells[i])
		if v == "" {
			v = "-"
		}
		if c.width == 0 {
			t.b.WriteString(v)
			break
		}
		v = fit(v, c.width, c.tail)
		t.b.WriteString(v)
		t.b.WriteString(strings.Repeat(" ", c.width-utf8.RuneCountInString(v)+2))
	}
	t.b.WriteByte('\n')
}

// fit shortens s to width runes, marking the cut with "…".
func fit(s string, width int, tail bool) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	if tail {
		return "…" + string(r[len(r)-width+1:])
	}
	return string(r[:width-1]) + "…"
}

// Clean makes finding text safe to print on a terminal: control characters
// (ESC, CR, LF, TAB, C1) and invisible formatting characters (bidi
// overrides, zero-width joiners) are written as \x1b or \u202e escapes.
func Clean(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// Counter counts the messages a run sent, which is what its user sees
// arrive: one per channel a decision lists (an alert of a rule without
// channels sends none; an error lists the channels delivered to before
// another failed).
type Counter struct {
	Messages int64
}

// Add counts one decision.
func (c *Counter) Add(d pipeline.Decision) { c.Messages += int64(len(d.Channels)) }

// Summary is the run's one-line summary: "alerted 24 (6 messages)" says
// how many decisions alerted and how many emails went out for them.
func Summary(s pipeline.Summary, c Counter, dryRun bool) string {
	mode, sent := "", "messages"
	if dryRun {
		mode, sent = " (dry run: nothing sent or recorded)", "messages would be sent"
	}
	if s.Interrupted {
		mode += fmt.Sprintf(" (interrupted after %d of the input)", s.Read)
	}
	pending := ""
	if s.Pending > 0 {
		pending = fmt.Sprintf(", pending %d", s.Pending)
	}
	return fmt.Sprintf("summary%s: read %d, matched %d, alerted %d (%d %s), duplicates %d%s, resolved %d, filtered %d, correlated %d, skipped %d, errors %d",
		mode, s.Read, s.Matched, s.Notified, c.Messages, sent, s.Duplicates, pending, s.Resolved, s.Filtered, s.Correlated, s.Skipped, s.Errors)
}
