package correlate

import (
	"bytes"
	_ "embed"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
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

// DecodeSpecs strictly decodes a YAML list of rules (unknown keys are errors).
func DecodeSpecs(b []byte) ([]Spec, error) {
	var specs []Spec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("decode correlation rules: %w", err)
	}
	return specs, nil
}

// DecodeConfig strictly decodes a `correlation` section given as a YAML
// node: unknown keys are errors naming their path and line.
func DecodeConfig(n *yaml.Node) (Config, error) {
	var cfg Config
	if n == nil || n.Kind == 0 {
		return cfg, nil
	}
	if err := checkKeys(n, reflect.TypeFor[Config](), configPath); err != nil {
		return cfg, err
	}
	if err := n.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("decode %s: %w", configPath, err)
	}
	return cfg, nil
}

var nodeType = reflect.TypeFor[yaml.Node]()

// checkKeys reports the first mapping key under n that matches no `yaml`
// tag of the struct type t describes, with its path and line.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nodeType:
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKeys(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		return checkStructKeys(n, t, path)
	}
	return nil
}

func checkStructKeys(n *yaml.Node, t reflect.Type, path string) error {
	fields := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			fields[tag] = t.Field(i).Type
			names = append(names, tag)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			return &FieldError{path + "." + k.Value, fmt.Sprintf("unknown key (expected one of %s) (line %d)",
				strings.Join(names, ", "), k.Line)}
		}
		if err := checkKeys(n.Content[i+1], ft, path+"."+k.Value); err != nil {
			return err
		}
	}
	return nil
}
