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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/strictyaml"
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

// Load reads and strictly decodes a test file; every problem is a
// *strictyaml.FieldError with its path and line.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule test file: %w", err)
	}
	var f File
	lines, errs := strictyaml.Unmarshal(b, &f)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	f.path = path
	if errs := f.check(lines); len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	return &f, nil
}

// check validates the cases and parses their times.
func (f *File) check(lines strictyaml.Lines) []error {
	var errs []error
	fail := func(path, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(path, lines.Line(path), format, args...))
	}
	if f.Config != "" && f.Correlation.Kind != 0 {
		fail("correlation", "give either config or correlation, not both")
	}
	if len(f.Tests) == 0 {
		fail("tests", "no tests")
	}
	for i := range f.Tests {
		c := &f.Tests[i]
		p := fmt.Sprintf("tests[%d]", i)
		c.line = lines.Line(p)
		if c.Name == "" {
			c.Name = p
		}
		at, err := time.Parse(time.RFC3339, c.At)
		if err != nil {
			fail(p+".at", "must be an RFC 3339 time like 2024-05-20T12:00:00Z (got %q)", c.At)
		}
		c.at = at
		if len(c.Input) == 0 {
			fail(p+".input", "no input (%s)", c.Name)
		}
		for j, in := range c.Input {
			ip := fmt.Sprintf("%s.input[%d]", p, j)
			if (in.File == "") == (in.Finding.Kind == 0) {
				fail(ip, "give exactly one of file or finding")
			}
			if in.At != "" {
				if _, err := time.Parse(time.RFC3339, in.At); err != nil {
					fail(ip+".at", "must be an RFC 3339 time (got %q)", in.At)
				}
			}
		}
	}
	return errs
}

// rel resolves p against the test file's directory.
func (f *File) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(f.path), p)
}
