package output

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"hubtriage/pipeline"
)

func TestCleanEscapesWhatATerminalWouldInterpret(t *testing.T) {
	for in, want := range map[string]string{
		"plain title":                 "plain title",
		"\x1b[31mred\x1b[0m":          `\x1b[31mred\x1b[0m`,
		"a\rb\nc\td":                  `a\x0db\x0ac\x09d`,
		"\u202etxt.exe":               `\u202etxt.exe`,
		"zero\u200bwidth":             `zero\u200bwidth`,
		"c1 \u009b31m":                `c1 \u009b31m`,
		"bad utf-8 \xff":              `bad utf-8 \ufffd`,
		"日本語のタイトル é":                  "日本語のタイトル é",
		"\x1b]8;;http://evil\x07link": `\x1b]8;;http://evil\x07link`,
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableRows(t *testing.T) {
	var b bytes.Buffer
	w, err := New(&b, FormatTable)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 100)
	for _, d := range []pipeline.Decision{
		{Severity: "CRITICAL", Product: "GuardDuty", Title: long, Resource: "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0", Decision: "notify", Rule: "r1"},
		{Decision: "error", Title: "undecodable\x1b[2J"},
	} {
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "SEVERITY") {
		t.Fatalf("want a heading and two rows:\n%s", b.String())
	}
	ruleAt := strings.Index(lines[0], "RULE")
	for _, l := range lines[1:] {
		if utf8.RuneCountInString(l[:len(l)-2]) != ruleAt && !strings.HasSuffix(l, " -") {
			t.Errorf("row not aligned with the RULE column: %q", l)
		}
	}
	if !strings.Contains(lines[1], strings.Repeat("x", 47)+"…") || !strings.Contains(lines[1], "  …1111111111:instance/i-0123456789abcdef0  ") {
		t.Errorf("long title or resource not cut to the column: %q", lines[1])
	}
	if strings.Contains(b.String(), "\x1b") || !strings.Contains(lines[2], `undecodable\x1b[2J`) {
		t.Errorf("escape not neutralised: %q", lines[2])
	}
	if _, err := New(&b, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestSummarySaysMessagesNotJustAlerts(t *testing.T) {
	var c Counter
	for _, d := range []pipeline.Decision{
		{Decision: pipeline.DecisionNotify, Channels: []string{"secops", "pager"}},
		{Decision: pipeline.DecisionNotify, Channels: []string{}}, // a rule without channels
		{Decision: pipeline.DecisionRenotify, Channels: []string{"secops"}},
		{Decision: pipeline.DecisionDuplicate, Channels: []string{}},
		{Decision: pipeline.DecisionError, Channels: []string{"secops"}}, // delivered to secops, failed elsewhere
	} {
		c.Add(d)
	}
	s := pipeline.Summary{Read: 5, Matched: 5, Notified: 3, Duplicates: 1, Errors: 1}
	if got := Summary(s, c, false); !strings.Contains(got, "alerted 3 (4 messages)") {
		t.Errorf("summary = %s", got)
	}
	if got := Summary(s, c, true); !strings.Contains(got, "dry run") || !strings.Contains(got, "alerted 3 (4 messages would be sent)") {
		t.Errorf("dry-run summary = %s", got)
	}
}

// TestRowsScrollAboveTheBar: rows written through Above arrive whole, each
// batch after clearing the bar, never appended to a half-drawn line.
func TestRowsScrollAboveTheBar(t *testing.T) {
	var term bytes.Buffer // the terminal both the bar and the rows write to
	p := NewProgress(&term, 100)
	rows := p.Above(&term)
	p.Read(10) // draws the bar
	if _, err := rows.Write([]byte("row one\nrow t")); err != nil {
		t.Fatal(err)
	}
	p.Read(10)
	if _, err := rows.Write([]byte("wo\n")); err != nil {
		t.Fatal(err)
	}
	p.Finish(pipeline.Summary{Read: 2})
	out := term.String()
	for _, row := range []string{"\rrow one\n", "\rrow two\n"} {
		if !strings.Contains(out, row) {
			t.Errorf("%q not written whole after clearing the bar:\n%q", row, out)
		}
	}
	if !strings.Contains(out, "2 findings") || !strings.HasSuffix(out, "\n") {
		t.Errorf("final bar lacks the totals or its line end: %q", out)
	}
}
