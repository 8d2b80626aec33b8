package asff

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// wireFinding mirrors the ASFF JSON object: the fast decoder (fast.go) fills
// it by hand, encoding/json by reflection when the fast decoder declines;
// convert turns it into a Finding. Only fields that
// real producers emit with varying types use the flex* types.
type wireFinding struct {
	SchemaVersion     string
	Id                string
	ProductArn        string
	ProductName       string
	CompanyName       string
	Region            string
	GeneratorId       string
	AwsAccountId      string
	Types             []string
	FirstObservedAt   string
	LastObservedAt    string
	CreatedAt         string
	UpdatedAt         string
	Severity          wireSeverity
	Title             string
	Description       string
	SourceUrl         string
	Remediation       wireRemediation
	ProductFields     flexMap
	UserDefinedFields flexMap
	Resources         []wireResource
	Compliance        wireCompliance
	RecordState       string
	Workflow          wireWorkflow
	WorkflowState     string
	Vulnerabilities   []wireVulnerability
	RelatedFindings   []wireRelated
}

// wireSeverity decodes itself: one pass instead of three flex fields.
type wireSeverity struct {
	Label      string
	Normalized flexNumber
	Original   string
}

// UnmarshalJSON implements json.Unmarshaler. Label and Original may be
// strings or numbers; Normalized a number or a string holding one.
func (s *wireSeverity) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if isNull(b[i:]) {
		return nil
	}
	if i >= len(b) || b[i] != '{' {
		return errors.New("Severity: want a JSON object")
	}
	_, err := members(b, i, false, func(key []byte, vs int) (int, error) {
		ve, err := valueEnd(b, vs)
		if err != nil {
			return 0, err
		}
		v := b[vs:ve]
		switch {
		case strings.EqualFold(string(key), "Label"):
			s.Label, err = scalarString(v)
		case strings.EqualFold(string(key), "Original"):
			s.Original, err = scalarString(v)
		case strings.EqualFold(string(key), "Normalized"):
			err = s.Normalized.UnmarshalJSON(v)
		}
		return ve, err
	})
	return err
}

type wireRemediation struct {
	Recommendation struct {
		Text string
		Url  string
	}
}

type wireResource struct {
	Type      string
	Id        string
	Partition string
	Region    string
	Tags      flexMap
	Details   stdjson.RawMessage
}

type wireCompliance struct {
	Status            string
	SecurityControlId string
}

type wireWorkflow struct {
	Status string
}

type wireVulnerability struct {
	Id     string
	Vendor struct {
		VendorSeverity string
	}
}

type wireRelated struct {
	ProductArn string
	Id         string
}

// flexMap is a JSON object whose values are read as strings: strings as
// themselves, null as "", and numbers, booleans, objects and arrays as their
// JSON text. Decoding it by hand is several times cheaper than a reflected
// map of flexible values.
type flexMap map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (m *flexMap) UnmarshalJSON(b []byte) error {
	i := skipSpace(b, 0)
	if isNull(b[i:]) {
		*m = nil
		return nil
	}
	if i >= len(b) || b[i] != '{' {
		return errors.New("want a JSON object of strings")
	}
	out := *m // like encoding/json, a repeated key adds to the same map
	if out == nil {
		out = make(flexMap, 8)
	}
	_, err := members(b, i, false, func(key []byte, vs int) (int, error) {
		ve, err := valueEnd(b, vs)
		if err != nil {
			return 0, err
		}
		k, err := unquote(key)
		if err != nil {
			return 0, err
		}
		v, err := scalarString(b[vs:ve])
		out[k] = v
		return ve, err
	})
	*m = out
	return err
}

// scalarString reads a JSON value as a string: a string's content, "" for
// null, the JSON text of anything else. Its result may share v's bytes,
// which is safe because decoded documents are never written to afterwards
// (DecodeFinding decodes its own copy).
func scalarString(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' {
		return unquote(v[1 : len(v)-1])
	}
	if isNull(v) {
		return "", nil
	}
	if !stdjson.Valid(v) {
		return "", fmt.Errorf("invalid JSON value %.20q", v)
	}
	return unsafe.String(unsafe.SliceData(v), len(v)), nil
}

// unquote returns the content of a JSON string (without its quotes). Like
// encoding/json, it replaces invalid UTF-8 with U+FFFD.
func unquote(s []byte) (string, error) {
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return unsafe.String(unsafe.SliceData(s), len(s)), nil
	}
	q := make([]byte, 0, len(s)+2)
	q = append(append(append(q, '"'), s...), '"')
	var out string
	err := stdjson.Unmarshal(q, &out)
	return out, err
}

func isNull(b []byte) bool {
	return len(b) >= 4 && string(b[:4]) == "null"
}

// flexNumber accepts a JSON number or a string holding one; Set reports
// whether a usable value was present, Bad holds the text of one that is
// not a finite number from 0 to 100 (see check).
type flexNumber struct {
	Value float64
	Set   bool
	Bad   string
}

// UnmarshalJSON implements json.Unmarshaler. A value that is not a finite
// number from 0 to 100 (a word, "NaN", 1e999) does not fail the JSON
// decoding; it is kept in Bad for check to report by field name.
func (n *flexNumber) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	b = bytes.TrimSpace(b)
	v, err := strconv.ParseFloat(string(b), 64) // converted without a copy
	if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
		n.Bad = string(b)
		return nil
	}
	n.Value, n.Set = v, true
	return nil
}

// check reports a value UnmarshalJSON could not use, naming the field.
func (n flexNumber) check(field string) error {
	if n.Bad == "" {
		return nil
	}
	return fmt.Errorf("field %s: %.40q is not a number from 0 to 100", field, n.Bad)
}
