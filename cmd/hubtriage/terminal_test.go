package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"hubtriage/internal/fixtures"
)

// Which streams onTerminal puts on the terminal.
const (
	ttyStdout = iota
	ttyStderr
	ttyBoth
)

// onTerminal runs the built binary with stdout, stderr or both on a
// pseudo-terminal and the other stream (if any) on a pipe, and returns what
// each received and the exit code.
func onTerminal(t *testing.T, which int, args ...string) (tty, other string, code int) {
	t.Helper()
	ptmx, tt, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = t.TempDir()
	var pipe bytes.Buffer
	switch which {
	case ttyStdout:
		cmd.Stdout, cmd.Stderr = tt, &pipe
	case ttyStderr:
		cmd.Stdout, cmd.Stderr = &pipe, tt
	default:
		cmd.Stdout, cmd.Stderr = tt, tt
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tt.Close() // the child holds its own copy
	var got bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&got, ptmx); close(copied) }() // ends with EIO once the child exits
	err = cmd.Wait()
	<-copied
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return got.String(), pipe.String(), code
}

// hostileFinding is the GuardDuty fixture with a title carrying an ANSI
// colour escape, a bidi override and a line break (finding text is
// attacker-controlled).
func hostileFinding(t *testing.T) string {
	b := fixtures.Variant(t, "findings/guardduty-ssh-bruteforce.json",
		map[string]any{"Title": "evil \x1b[31mred\x1b[0m \u202etxt.exe\nsecond line"})
	path := filepath.Join(t.TempDir(), "hostile.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayTableOnATerminal: on a terminal replay prints a table, one row
// per decision, with the finding text escaped; piped, JSON.
func TestReplayTableOnATerminal(t *testing.T) {
	cfg := exampleConfig(t, nil)
	hostile := hostileFinding(t)
	tty, _, code := onTerminal(t, ttyStdout, "replay", "--config", cfg, "--dry-run", hostile)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, tty)
	}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(tty, "\r\n", "\n")), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "SEVERITY") || !strings.Contains(lines[0], "RULE") {
		t.Fatalf("want a heading and one row (the finding matches one rule), got:\n%s", tty)
	}
	if strings.ContainsAny(tty, "\x1b\u202e") {
		t.Errorf("raw escape or bidi override reached the terminal: %q", tty)
	}
	row := lines[1]
	for _, want := range []string{"MEDIUM", "GuardDuty", `evil \x1b[31mred\x1b[0m \u202etxt.exe\x0asecond`, "i-0c10c2c7863d1a356", "notify", "medium-report"} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q: %q", want, row)
		}
	}
	r := runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", hostile)
	if d := decisions(t, r.stdout); len(d) != 1 || d[0]["title"] != "evil \x1b[31mred\x1b[0m \u202etxt.exe\nsecond line" {
		t.Errorf("piped: want JSON lines with the title intact (JSON escapes it), got %s", r.stdout)
	}
	r = runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", "--output", "table", hostile)
	if !strings.HasPrefix(r.stdout, "SEVERITY") || strings.ContainsAny(r.stdout, "\x1b\u202e") {
		t.Errorf("--output table piped: %q", r.stdout)
	}
}

// TestReplayProgressOnATerminal: stderr on a terminal shows findings/s and,
// for files, the percentage read; stderr piped gets no progress.
func TestReplayProgressOnATerminal(t *testing.T) {
	cfg := exampleConfig(t, nil)
	inputs := abs(t, "../../examples/findings")
	tty, stdout, code := onTerminal(t, ttyStderr, "replay", "--config", cfg, "--dry-run", inputs)
	if code != 0 || !strings.Contains(tty, "100%") || !strings.Contains(tty, "findings, ") || !strings.Contains(tty, "/s") {
		t.Errorf("exit %d; stderr on a terminal lacks the progress bar:\n%q", code, tty)
	}
	if !strings.HasPrefix(stdout, "{") {
		t.Errorf("stdout piped is not JSON: %.200s", stdout)
	}
	r := runBinary(t, "", "", nil, "replay", "--config", cfg, "--dry-run", inputs)
	if strings.Contains(r.stderr, "%") || strings.Contains(r.stderr, "/s") {
		t.Errorf("progress written to a pipe:\n%s", r.stderr)
	}
}

// TestGenerateRefusesATerminal: 190 MB of NDJSON is not for a terminal.
func TestGenerateRefusesATerminal(t *testing.T) {
	tty, stderr, code := onTerminal(t, ttyStdout, "generate")
	if code != exitUsage || !strings.Contains(stderr, "redirect stdout to a file") || tty != "" {
		t.Errorf("generate on a terminal: exit %d, stderr %q, %d bytes written", code, stderr, len(tty))
	}
	tty, _, code = onTerminal(t, ttyStdout, "generate", "--count", "2")
	if n := strings.Count(strings.TrimSpace(tty), "\n") + 1; code != 0 || n != 2 {
		t.Errorf("generate --count 2 on a terminal: exit %d, %d lines", code, n)
	}
	r := runBinary(t, "", "", nil, "generate", "--count", "3")
	if r.code != 0 || len(decisions(t, r.stdout)) != 3 {
		t.Errorf("generate --count 3 piped: exit %d, %q", r.code, r.stderr)
	}
}

// TestTableScrollsAboveTheProgressBar: with stdout and stderr on one
// terminal, every table row arrives whole on its own line (after the bar
// is cleared), and the bar ends with the totals.
func TestTableScrollsAboveTheProgressBar(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.ndjson")
	if r := runBinary(t, "", "", nil, "generate", "--count", "3000"); r.code != 0 {
		t.Fatal(r.stderr)
	} else if err := os.WriteFile(events, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	tty, _, code := onTerminal(t, ttyBoth, "replay", "--config", exampleConfig(t, nil), "--dry-run", events)
	if code != 0 {
		t.Fatalf("exit %d\n%.2000s", code, tty)
	}
	decisionCol, rows := -1, 0
	for _, line := range strings.Split(tty, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i := strings.LastIndexByte(line, '\r'); i >= 0 {
			line = line[i+1:] // what remains visible after carriage returns
		}
		if strings.HasPrefix(line, "SEVERITY ") {
			decisionCol = strings.Index(line, "DECISION")
			continue
		}
		if strings.Contains(line, "findings, ") || strings.HasPrefix(line, "hubtriage: summary") || strings.TrimSpace(line) == "" {
			continue
		}
		cells := []rune(line) // the header is ASCII: its byte offsets are columns
		if decisionCol < 0 || len(cells) <= decisionCol || !isDecision(strings.Fields(string(cells[decisionCol:]))[0]) {
			t.Errorf("garbled line: %q", line)
			continue
		}
		rows++
	}
	if rows < 3000 || !strings.Contains(tty, "3000 findings, ") {
		t.Errorf("%d table rows (want one per decision, at least 3000) or no final bar", rows)
	}
}

func isDecision(s string) bool {
	switch s {
	case "notify", "renotify", "recurrence", "duplicate", "filtered", "resolved", "correlate", "error":
		return true
	}
	return false
}
