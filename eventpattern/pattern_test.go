package eventpattern

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/asff/asffgen"
	"hubtriage/config"
	"hubtriage/filter"
	"hubtriage/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// now anchors the rules' relative date filters (which the pattern leaves
// to the Lambda anyway).
var now = time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC)

// corpus is real fixture findings plus generated ones, each with its raw
// JSON decoded as a generic value for the pattern evaluator.
type sample struct {
	f   *asff.Finding
	raw map[string]any
}

func loadCorpus(t *testing.T) []sample {
	t.Helper()
	dir := fixtures.Dir(t)
	var args []string
	for _, sub := range []string{"findings", "arrays", "getfindings", "events"} {
		args = append(args, filepath.Join(dir, sub))
	}
	inputs := asff.Files(args)
	var out []sample
	add := func(r asff.Result) error {
		if r.Err != nil {
			return nil // not a finding (e.g. BatchUpdateFindings requests)
		}
		var raw map[string]any
		if err := json.Unmarshal(r.Finding.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{f: r.Finding, raw: raw})
		return nil
	}
	if err := asff.StreamInputs(context.Background(), inputs, nil, asff.Options{}, add); err != nil {
		t.Fatal(err)
	}
	gen := asffgen.New(11, asffgen.Options{})
	for range 400 {
		b := gen.NextFinding()
		f, err := asff.DecodeFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := add(asff.Result{Finding: f}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sentToday reports whether the finding has the attributes Security Hub
// sets on every finding it sends to EventBridge today, in the types it
// sends them; the pattern relies on them (2019 samples lack some, and a
// documentation sample quotes Severity.Normalized as a string).
func sentToday(raw map[string]any) bool {
	sev, _ := raw["Severity"].(map[string]any)
	if n, ok := sev["Normalized"]; ok {
		if _, isNum := n.(float64); !isNum {
			return false
		}
	}
	wf, _ := raw["Workflow"].(map[string]any)
	for _, v := range []any{raw["ProductName"], raw["CompanyName"], raw["Region"], raw["RecordState"], sev["Label"], wf["Status"]} {
		if s, ok := v.(string); !ok || s == "" {
			return false
		}
	}
	return true
}

func eventOf(raw map[string]any) map[string]any {
	return map[string]any{
		"version": "0", "source": Source, "detail-type": DetailTypeImported,
		"detail": map[string]any{"findings": []any{raw}},
	}
}

// roundTrip gives the pattern the types it has once sent as JSON.
func roundTrip(t *testing.T, p *Pattern) map[string]any {
	t.Helper()
	b, err := p.JSON(false)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func loadConfig(t *testing.T, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", "config", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var configs = []struct {
	name      string
	selective bool // the pattern must drop some findings of the corpus
}{
	{"severity", true}, {"prefixes", true}, {"negatives", true}, {"controls", true},
	{"maps", true}, {"mixed", true}, {"catchall", false},
}

// TestPatternLetsThroughEverythingTheLambdaNeeds is the property the
// deployment depends on: no finding a rule matches, and no inactive
// finding (whose state the pipeline clears), is dropped by EventBridge.
func TestPatternLetsThroughEverythingTheLambdaNeeds(t *testing.T) {
	corpus := loadCorpus(t)
	used := 0
	for _, s := range corpus {
		if sentToday(s.raw) {
			used++
		}
	}
	if used < 400 {
		t.Fatalf("only %d of %d findings have today's attributes", used, len(corpus))
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			cfg := loadConfig(t, c.name)
			doc := roundTrip(t, FromConfig(cfg, Options{}))
			needed, dropped := 0, 0
			for _, s := range corpus {
				if !sentToday(s.raw) {
					continue
				}
				got, err := matches(doc, eventOf(s.raw))
				if err != nil {
					t.Fatalf("evaluate pattern: %v", err)
				}
				want := !s.f.Active() || anyRule(cfg, s.f)
				if want {
					needed++
				}
				if want && !got {
					t.Errorf("pattern drops finding %s (%s %s), which the Lambda needs", s.f.ID, s.f.ProductName, s.f.Severity.Label)
				}
				if !got {
					dropped++
				}
			}
			if needed == 0 {
				t.Error("no finding of the corpus is needed: the test proves nothing for this config")
			}
			if c.selective && dropped == 0 {
				t.Error("the pattern drops no finding: it does not narrow anything")
			}
			if !c.selective && dropped != 0 {
				t.Errorf("the pattern drops %d findings, want none", dropped)
			}
			t.Logf("%d findings needed, %d dropped by the pattern, of %d", needed, dropped, used)
		})
	}
}

// anyRule reports whether an alert rule or a condition of a correlation
// rule of cfg matches f.
func anyRule(cfg *config.Config, f *asff.Finding) bool {
	for _, r := range cfg.Rules {
		if r.Filter.Match(f, now) {
			return true
		}
	}
	for _, r := range cfg.Correlation.Compiled {
		for _, c := range r.Conditions {
			if c.Filter.Match(f, now) {
				return true
			}
		}
	}
	return false
}

// golden is the file form of a derived pattern.
type golden struct {
	Pattern json.RawMessage `json:"pattern"`
	Notes   []Note          `json:"notes"`
}

func TestGoldenPatterns(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			p := FromConfig(loadConfig(t, c.name), Options{})
			b, err := p.JSON(true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encode(golden{Pattern: b, Notes: p.Notes}, "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("pattern for %s differs from %s (run go test -update and review the diff):\n%s", c.name, path, got)
			}
		})
	}
}

