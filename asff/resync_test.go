package asff

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hubtriage/internal/fixtures"
)

// realLines returns n NDJSON lines, each a real fixture finding compacted
// onto one line (cycling through the fixtures) with a unique Id, so every
// line is one finding a test can name.
func realLines(t testing.TB, n int) []string {
	t.Helper()
	fx := fixtures.Dir(t)
	rels := make([]string, 0, len(fixtureCounts))
	for rel := range fixtureCounts {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var raws [][]byte
	for _, rel := range rels {
		for _, f := range streamFile(t, filepath.Join(fx, rel)).findings {
			raws = append(raws, f.Raw)
		}
	}
	lines := make([]string, n)
	for i := range lines {
		var obj map[string]any
		if err := stdjson.Unmarshal(raws[i%len(raws)], &obj); err != nil {
			t.Fatal(err)
		}
		obj["Id"] = fmt.Sprintf("line-%d", i+1)
		b, err := stdjson.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = string(b)
	}
	return lines
}

// checkAllBut checks that every line's finding was decoded except those of
// the lines in lost, and that there are exactly wantErrs errors, all on
// the damaged lines.
func checkAllBut(t *testing.T, got collected, n int, lost map[int]bool, errLines map[int]bool, wantErrs int) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range got.findings {
		seen[f.ID] = true
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("line-%d", i)
		if seen[id] == lost[i] {
			t.Errorf("%s decoded: %v, want %v", id, seen[id], !lost[i])
		}
	}
	if len(got.findings) != n-len(lost) {
		t.Errorf("%d findings, want %d", len(got.findings), n-len(lost))
	}
	if len(got.errs) != wantErrs {
		t.Errorf("%d errors, want %d: %v", len(got.errs), wantErrs, got.errs)
	}
	for _, e := range got.errs {
		if !errLines[e.Line] {
			t.Errorf("error on line %d, want one of %v: %v", e.Line, errLines, e)
		}
	}
}

// TestCutLineCostsOneDocument is the damaged-stream case of the issue: a
// 3,000-line NDJSON file of real findings with line 100 cut short gives
// 2,999 findings and one error naming line 100.
func TestCutLineCostsOneDocument(t *testing.T) {
	lines := realLines(t, 3000)
	line100 := lines[99]
	// Cut points: inside a string, after a ',' inside an array or object,
	// after a ':', right after the opening brace.
	cuts := map[string]int{
		"mid-string":        strings.Index(line100, `"line-100"`) + 4,
		"after comma":       strings.Index(line100, `","`) + 2,
		"after colon":       strings.Index(line100, `":`) + 2,
		"after open brace":  1,
		"inside a list":     strings.Index(line100, `["`) + 1,
		"inside an object":  strings.Index(line100, `{"`) + 1,
		"at the last brace": len(line100) - 1,
	}
	for name, at := range cuts {
		t.Run(name, func(t *testing.T) {
			damaged := append([]string(nil), lines...)
			damaged[99] = line100[:at]
			got := streamString(t, strings.Join(damaged, "\n")+"\n")
			checkAllBut(t, got, 3000, map[int]bool{100: true}, map[int]bool{100: true}, 1)
		})
	}
}

// TestCutLineEveryByte cuts one line at every byte on a short stream, with
// pretty-printed and array-wrapped neighbours.
func TestCutLineEveryByte(t *testing.T) {
	lines := realLines(t, 6)
	victim := lines[2]
	for at := 1; at < len(victim); at++ {
		damaged := append([]string(nil), lines...)
		damaged[2] = victim[:at]
		got := streamAll(t, "input.json", strings.NewReader(strings.Join(damaged, "\n")), Options{Workers: 1})
		if len(got.findings) != 5 || len(got.errs) != 1 || got.errs[0].Line != 3 {
			t.Fatalf("cut at byte %d (%q): %d findings, errors %v", at, victim[max(0, at-10):at], len(got.findings), got.errs)
		}
	}
}

// TestResyncShapes covers binary garbage, an unclosed '[', concatenated
// pretty-printed pages and pretty-printing that does not indent.
func TestResyncShapes(t *testing.T) {
	lines := realLines(t, 200)
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	with := func(at int, insert ...string) string {
		out := append(append(append([]string(nil), lines[:at]...), insert...), lines[at:]...)
		return join(out)
	}
	t.Run("binary garbage block", func(t *testing.T) {
		garbage := "\x00\x01\xff\xfe{\x8b\"\x1f\x00,:\x7f[\xc3\x28\n\x02\x03\"{{\xa0\n\xff\xfe\xfd[:"
		got := streamString(t, with(50, garbage))
		checkAllBut(t, got, 200, nil, map[int]bool{51: true, 52: true, 53: true}, len(got.errs))
		if len(got.errs) == 0 {
			t.Error("garbage not reported")
		}
	})
	t.Run("unclosed array before ndjson", func(t *testing.T) {
		got := streamString(t, with(50, "["))
		checkAllBut(t, got, 200, nil, map[int]bool{51: true, 53: true}, 1)
	})
	t.Run("unclosed array with a trailing comma", func(t *testing.T) {
		in := join(lines[:50]) + "[" + lines[50] + ",\n" + join(lines[51:])
		got := streamString(t, in)
		checkAllBut(t, got, 200, nil, map[int]bool{51: true, 52: true, 53: true}, 1)
	})
	t.Run("cut element of an array", func(t *testing.T) {
		in := join(lines[:10]) + "[\n" + lines[10] + ",\n" + lines[11][:40] + "\n" + lines[12] + ",\n" + lines[13] + "\n]\n" + join(lines[14:])
		got := streamString(t, in)
		checkAllBut(t, got, 200, map[int]bool{12: true}, map[int]bool{13: true}, 1)
	})
	t.Run("pretty-printed pages, one cut", func(t *testing.T) {
		var buf bytes.Buffer
		var errLine int
		for p := 0; p < 4; p++ {
			var page bytes.Buffer
			page.WriteString(`{"Findings":[` + strings.Join(lines[p*50:p*50+50], ",") + `],"NextToken":"t"}`)
			var pretty bytes.Buffer
			if err := stdjson.Indent(&pretty, page.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			text := pretty.String()
			if p == 1 { // cut page 2 inside its 30th finding
				at := strings.Index(text, `"line-80"`)
				text = text[:at]
				errLine = strings.Count(buf.String(), "\n") + 1
			}
			buf.WriteString(text + "\n")
		}
		got := streamString(t, buf.String())
		lost := map[int]bool{}
		for i := 80; i <= 100; i++ {
			lost[i] = true
		}
		if len(got.errs) != 1 || got.errs[0].Line < errLine {
			t.Fatalf("errors %v, want one in page 2 (from line %d)", got.errs, errLine)
		}
		checkAllBut(t, got, 200, lost, map[int]bool{got.errs[0].Line: true}, 1)
	})
	t.Run("unindented pretty-printing is not cut", func(t *testing.T) {
		in := "{\"Findings\":\n[\n" + strings.Join(lines[:3], ",\n") + "\n]\n}\n" + join(lines[3:])
		got := streamString(t, in)
		checkAllBut(t, got, 200, nil, nil, 0)
	})
}
