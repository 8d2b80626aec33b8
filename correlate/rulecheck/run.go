package rulecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"gopkg.in/yaml.v3"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/store/memstore"
)

// Run runs every test of every file, writing a report to w, and returns
// how many test cases failed. An error means a file could not be run at
// all (unreadable, invalid rules or inputs); it is reported on w too and
// counted as a failure.
func Run(ctx context.Context, paths []string, w io.Writer) (failed int, err error) {
	var errs []error
	for _, p := range paths {
		fmt.Fprintf(w, "Unit Testing: %s\n", p)
		n, err := RunFile(ctx, p, w)
		failed += n
		if err != nil {
			fmt.Fprintf(w, "  ERROR %v\n", err)
			errs = append(errs, err)
			failed++
		}
	}
	if failed == 0 {
		fmt.Fprintln(w, "SUCCESS")
	} else {
		fmt.Fprintf(w, "FAILED: %d test(s)\n", failed)
	}
	return failed, errors.Join(errs...)
}

// RunFile runs the tests of one file and returns how many failed.
func RunFile(ctx context.Context, path string, w io.Writer) (int, error) {
	f, err := Load(path)
	if err != nil {
		return 0, err
	}
	rules, err := f.rules()
	if err != nil {
		return 0, err
	}
	failed := 0
	for i := range f.Tests {
		c := &f.Tests[i]
		diff, err := f.runCase(ctx, rules, c)
		switch {
		case err != nil:
			fmt.Fprintf(w, "  FAIL %s (%s:%d)\n    %s\n", c.Name, path, c.line, strings.ReplaceAll(err.Error(), "\n", "\n    "))
			failed++
		case diff != "":
			fmt.Fprintf(w, "  FAIL %s (%s:%d)\n    correlated findings differ (- expected, + got):\n%s", c.Name, path, c.line, diff)
			failed++
		default:
			fmt.Fprintf(w, "  PASS %s\n", c.Name)
		}
	}
	return failed, nil
}

// rules compiles the rules under test.
func (f *File) rules() ([]*correlate.Rule, error) {
	var cfg correlate.Config
	var err error
	switch {
	case f.Config != "":
		cfg, err = configSection(f.rel(f.Config))
	case f.Correlation.Kind != 0:
		cfg, err = correlate.DecodeConfig(&f.Correlation)
	}
	if err != nil {
		return nil, err
	}
	rules, errs := correlate.Compile(cfg)
	if len(errs) > 0 {
		return nil, fmt.Errorf("rules under test: %w", errors.Join(errs...))
	}
	return rules, nil
}

