package strictyaml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"15d": 15 * day, "2w": 14 * day, "1y": 365 * day, "36h": 36 * time.Hour, "90m": 90 * time.Minute,
		"1d12h": 36 * time.Hour, "1w2d": 9 * day, "1y2w": 379 * day, "1.5h": 90 * time.Minute,
		"500ms": 500 * time.Millisecond, "0": 0, " 5m ": 5 * time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, time.Duration(got), err, want)
		}
	}
	for _, in := range []string{"", "fifteen", "-5m", "2x", "d", "12h1d"} {
		if _, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), "like 15d, 2w or 36h") {
			t.Errorf("ParseDuration(%q) error = %v, want the expected form", in, err)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{14 * 24 * time.Hour: "2w", 15 * 24 * time.Hour: "15d", 90 * time.Minute: "1h30m", 0: "0s", time.Microsecond: "1µs"} {
		if got := Duration(d).String(); got != want {
			t.Errorf("%v renders %q, want %q", d, got, want)
		}
	}
}

type doc struct {
	Name   string              `yaml:"name"`
	Wait   Duration            `yaml:"wait"`
	Items  []item              `yaml:"items"`
	Named  map[string]item     `yaml:"named"`
	Flag   bool                `yaml:"flag"`
	Ptr    *item               `yaml:"ptr"`
	Nested map[string][]string `yaml:"nested"`
}

type item struct {
	N int `yaml:"n"`
}

func TestDecodeCollectsEveryProblemWithItsLine(t *testing.T) {
	src := "name: x\n" + // 1
		"wait: soon\n" + // 2
		"items:\n" + // 3
		"  - n: 1\n" + // 4
		"  - {n: two, m: 3}\n" + // 5
		"flag: maybe\n" + // 6
		"hidden: 1\n" // 7
	var d doc
	lines, errs := Unmarshal([]byte(src), &d)
	want := []string{
		`wait: must be a duration like 15d, 2w or 36h (got "soon") (line 2)`,
		`items[1].n: must be a whole number (got "two") (line 5)`,
		`items[1].m: unknown key (expected one of n) (line 5)`,
		`flag: must be true or false (got "maybe") (line 6)`,
		`hidden: unknown key (expected one of name, wait, items, named, flag, ptr, nested) (line 7)`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) || e.Error() != want[i] {
			t.Errorf("error %d = %v, want %s", i, e, want[i])
		}
	}
	if d.Name != "x" || len(d.Items) != 2 || d.Items[0].N != 1 {
		t.Errorf("decoded %+v", d)
	}
	if lines.Line("items[0].n") != 4 || lines.Line("items[0].missing") != 4 || lines.Line("named.a") != 0 {
		t.Errorf("lines: items[0].n %d, items[0].missing %d, named.a %d", lines.Line("items[0].n"), lines.Line("items[0].missing"), lines.Line("named.a"))
	}
}

func TestDecodeKeepsDefaultsAndFollowsAliases(t *testing.T) {
	d := doc{Name: "default", Wait: Duration(time.Minute)}
	src := "base: &b {n: 7}\n"
	var wrapper struct {
		Base item `yaml:"base"`
		Ptr  item `yaml:"ptr"`
	}
	if _, errs := Unmarshal([]byte(src+"ptr: *b\n"), &wrapper); len(errs) != 0 || wrapper.Ptr.N != 7 {
		t.Fatalf("alias: %+v %v", wrapper, errs)
	}
	if _, errs := Unmarshal([]byte("flag: true\nptr: {n: 2}\n"), &d); len(errs) != 0 {
		t.Fatal(errs)
	}
	if d.Name != "default" || d.Wait != Duration(time.Minute) || !d.Flag || d.Ptr == nil || d.Ptr.N != 2 {
		t.Errorf("defaults lost or values not set: %+v", d)
	}
	if _, errs := Unmarshal([]byte("\n"), &d); len(errs) != 1 {
		t.Errorf("empty document: %v", errs)
	}
	if _, errs := Unmarshal([]byte("a: [\n"), &d); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not valid YAML") {
		t.Errorf("broken YAML: %v", errs)
	}
}

func TestPrefixed(t *testing.T) {
	e := &FieldError{Path: "Id[0].Value", Line: 3, Msg: "bad"}
	for prefix, want := range map[string]string{"rules[0].filter": "rules[0].filter.Id[0].Value: bad (line 3)", "": "Id[0].Value: bad (line 3)"} {
		if got := e.Prefixed(prefix).Error(); got != want {
			t.Errorf("Prefixed(%q) = %s, want %s", prefix, got, want)
		}
	}
	if got := (&FieldError{Path: "[2]", Msg: "x"}).Prefixed("a").Path; got != "a[2]" {
		t.Errorf("index path joins as %s", got)
	}
}
