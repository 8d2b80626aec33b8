package shtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// finding is one stored finding: its top-level members, plus the bytes it
// arrived as while nothing has changed it.
type finding struct {
	key    key
	fields map[string]json.RawMessage
	raw    []byte // compacted original; nil once the server changed a field
}

// parseFinding reads a finding object with string Id and ProductArn.
func parseFinding(raw []byte) (*finding, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(compact.Bytes(), &fields); err != nil || fields == nil {
		return nil, errors.New("not a JSON object")
	}
	f := &finding{fields: fields, raw: compact.Bytes()}
	var ok bool
	if f.key.id, ok = f.str("Id"); !ok || f.key.id == "" {
		//lint:ignore ST1005 the field as the Security Hub API spells it
		return nil, errors.New("Id: must be a non-empty string")
	}
	if f.key.productArn, ok = f.str("ProductArn"); !ok || f.key.productArn == "" {
		return nil, errors.New("ProductArn: must be a non-empty string")
	}
	return f, nil
}

// json returns the finding's JSON (a copy the caller may keep).
func (f *finding) json() []byte {
	if f.raw != nil {
		return bytes.Clone(f.raw)
	}
	b, err := json.Marshal(f.fields)
	if err != nil {
		panic(fmt.Sprintf("shtest: marshal stored finding: %v", err)) // RawMessage values are valid JSON
	}
	return b
}

// set replaces (or, with a nil value, removes) a top-level member.
func (f *finding) set(name string, v json.RawMessage) {
	if v == nil {
		delete(f.fields, name)
	} else {
		f.fields[name] = v
	}
	f.raw = nil
}

// setValue marshals v into member name.
func (f *finding) setValue(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("shtest: marshal %s: %v", name, err))
	}
	f.set(name, b)
}

// lookup follows a path of object members from the top level.
func (f *finding) lookup(path ...string) (json.RawMessage, bool) {
	v, ok := f.fields[path[0]]
	for _, name := range path[1:] {
		if !ok {
			return nil, false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil, false
		}
		v, ok = obj[name]
	}
	return v, ok
}

// str returns the string at path.
func (f *finding) str(path ...string) (string, bool) {
	v, ok := f.lookup(path...)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// strs returns the strings at path, where the first member is an array:
// of strings (path of length 1) or of objects holding path[1:].
func (f *finding) strs(path ...string) []string {
	v, ok := f.fields[path[0]]
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return nil
	}
	var out []string
	for _, item := range items {
		var s string
		if len(path) == 1 {
			if json.Unmarshal(item, &s) == nil {
				out = append(out, s)
			}
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(item, &obj) == nil && json.Unmarshal(obj[path[1]], &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// requiredFields are the members BatchImportFindings requires.
var requiredFields = [...]string{
	"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId",
	"CreatedAt", "UpdatedAt", "Title", "Description", "Resources",
}

// validateImport checks what Security Hub checks per finding on import.
func (f *finding) validateImport() error {
	for _, name := range requiredFields {
		if v, ok := f.fields[name]; !ok || string(v) == "null" {
			return fmt.Errorf("Finding does not adhere to Amazon Finding Format. data should have required property '%s'", name)
		}
	}
	if len(f.strs("Resources", "Type")) == 0 {
		return errors.New("Finding does not adhere to Amazon Finding Format. Resources should have at least one item with a Type")
	}
	return nil
}

// customerFields are the members BatchImportFindings may set on a new
// finding but not change afterwards: they belong to the customer's
// investigation and are changed with BatchUpdateFindings.
var customerFields = [...]string{"Note", "UserDefinedFields", "VerificationState", "Workflow"}

// put stores f, applying Security Hub's rules for a re-imported finding:
// the customer fields keep their stored values, and a Workflow.Status of
// NOTIFIED or RESOLVED goes back to NEW when RecordState moves from ARCHIVED
// to ACTIVE or Compliance.Status moves from PASSED to anything else. A new
// finding gets RecordState ACTIVE and Workflow.Status NEW when it has none.
// The caller holds s.mu.
func (s *Server) put(f *finding) {
	i, exists := s.index[f.key]
	if !exists {
		if _, ok := f.fields["RecordState"]; !ok {
			f.setValue("RecordState", "ACTIVE")
		}
		if _, ok := f.str("Workflow", "Status"); !ok {
			f.setValue("Workflow", map[string]string{"Status": "NEW"})
		}
		s.index[f.key] = len(s.findings)
		s.findings = append(s.findings, f)
		return
	}
	old := s.findings[i]
	if _, ok := f.fields["RecordState"]; !ok {
		f.set("RecordState", old.fields["RecordState"])
	}
	for _, name := range customerFields {
		if _, sent := f.fields[name]; sent || old.fields[name] != nil {
			f.set(name, old.fields[name])
		}
	}
	if reopened(old, f) {
		if status, _ := f.str("Workflow", "Status"); status == "NOTIFIED" || status == "RESOLVED" {
			f.setValue("Workflow", map[string]string{"Status": "NEW"})
		}
	}
	s.findings[i] = f
}

// reopened reports whether the update from old to f reopens the finding.
func reopened(old, f *finding) bool {
	oldState, _ := old.str("RecordState")
	newState, _ := f.str("RecordState")
	if oldState == "ARCHIVED" && newState == "ACTIVE" {
		return true
	}
	oldCompliance, _ := old.str("Compliance", "Status")
	newCompliance, ok := f.str("Compliance", "Status")
	return oldCompliance == "PASSED" && ok && newCompliance != "PASSED"
}

// parseTime reads an ASFF timestamp (RFC 3339, with or without fraction).
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