// configSection reads the correlation section of a hubtriage config file.
func configSection(path string) (correlate.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return correlate.Config{}, fmt.Errorf("read config: %w", err)
	}
	var doc struct {
		Correlation yaml.Node `yaml:"correlation"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return correlate.Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err := correlate.DecodeConfig(rulesOnly(&doc.Correlation))
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// rulesOnly keeps the builtins and rules of a config file's correlation
// section; its other settings (where findings go, which account imports
// them) are the config loader's business and do not change what the
// rules decide.
func rulesOnly(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return n
	}
	out := *n
	out.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k == "builtins" || k == "rules" {
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &out
}

// runCase feeds the case's inputs to a fresh engine and returns the diff
// between the expected and the final correlated findings ("" when equal).
func (f *File) runCase(ctx context.Context, rules []*correlate.Rule, c *Case) (string, error) {
	now := c.at
	clock := func() time.Time { return now }
	eng := correlate.New(rules, memstore.New().WithClock(clock), correlate.Options{Now: clock})
	final := map[[2]string]correlate.Result{}
	for j, in := range c.Input {
		now = c.at
		if in.At != "" {
			now, _ = time.Parse(time.RFC3339, in.At)
		}
		findings, err := f.findings(ctx, in)
		if err != nil {
			return "", fmt.Errorf("input[%d]: %w", j, err)
		}
		for _, fd := range findings {
			results, err := eng.Observe(ctx, fd)
			if err != nil {
				return "", fmt.Errorf("input[%d] finding %s: %w", j, fd.ID, err)
			}
			for _, r := range results {
				if err := correlate.ValidateASFF(r.Finding); err != nil {
					return "", fmt.Errorf("rule %s produced invalid ASFF: %w", r.Rule, err)
				}
				final[[2]string{r.Rule, resourceKey(rules, r.Rule, r.Resource)}] = r
			}
		}
	}
	return diff(rules, c.Expect, final), nil
}

// findings decodes one input, applying its set overrides.
func (f *File) findings(ctx context.Context, in Input) ([]*asff.Finding, error) {
	var docs [][]byte
	if in.File != "" {
		var err error
		if docs, err = readFindings(ctx, f.rel(in.File)); err != nil {
			return nil, err
		}
	} else {
		b, err := nodeJSON(&in.Finding)
		if err != nil {
			return nil, fmt.Errorf("finding: %w", err)
		}
		docs = [][]byte{b}
	}
	var out []*asff.Finding
	for _, d := range docs {
		if in.Set.Kind != 0 {
			var err error
			if d, err = override(d, &in.Set); err != nil {
				return nil, err
			}
		}
		fd, err := asff.DecodeFinding(d)
		if err != nil {
			return nil, err
		}
		out = append(out, fd)
	}
	return out, nil
}

// readFindings reads every finding of a file in any shape hubtriage reads.
func readFindings(ctx context.Context, path string) ([][]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out [][]byte
	err = asff.Stream(ctx, path, fh, asff.Options{Workers: 1}, func(r asff.Result) error {
		if r.Err != nil {
			return r.Err
		}
		out = append(out, bytes.Clone(r.Finding.Raw))
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s holds no finding", path)
	}
	return out, err
}

// override replaces the top-level fields of the finding JSON doc with those of set.
func override(doc []byte, set *yaml.Node) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	b, err := nodeJSON(set)
	if err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("set must be a mapping of finding fields: %w", err)
	}
	for k, v := range fields {
		m[k] = v
	}
	return json.Marshal(m)
}

// nodeJSON converts a YAML (or JSON) node to JSON. Timestamps stay text.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(textTimes(v))
}

// textTimes turns the time.Time values YAML decodes unquoted timestamps to
// back into RFC 3339 text, as ASFF has them.
func textTimes(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case map[string]any:
		for k, e := range x {
			x[k] = textTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = textTimes(e)
		}
	}
	return v
}

// resourceKey normalises a resource as the rule's join type.
func resourceKey(rules []*correlate.Rule, rule, resource string) string {
	join := ""
	for _, r := range rules {
		if r.Name == rule {
			join = r.Join
		}
	}
	return correlate.ParseResource(resource, join).Key()
}

// diff renders expected and got as one line each and lists the lines that
// differ, sorted; "" when they are the same.
func diff(rules []*correlate.Rule, expect []Expect, got map[[2]string]correlate.Result) string {
	var want, have []string
	checked := map[[2]string]Expect{}
	for _, e := range expect {
		k := [2]string{e.Rule, resourceKey(rules, e.Rule, e.Resource)}
		checked[k] = e
		want = append(want, line(k, e.Archived, e.Contributing, e.Title, e.Contributing != nil, e.Title != ""))
	}
	for k, r := range got {
		e, ok := checked[k]
		ids := make([]string, len(r.Contributing))
		for i, c := range r.Contributing {
			ids[i] = c.ID
		}
		have = append(have, line(k, r.Archived, ids, title(r.Finding), !ok || e.Contributing != nil, ok && e.Title != ""))
	}
	sort.Strings(want)
	sort.Strings(have)
	if slices.Equal(want, have) {
		return ""
	}
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(have, l) {
			b.WriteString("      - " + l + "\n")
		}
	}
	for _, l := range have {
		if !slices.Contains(want, l) {
			b.WriteString("      + " + l + "\n")
		}
	}
	for _, e := range expect {
		k := [2]string{e.Rule, resourceKey(rules, e.Rule, e.Resource)}
		if r, ok := got[k]; ok && e.Contributing != nil {
			writeIDDiff(&b, k, e.Contributing, r.Contributing)
		}
	}
	if len(want) == 0 {
		b.WriteString("      (expected no correlated finding)\n")
	}
	if len(have) == 0 {
		b.WriteString("      (got no correlated finding)\n")
	}
	return b.String()
}

// writeIDDiff spells out which contributing findings are missing or
// unexpected on one correlated finding.
func writeIDDiff(b *strings.Builder, k [2]string, want []string, got []asff.RelatedFinding) {
	var have []string
	for _, c := range got {
		have = append(have, c.ID)
	}
	for _, id := range want {
		if !slices.Contains(have, id) {
			fmt.Fprintf(b, "      %s on %s: missing contributing finding %s\n", k[0], k[1], id)
		}
	}
	for _, id := range have {
		if !slices.Contains(want, id) {
			fmt.Fprintf(b, "      %s on %s: unexpected contributing finding %s\n", k[0], k[1], id)
		}
	}
}

// line renders one correlated finding for the diff.
func line(k [2]string, archived bool, ids []string, title string, withIDs, withTitle bool) string {
	s := "rule=" + k[0] + " resource=" + k[1]
	if archived {
		s += " ARCHIVED"
	}
	if withIDs {
		ids = slices.Clone(ids)
		sort.Strings(ids)
		s += " contributing=[" + strings.Join(ids, ", ") + "]"
	}
	if withTitle {
		s += fmt.Sprintf(" title=%q", title)
	}
	return s
}

func title(finding []byte) string {
	var d struct{ Title string }
	_ = json.Unmarshal(finding, &d)
	return d.Title
}