func TestMappings(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   string // the detail.findings pattern of the rule, as compact JSON
		note   string // a substring of the expected note, or ""
	}{
		{"equals", `{"Title":[{"Value":"x","Comparison":"EQUALS"}]}`, `{"Title":["x"]}`, ""},
		{"prefix", `{"Title":[{"Value":"x","Comparison":"PREFIX"}]}`, `{"Title":[{"prefix":"x"}]}`, ""},
		{"contains escapes", `{"Title":[{"Value":"a*b\\c","Comparison":"CONTAINS"}]}`, `{"Title":[{"wildcard":"*a\\*b\\\\c*"}]}`, ""},
		{"not equals on a required field", `{"Title":[{"Value":"x","Comparison":"NOT_EQUALS"},{"Value":"y","Comparison":"NOT_EQUALS"}]}`,
			`{"Title":[{"anything-but":["x","y"]}]}`, ""},
		{"not equals on an optional field", `{"SourceUrl":[{"Value":"x","Comparison":"NOT_EQUALS"}]}`,
			`{"$or":[{"SourceUrl":[{"anything-but":["x"]}]},{"SourceUrl":[{"exists":false}]}]}`, ""},
		{"second prefix-not-equals", `{"Title":[{"Value":"x","Comparison":"PREFIX_NOT_EQUALS"},{"Value":"y","Comparison":"PREFIX_NOT_EQUALS"}]}`,
			`{"Title":[{"anything-but":{"prefix":"x"}}]}`, `PREFIX_NOT_EQUALS "y"`},
		{"not contains", `{"Title":[{"Value":"x","Comparison":"NOT_CONTAINS"}]}`, `{"Title":[{"anything-but":{"wildcard":"*x*"}}]}`, ""},
		{"negative on a list field", `{"ResourceRegion":[{"Value":"x","Comparison":"NOT_EQUALS"}]}`, ``, "inside a list is absent"},
		{"positive and negative", `{"Region":[{"Value":"us-","Comparison":"PREFIX"},{"Value":"us-west-2","Comparison":"NOT_EQUALS"}]}`,
			`{"Region":[{"prefix":"us-"}]}`, "cannot AND them"},
		{"severity label enum", `{"SeverityLabel":[{"Value":"LOW","Comparison":"NOT_EQUALS"},{"Value":"INFORMATIONAL","Comparison":"NOT_EQUALS"}]}`,
			`{"Severity":{"Label":["MEDIUM","HIGH","CRITICAL"]}}`, ""},
		{"optional enum accepting absence", `{"ComplianceStatus":[{"Value":"PASSED","Comparison":"NOT_EQUALS"}]}`,
			`{"$or":[{"Compliance":{"Status":["WARNING","FAILED","NOT_AVAILABLE"]}},{"Compliance":{"Status":[{"exists":false}]}}]}`, ""},
		{"legacy control ids", `{"ComplianceSecurityControlId":[{"Value":"EC2.7","Comparison":"EQUALS"}]}`,
			`{"$or":[{"Compliance":{"SecurityControlId":["EC2.7"]}},{"ProductFields":{"ControlId":["EC2.7"]}},{"ProductFields":{"RuleId":["EC2.7"]}}]}`, ""},
		{"numbers", `{"SeverityNormalized":[{"Gte":40,"Lt":70},{"Eq":90}]}`,
			`{"Severity":{"Normalized":[{"numeric":[">=",40,"<",70]},{"numeric":["=",90]}]}}`, ""},
		{"number accepting zero", `{"SeverityNormalized":[{"Lte":10}]}`,
			`{"$or":[{"Severity":{"Normalized":[{"numeric":["<=",10]}]}},{"Severity":{"Normalized":[{"exists":false}]}}]}`, ""},
		{"tags", `{"ResourceTags":[{"Key":"env","Value":"prod","Comparison":"EQUALS"}]}`, `{"Resources":{"Tags":{"env":["prod"]}}}`, ""},
		{"dates", `{"UpdatedAt":[{"DateRange":{"Value":7,"Unit":"DAYS"}}],"Title":[{"Value":"x","Comparison":"EQUALS"}]}`,
			`{"Title":["x"]}`, "cannot compare dates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := filter.FromJSON([]byte(tt.filter))
			if err != nil {
				t.Fatal(err)
			}
			p := Derive([]Rule{{Name: "r", Filter: f}}, Options{SkipInactive: true})
			got := ""
			if d, ok := p.Doc["detail"].(map[string]any); ok {
				b, err := encode(d["findings"], "")
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("pattern\n got %s\nwant %s", got, tt.want)
			}
			notes := ""
			for _, n := range p.Notes {
				notes += n.String() + "\n"
			}
			if (tt.note == "") != (notes == "") || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want one mentioning %q", notes, tt.note)
			}
		})
	}
}

