package asff

import (
	"bytes"
	"strconv"
	"unsafe"

	json "github.com/goccy/go-json"
)

// wireFinding mirrors the ASFF JSON object closely enough for goccy/go-json
// to decode it in one pass; convert turns it into a Finding. Only fields that
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
	ProductFields     map[string]flexString
	UserDefinedFields map[string]flexString
	Resources         []wireResource
	Compliance        wireCompliance
	RecordState       string
	Workflow          wireWorkflow
	WorkflowState     string
	Vulnerabilities   []wireVulnerability
	RelatedFindings   []wireRelated
}

type wireSeverity struct {
	Label      flexString
	Normalized flexNumber
	Original   flexString
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
	Tags      map[string]flexString
	Details   json.RawMessage
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

// flexString accepts a JSON string, number, boolean or null; non-strings are
// kept as their JSON text (null becomes "").
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		// The decoder hands every UnmarshalJSON call a fresh copy that
		// nothing else writes to, so the string may share its bytes.
		*s = flexString(unsafe.String(unsafe.SliceData(b[1:]), len(b)-2))
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case string(b) == "null":
		*s = ""
	default:
		*s = flexString(b)
	}
	return nil
}

// flexNumber accepts a JSON number or a string holding one; Set reports
// whether a usable value was present.
type flexNumber struct {
	Value float64
	Set   bool
}

// UnmarshalJSON implements json.Unmarshaler. A string that is not a number
// leaves the value unset rather than failing the whole finding.
func (n *flexNumber) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil {
		return nil
	}
	n.Value, n.Set = v, true
	return nil
}
