package correlate

import (
	_ "embed"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"hubtriage/strictyaml"
)

//go:embed builtin.yaml
var builtinYAML []byte

// Builtin returns the correlation rules shipped with hubtriage, on by
// default: ec2-backdoor-critical-cves, s3-sensitive-data-exfiltration and
// ec2-exposed-instance-under-attack. They are written in the same rule
// language as user rules (see builtin.yaml); each call returns fresh specs.
func Builtin() []Spec {
	specs, err := DecodeSpecs(builtinYAML)
	if err != nil {
		panic(fmt.Sprintf("correlate: built-in rules do not decode: %v", err)) // caught by tests
	}
	return specs
}

// DecodeSpecs strictly decodes a YAML list of rules (unknown keys are
// errors); each problem is a *FieldError with its line.
func DecodeSpecs(b []byte) ([]Spec, error) {
	var specs []Spec
	if _, errs := strictyaml.Unmarshal(b, &specs); len(errs) > 0 {
		return nil, fmt.Errorf("decode correlation rules: %w", errors.Join(errs...))
	}
	return specs, nil
}

// DecodeConfig strictly decodes a `correlation` section given as a YAML
// node: every problem is a *FieldError naming its path (under
// "correlation") and line.
func DecodeConfig(n *yaml.Node) (Config, error) {
	var cfg Config
	if n == nil || n.Kind == 0 {
		return cfg, nil
	}
	if _, errs := strictyaml.Decode(n, &cfg, configPath); len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	return cfg, nil
}
