// Package correlate turns findings from several products that land on one
// resource within a window into one correlated CRITICAL finding, the way a
// SIEM would, using declarative rules from the config.
//
// A rule names conditions (each an AwsSecurityFindingFilters filter, with an
// optional min_count and distinct_by), the resource type they must share
// (join), a window, and the finding to write. The Engine keeps a
// per-resource index of the findings rules reference in a store.Index, so
// evaluating a finding costs reads of that resource's partition only, and
// reports a correlated finding only when its set of contributing findings
// changed.
package correlate

import (
	"gopkg.in/yaml.v3"
)

// Config is the `correlation` section of the configuration file.
//
//	correlation:
//	  builtins: {ec2-backdoor-critical-cves: false}   # every built-in is on unless set false
//	  rules: [...]                                     # user rules, see Spec
type Config struct {
	Builtins map[string]bool `yaml:"builtins"`
	Rules    []Spec          `yaml:"rules"`
}

// Spec is one correlation rule as written in the config. Compile checks
// and compiles it into a Rule.
type Spec struct {
	// Name identifies the rule; it is part of the correlated finding's Id
	// and GeneratorId, so renaming a rule starts new correlated findings.
	Name string `yaml:"name"`
	// Join is the ASFF resource type the conditions must share, e.g.
	// AwsEc2Instance or AwsS3Bucket. Ids are normalised for the types
	// hubtriage knows (instance ARN or bare id, bucket ARN or name).
	Join string `yaml:"join"`
	// Window is how long a contributing finding counts after it was last
	// observed, like "30d" or "12h" (default 30d).
	Window string `yaml:"window"`
	// Conditions are all required, by name (a name is usable in templates).
	Conditions map[string]Condition `yaml:"conditions"`
	Output     Output               `yaml:"output"`
}

// Condition is one named requirement of a rule.
type Condition struct {
	// Filter is an AwsSecurityFindingFilters document selecting the findings
	// that satisfy the condition.
	Filter yaml.Node `yaml:"filter"`
	// MinCount is how many matching findings (or distinct values, with
	// DistinctBy) the condition needs; default 1.
	MinCount int `yaml:"min_count"`
	// DistinctBy counts distinct values of a finding field path instead of
	// findings, e.g. "Vulnerabilities[].Id".
	DistinctBy string `yaml:"distinct_by"`
	// Via names a resource type related to the joined resource that the
	// matching findings are on instead, e.g. AwsEc2SecurityGroup: a failed
	// control on a security group counts for every instance using it.
	Via string `yaml:"via"`
}

// Output describes the correlated finding. Title and Description are Go
// text/template templates over TemplateData.
type Output struct {
	Title       string      `yaml:"title"`
	Description string      `yaml:"description"`
	Remediation Remediation `yaml:"remediation"`
	// Types are the finding's ASFF Types (namespace/category/classifier).
	Types []string `yaml:"types"`
	// Severity is the label of the correlated finding (default CRITICAL).
	Severity string `yaml:"severity"`
}

// Remediation is the recommendation written into the correlated finding.
type Remediation struct {
	Text string `yaml:"text"`
	URL  string `yaml:"url"`
}
