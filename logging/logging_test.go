package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFormatsAndLevels(t *testing.T) {
	var b bytes.Buffer
	log, err := New(&b, "JSON", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "subject", "a\x1b[31mred")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec["msg"] != "shown" || rec["level"] != "WARN" {
		t.Fatalf("json log = %q (%v)", b.String(), err)
	}
	b.Reset()
	if log, err = New(&b, "text", "debug"); err != nil {
		t.Fatal(err)
	}
	log.Debug("detail", "subject", "a\x1b[31mred")
	if got := b.String(); !strings.Contains(got, "level=DEBUG msg=detail") || strings.Contains(got, "\x1b") {
		t.Errorf("text log = %q: want the debug record with the escape quoted", got)
	}
}

func TestBadChoicesAreErrors(t *testing.T) {
	for _, c := range [][2]string{{"xml", "info"}, {"text", "loud"}, {"", "info"}} {
		if _, err := New(&bytes.Buffer{}, c[0], c[1]); err == nil {
			t.Errorf("New(%q, %q) accepted", c[0], c[1])
		}
	}
}