func TestInactiveFindingsAndSkipInactive(t *testing.T) {
	cfg := loadConfig(t, "severity")
	passed := eventOf(map[string]any{
		"Id": "x", "ProductName": "Security Hub", "RecordState": "ACTIVE",
		"Severity": map[string]any{"Label": "INFORMATIONAL"}, "Compliance": map[string]any{"Status": "PASSED"},
	})
	for _, skip := range []bool{false, true} {
		doc := roundTrip(t, FromConfig(cfg, Options{SkipInactive: skip}))
		got, err := matches(doc, passed)
		if err != nil {
			t.Fatal(err)
		}
		if got == skip {
			t.Errorf("SkipInactive=%v: a PASSED finding matched=%v", skip, got)
		}
	}
}

func TestRuleThatNeverMatches(t *testing.T) {
	f, err := filter.FromJSON([]byte(`{"RecordState":[{"Value":"X","Comparison":"PREFIX"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := Derive([]Rule{{Name: "r", Filter: f}}, Options{SkipInactive: true})
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0].Reason, "never fires") {
		t.Errorf("notes %v, want the rule reported as never firing", p.Notes)
	}
	got, err := matches(roundTrip(t, p), eventOf(map[string]any{"Id": "x", "RecordState": "ACTIVE"}))
	if err != nil || got {
		t.Errorf("pattern of a rule that never fires matched a finding (err %v)", err)
	}
}

func TestTooLong(t *testing.T) {
	var rules []Rule
	for i := range 60 {
		f, err := filter.FromJSON([]byte(`{"Title":[{"Value":"` + strings.Repeat("t", 60) + string(rune('a'+i%26)) + `","Comparison":"EQUALS"}],` +
			`"GeneratorId":[{"Value":"g` + strings.Repeat("x", i) + `","Comparison":"EQUALS"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, Rule{Name: "r", Filter: f})
	}
	if _, err := Derive(rules, Options{}).JSON(false); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
}
