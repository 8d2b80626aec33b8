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

	// Fields only filters read, each decoded leniently (see lenient).
	AwsAccountName        lenient[string]
	VerificationState     lenient[string]
	Sample                lenient[bool]
	Confidence            wireNumber
	Criticality           wireNumber
	FindingProviderFields *wireProviderFields // pointers: most findings lack these
	Malware               lenient[[]Malware]
	Network               *lenient[wireNetwork]
	Note                  *lenient[wireNote]
	Process               *lenient[wireProcess]
	ThreatIntelIndicators lenient[[]wireIndicator]
}

// lenient decodes a T with encoding/json and never fails: a member of an
// unexpected type is left zero and the rest kept. It holds the fields only
// filters read, so a producer's odd value there cannot cost the finding.
// The document was validated before, so syntax errors cannot reach it.
type lenient[T any] struct{ V T }

// UnmarshalJSON implements json.Unmarshaler.
func (l *lenient[T]) UnmarshalJSON(b []byte) error {
	_ = stdjson.Unmarshal(b, &l.V) // a type mismatch keeps the other members
	return nil
}

// ensure returns *p, allocating it first when nil (as encoding/json does
// for a pointer field, reusing it when a key repeats).
func ensure[T any](p **T) *T {
	if *p == nil {
		*p = new(T)
	}
	return *p
}

// wireProviderFields is FindingProviderFields, present on every finding
// Security Hub has seen since 2021, so it is decoded by hand (parse), with
// encoding/json only as a lenient fallback.
type wireProviderFields struct {
	Confidence      wireNumber
	Criticality     wireNumber
	RelatedFindings []wireRelated
	Severity        struct{ Label, Original string }
	Types           []string
}

// providerKeys and severityKeys are the members of FindingProviderFields
// and of its Severity that filters read.
var (
	providerKeys = []string{"Confidence", "Criticality", "RelatedFindings", "Severity", "Types"}
	severityKeys = []string{"Label", "Original"}
)

// UnmarshalJSON implements json.Unmarshaler, leniently like lenient: the
// fast decoder's primitives first, encoding/json when a member has an
// unexpected type.
func (p *wireProviderFields) UnmarshalJSON(b []byte) error {
	vs := skipSpace(b, 0)
	if vs < len(b) {
		if _, err := p.parse(b, vs); err == nil {
			return nil
		}
	}
	*p = wireProviderFields{}
	type plain wireProviderFields // without this method
	_ = stdjson.Unmarshal(b, (*plain)(p))
	return nil
}

func (p *wireProviderFields) parse(b []byte, vs int) (int, error) {
	return object(b, vs, providerKeys, func(k []byte, s int) (int, error) {
		switch string(k) {
		case "Confidence":
			return unmarshalValidated(b, s, p.Confidence.UnmarshalJSON)
		case "Criticality":
			return unmarshalValidated(b, s, p.Criticality.UnmarshalJSON)
		case "RelatedFindings":
			return list(b, s, &p.RelatedFindings, (*wireRelated).parse)
		case "Types":
			return stringList(b, s, &p.Types)
		case "Severity":
			sev := &p.Severity
			return stringsObject(b, s, severityKeys, func(k []byte) *string {
				switch string(k) {
				case "Label":
					return &sev.Label
				case "Original":
					return &sev.Original
				}
				return nil
			})
		}
		return -1, nil
	})
}

type wireNetwork struct {
	Direction, Protocol                                 string
	SourceIpV4, SourceIpV6, SourceDomain, SourceMac     string
	DestinationIpV4, DestinationIpV6, DestinationDomain string
	SourcePort, DestinationPort                         wireNumber
}

type wireNote struct{ Text, UpdatedBy, UpdatedAt string }

type wireProcess struct {
	Name, Path               string
	Pid, ParentPid           wireNumber
	LaunchedAt, TerminatedAt string
}

type wireIndicator struct {
	Type, Value, Category, Source, SourceUrl, LastObservedAt string
}

// wireDetailsJSON is a resource's Details: the raw JSON, and the members
// filters read (nil when it has none). The fast decoder fills both in its
// one pass over the document; encoding/json calls UnmarshalJSON.
type wireDetailsJSON struct {
	Raw    stdjson.RawMessage
	Fields *wireDetails
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *wireDetailsJSON) UnmarshalJSON(b []byte) error {
	d.Raw = append(d.Raw[:0:0], b...)
	d.Fields = detailFields(b)
	return nil
}

// wireDetails is the part of a resource's Details filters read.
type wireDetails struct {
	AwsEc2Instance struct {
		Type, ImageId, KeyName, IamInstanceProfileArn, VpcId, SubnetId, LaunchedAt string
		IpV4Addresses, IpV6Addresses                                               []string
	}
	AwsIamAccessKey struct{ UserName, Status, PrincipalName, CreatedAt string }
	AwsIamUser      struct{ UserName string }
	AwsS3Bucket     struct{ OwnerId, OwnerName string }
	Container       struct{ Name, ImageId, ImageName, LaunchedAt string }
	Other           flexMap

	// out is the converted form convert returns: one allocation for both.
	out DetailFields
}

// wireSeverity decodes itself: one pass instead of three flex fields.
type wireSeverity struct {
	Label      string
	Normalized flexNumber
	Original   string
	Product    wireNumber
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
		case strings.EqualFold(string(key), "Product"):
			err = s.Product.UnmarshalJSON(v)
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
	Type            string
	Id              string
	Partition       string
	Region          string
	Tags            flexMap
	Details         wireDetailsJSON
	ApplicationArn  lenient[string]
	ApplicationName lenient[string]
}

type wireCompliance struct {
	Status                    string
	SecurityControlId         string
	AssociatedStandards       lenient[[]struct{ StandardsId string }]
	SecurityControlParameters lenient[[]struct {
		Name  string
		Value []string
	}]
}

type wireWorkflow struct {
	Status string
}

type wireVulnerability struct {
	Id     string
	Vendor struct {
		VendorSeverity string
	}
	FixAvailable     lenient[string]
	ExploitAvailable lenient[string]
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

// wireNumber is a number, or a string holding one, of a field only filters
// read (a port, a pid, a score): any finite value; anything else leaves it
// unset rather than failing the finding.
type wireNumber struct {
	Value float64
	Set   bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *wireNumber) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	v, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
		n.Value, n.Set = v, true
	}
	return nil
}

// intPtr returns the value as an int, or nil when none was given.
func (n wireNumber) intPtr() *int {
	if !n.Set {
		return nil
	}
	v := int(n.Value)
	return &v
}

// floatPtr returns the value, or nil when none was given.
func (n wireNumber) floatPtr() *float64 {
	if !n.Set {
		return nil
	}
	v := n.Value
	return &v
}

// check reports a value UnmarshalJSON could not use, naming the field.
func (n flexNumber) check(field string) error {
	if n.Bad == "" {
		return nil
	}
	return fmt.Errorf("field %s: %.40q is not a number from 0 to 100", field, n.Bad)
}
