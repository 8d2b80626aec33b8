package strictyaml

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Lines maps the field path of every value a document set to its YAML line.
type Lines map[string]int

// Line returns the line of path, or else of its nearest ancestor the
// document has (a missing channels.x.smtp.host points at channels.x.smtp);
// 0 when none has one.
func (l Lines) Line(path string) int {
	for path != "" {
		if n, ok := l[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// Unmarshal parses b as one YAML document and decodes it into out (a
// pointer) like Decode. An empty document is an error.
func Unmarshal(b []byte, out any) (Lines, []error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, []error{fmt.Errorf("not valid YAML: %w", err)}
	}
	if root.Kind == 0 {
		return nil, []error{errors.New("the document is empty")}
	}
	return Decode(&root, out, "")
}

// Decode walks n into out (a pointer), strictly: a mapping key that matches
// no `yaml` tag is an error. It reports every problem found, each a
// *FieldError under path, instead of stopping at the first (which yaml.v3's
// KnownFields mode does). A field of type yaml.Node receives the node
// as is; a type implementing yaml.Unmarshaler decodes itself, and its error
// is reported at the node's path and line. Values the document does not
// mention keep what out held (its defaults).
func Decode(n *yaml.Node, out any, path string) (Lines, []error) {
	d := &decoder{lines: Lines{}}
	d.decode(n, reflect.ValueOf(out).Elem(), path)
	return d.lines, d.errs
}

type decoder struct {
	errs  []error
	lines Lines
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, Errorf(path, n.Line, format, args...))
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(path, n, "%v", err)
		}
		return
	}
	if n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping (got %s)", describe(n))
		return
	}
	fields := structFields(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[key.Value]
		if !ok {
			d.fail(Join(path, key.Value), key, "unknown key (expected one of %s)", strings.Join(fieldNames(v.Type()), ", "))
			continue
		}
		d.decode(val, v.Field(idx), Join(path, key.Value))
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping (got %s)", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, Join(path, key.Value))
		v.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list (got %s)", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "must be a single value (got %s)", describe(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			d.fail(path, n, "must be a whole number (got %q)", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			d.fail(path, n, "must be true or false (got %q)", n.Value)
			return
		}
		v.SetBool(b)
	default:
		d.fail(path, n, "unsupported type %s", v.Type())
	}
}

func structFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			m[name] = i
		}
	}
	return m
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || tag == "" || !f.IsExported() {
		return ""
	}
	return tag
}

// describe names a node's kind, or quotes a scalar, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// Resolve follows YAML aliases and unwraps document nodes, so callers that
// walk nodes by hand see the value a key really holds.
func Resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			n = n.Alias
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}
