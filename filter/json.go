package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// jsonToNode decodes JSON into the YAML node tree FromYAML walks, with each
// node's line taken from its position in b. It uses encoding/json rather than
// the YAML parser because valid JSON is not always valid YAML (the `\/`
// escape, for one), and FromJSON must accept any JSON the AWS CLI does.
func jsonToNode(b []byte) (*yaml.Node, error) {
	d := &jsonDecoder{dec: json.NewDecoder(bytes.NewReader(b)), src: b, line: 1}
	d.dec.UseNumber()
	n, err := d.value()
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: unexpected data after the filter object", d.lineAt(d.dec.InputOffset()))
	}
	return n, nil
}

// jsonDecoder turns a token stream into nodes, tracking lines incrementally.
type jsonDecoder struct {
	dec     *json.Decoder
	src     []byte
	counted int64 // bytes of src scanned for newlines so far
	line    int   // line at offset counted
}

// lineAt returns the 1-based line of byte offset off (offsets only grow).
func (d *jsonDecoder) lineAt(off int64) int {
	if off > int64(len(d.src)) {
		off = int64(len(d.src))
	}
	if off > d.counted {
		d.line += bytes.Count(d.src[d.counted:off], []byte{'\n'})
		d.counted = off
	}
	return d.line
}

// token reads the next token and the line it ends on (a JSON token never
// spans lines).
func (d *jsonDecoder) token() (json.Token, int, error) {
	t, err := d.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, 0, fmt.Errorf("line %d: %w", d.lineAt(se.Offset), err)
		}
		if errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("unexpected end of input")
		}
		return nil, 0, err
	}
	return t, d.lineAt(d.dec.InputOffset()), nil
}

// value decodes one JSON value.
func (d *jsonDecoder) value() (*yaml.Node, error) {
	t, line, err := d.token()
	if err != nil {
		return nil, err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return d.object(line)
		}
		return d.array(line)
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Line: line}, nil
	case json.Number:
		tag := "!!int"
		if bytes.ContainsAny([]byte(v), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(v), Line: line}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v), Line: line}, nil
	default: // nil
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
}

// object decodes the members of an object whose '{' was on line.
func (d *jsonDecoder) object(line int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	for d.dec.More() {
		k, kline, err := d.token()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string), Line: kline}, v)
	}
	_, _, err := d.token() // '}'
	return n, err
}

// array decodes the elements of an array whose '[' was on line.
func (d *jsonDecoder) array(line int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
	for d.dec.More() {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, v)
	}
	_, _, err := d.token() // ']'
	return n, err
}
