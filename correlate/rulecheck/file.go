// Package rulecheck runs correlation rule unit tests, the way `promtool test
// rules` runs Prometheus rule tests: each YAML test file names the rules
// under test (a config file, an inline correlation section, or just the
// built-ins), and each test case feeds input findings to a fresh engine at
// a given time and compares the correlated findings it ends with against
// the expected ones.
//
//	config: ../hubtriage.yaml          # optional; or `correlation:` inline; default: the built-ins
//	tests:
//	  - name: backdoor plus three critical CVEs
//	    at: 2024-05-20T12:00:00Z       # evaluation time
//	    input:
//	      - file: findings/guardduty-backdoor.json   # any shape hubtriage reads
//	      - file: findings/inspector-cve.json
//	        set: {Id: cve-2, Vulnerabilities: [{Id: CVE-2022-22965}]}  # replace top-level fields
//	        at: 2024-05-19T00:00:00Z   # observed earlier (default: the test's at)
//	      - finding: {SchemaVersion: 2018-10-08, Id: ..., ...}         # inline, YAML or JSON
//	    expect:                        # [] expects no correlated finding
//	      - rule: ec2-backdoor-critical-cves
//	        resource: i-0123456789abcdef0
//	        contributing: [finding ids...]  # optional
//	        archived: false
//	        title: "..."                    # optional
//
// Paths are relative to the test file.
package rulecheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// File is one rule test file.
type File struct {
	// Config is the path of a hubtriage config file whose correlation
	// section is under test.
	Config string `yaml:"config"`
	// Correlation is an inline correlation section (builtins, rules).
	Correlation yaml.Node `yaml:"correlation"`
	Tests       []Case    `yaml:"tests"`

	path string
}

// Case is one test: inputs observed in order, then the expectation.
type Case struct {
	Name   string   `yaml:"name"`
	At     string   `yaml:"at"`
	Input  []Input  `yaml:"input"`
	Expect []Expect `yaml:"expect"`

	line int
	at   time.Time
}

// Input is one file of findings or one inline finding.
type Input struct {
	File    string    `yaml:"file"`
	Finding yaml.Node `yaml:"finding"`
	// Set replaces top-level fields of every finding of this input.
	Set yaml.Node `yaml:"set"`
	// At is when the input is observed; default the case's at.
	At string `yaml:"at"`
}

// Expect is one correlated finding the case must end with.
type Expect struct {
	Rule     string `yaml:"rule"`
	Resource string `yaml:"resource"`
	// Contributing are the contributing finding Ids; nil is not checked.
	Contributing []string `yaml:"contributing"`
	Archived     bool     `yaml:"archived"`
	// Title, when set, must equal the correlated finding's title.
	Title string `yaml:"title"`
}

// Load reads and strictly decodes a test file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule test file: %w", err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	if err := f.check(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// check validates the cases and parses their times.
func (f *File) check(b []byte) error {
	if f.Config != "" && f.Correlation.Kind != 0 {
		return fmt.Errorf("give either config or correlation, not both")
	}
	if len(f.Tests) == 0 {
		return fmt.Errorf("no tests")
	}
	lines := caseLines(b)
	for i := range f.Tests {
		c := &f.Tests[i]
		if i < len(lines) {
			c.line = lines[i]
		}
		if c.Name == "" {
			c.Name = fmt.Sprintf("tests[%d]", i)
		}
		at, err := time.Parse(time.RFC3339, c.At)
		if err != nil {
			return fmt.Errorf("tests[%d].at: must be an RFC 3339 time like 2024-05-20T12:00:00Z (got %q)", i, c.At)
		}
		c.at = at
		if len(c.Input) == 0 {
			return fmt.Errorf("tests[%d] (%s): no input", i, c.Name)
		}
		for j, in := range c.Input {
			if (in.File == "") == (in.Finding.Kind == 0) {
				return fmt.Errorf("tests[%d].input[%d]: give exactly one of file or finding", i, j)
			}
			if in.At != "" {
				if _, err := time.Parse(time.RFC3339, in.At); err != nil {
					return fmt.Errorf("tests[%d].input[%d].at: must be an RFC 3339 time (got %q)", i, j, in.At)
				}
			}
		}
	}
	return nil
}

// caseLines returns the line of each test case, for messages.
func caseLines(b []byte) []int {
	var doc struct {
		Tests []yaml.Node `yaml:"tests"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return nil
	}
	lines := make([]int, len(doc.Tests))
	for i, n := range doc.Tests {
		lines[i] = n.Line
	}
	return lines
}

// rel resolves p against the test file's directory.
func (f *File) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(f.path), p)
}
