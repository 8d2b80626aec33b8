package asff

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// Format says which schema a finding was decoded from.
type Format int

const (
	// FormatASFF is the AWS Security Finding Format (Security Hub CSPM).
	FormatASFF Format = iota
	// FormatOCSF is an OCSF finding (the new Security Hub, Security Lake,
	// Prowler and ElectricEye OCSF output), mapped into the ASFF model.
	FormatOCSF
	// FormatGuardDuty is GuardDuty's own finding (a "GuardDuty Finding"
	// event's detail), mapped as Security Hub's integration does (see
	// guardduty.go).
	FormatGuardDuty
)

// String names the format as the docs and decisions do.
func (f Format) String() string {
	switch f {
	case FormatOCSF:
		return "OCSF"
	case FormatGuardDuty:
		return "GuardDuty"
	}
	return "ASFF"
}

// decodeOCSF decodes the OCSF finding doc[s:e] and maps it into a Finding
// whose Raw is doc[s:e].
func decodeOCSF(doc []byte, s, e int, pos position) (*Finding, error) {
	raw := doc[s:e:e]
	var o ocsfFinding
	if end, err := fastOCSF(raw, 0, &o); err != nil || end != len(raw) {
		slow, err := decodeOCSFSlow(raw, pos.at(doc, s))
		if err != nil {
			return nil, err
		}
		o = *slow
	}
	f, err := o.toFinding()
	if err != nil {
		cause := ErrField
		if errors.Is(err, ErrMissingField) {
			cause = ErrMissingField
		}
		return nil, pos.errorAt(doc, s, cause, err.Error())
	}
	f.Raw = raw
	return f, nil
}

// decodeOCSFSlow decodes what the fast decoder declines. goccy/go-json skips
// unknown members without validating them: the strict validator makes
// sure raw is JSON first.
func decodeOCSFSlow(raw []byte, pos position) (*ocsfFinding, error) {
	if end, err := skipStrict(raw, 0, 0); err != nil || end != len(raw) {
		return nil, ocsfFailure(raw, pos, errFast)
	}
	o := new(ocsfFinding)
	if err := json.UnmarshalNoEscape(raw, o); err != nil {
		return nil, ocsfFailure(raw, pos, err)
	}
	return o, nil
}

// ocsfFailure words a JSON error of an OCSF finding with encoding/json's
// precise position (the fast decoder's messages do not say where).
func ocsfFailure(raw []byte, pos position, err error) error {
	var w ocsfFinding
	if serr := stdjson.Unmarshal(raw, &w); serr != nil {
		de := decodeFailure(raw, pos, serr)
		de.Reason = "OCSF finding: " + de.Reason
		return de
	}
	return pos.errorAt(raw, 0, ErrSyntax, "OCSF finding: "+err.Error())
}

// ocsfSeverityLabels maps severity_id to the ASFF label (6 Fatal is
// CRITICAL; 0 Unknown and 99 Other fall back to the severity text).
var ocsfSeverityLabels = map[int]string{1: "INFORMATIONAL", 2: "LOW", 3: "MEDIUM", 4: "HIGH", 5: "CRITICAL", 6: "CRITICAL"}

// labelScores gives a label's Severity.Normalized: the low end of its band.
var labelScores = map[string]float64{"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}

// ocsfWorkflow maps status_id to Workflow.Status (In Progress ~ NOTIFIED).
var ocsfWorkflow = map[int]string{1: "NEW", 2: "NOTIFIED", 3: "SUPPRESSED", 4: "RESOLVED"}

// ocsfWorkflowText maps the status text when status_id says 0 or 99.
var ocsfWorkflowText = map[string]string{"new": "NEW", "in progress": "NOTIFIED", "suppressed": "SUPPRESSED", "resolved": "RESOLVED"}

// ocsfCompliance maps compliance.status_id (1 Pass, 2 Warning, 3 Fail) and
// compliance.status text to Compliance.Status.
var (
	ocsfComplianceIDs  = map[int]string{1: "PASSED", 2: "WARNING", 3: "FAILED"}
	ocsfComplianceText = map[string]string{"pass": "PASSED", "warning": "WARNING", "fail": "FAILED"}
)

// activityClose is the activity_id of "Close": the finding is closed.
const activityClose = 3

// toFinding is the one place OCSF becomes the ASFF model; docs/ocsf.md
// holds the same mapping as a table. It fails on a finding without
// finding_info.uid or metadata.product.uid (the identity) and on a
// timestamp in no known layout.
func (o *ocsfFinding) toFinding() (*Finding, error) {
	fi := &o.FindingInfo
	switch {
	case fi.UID == "":
		return nil, fmt.Errorf("%w finding_info.uid", ErrMissingField)
	case o.Metadata.Product.UID == "":
		return nil, fmt.Errorf("%w metadata.product.uid", ErrMissingField)
	}
	productArn := productV1(o.Metadata.Product.UID)
	var tp timeParser
	f := &Finding{
		Format:          FormatOCSF,
		SchemaVersion:   "OCSF " + o.Metadata.Version,
		ID:              fi.UID,
		ProductArn:      productArn,
		ProductName:     o.Metadata.Product.Name,
		CompanyName:     o.Metadata.Product.VendorName,
		AwsAccountID:    o.Cloud.Account.UID,
		Types:           ocsfTypes(fi.Types, productArn),
		FirstObservedAt: tp.ocsf("finding_info.first_seen_time_dt", fi.FirstSeenTimeDt, fi.FirstSeenTime),
		LastObservedAt:  tp.ocsf("finding_info.last_seen_time_dt", fi.LastSeenTimeDt, fi.LastSeenTime),
		CreatedAt:       tp.ocsf("finding_info.created_time_dt", fi.CreatedTimeDt, fi.CreatedTime),
		UpdatedAt:       tp.ocsf("finding_info.modified_time_dt", fi.ModifiedTimeDt, fi.ModifiedTime),
		Severity:        o.severity(),
		Title:           fi.Title,
		Description:     fi.Desc,
		SourceURL:       fi.SrcURL,
		Remediation:     Remediation{Text: o.Remediation.Desc, URL: first(o.Remediation.References)},
		Resources:       o.resources(),
		Compliance:      o.compliance(),
		RecordState:     "ACTIVE",
		WorkflowStatus:  o.workflow(),
		Vulnerabilities: o.vulnerabilities(),
		RelatedFindings: o.related(),
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = tp.ocsf("time_dt", o.TimeDt, o.Time)
	}
	if o.ActivityID == activityClose || strings.EqualFold(o.ActivityName, "Close") {
		f.RecordState = "ARCHIVED"
	}
	f.Region = o.Cloud.Region
	if f.Region == "" {
		f.Region = firstNonEmpty(arnRegion(productArn), ocsfResourceRegion(f.Resources))
	}
	// CompanyName as Security Hub CSPM gives AWS products, so an ASFF
	// filter on it treats an OCSF finding as its ASFF twin; else the
	// vendor_name. Names missing from metadata come from the ARN.
	if strings.Contains(productArn, ":product/aws/") || f.ProductName == "" || f.CompanyName == "" {
		company, product := productNames(productArn)
		f.ProductName = firstNonEmpty(f.ProductName, product)
		if company == "AWS" || company == "Amazon" || f.CompanyName == "" {
			f.CompanyName = company
		}
	}
	f.GeneratorID = fi.Analytic.UID
	if f.Compliance.SecurityControlID != "" {
		f.GeneratorID = "security-control/" + f.Compliance.SecurityControlID
	}
	if tp.err != nil {
		return nil, tp.err
	}
	return f, nil
}

// productV1 reads a productv2 ARN as the product ARN Security Hub CSPM
// gives the same product.
func productV1(arn string) string {
	if !strings.Contains(arn, ":productv2/") {
		return arn
	}
	return strings.Replace(arn, ":productv2/", ":product/", 1)
}

// workflow maps status_id, else the status text, to Workflow.Status.
func (o *ocsfFinding) workflow() string {
	if w, ok := ocsfWorkflow[o.StatusID]; ok {
		return w
	}
	return ocsfWorkflowText[strings.ToLower(o.Status)]
}

// severity maps severity_id (or, for 0 Unknown / 99 Other, the severity
// text) to the ASFF label; Original keeps the text.
func (o *ocsfFinding) severity() Severity {
	label, ok := ocsfSeverityLabels[o.SeverityID]
	if !ok {
		if label, ok = canonicalLabel(o.Severity); !ok {
			label = "INFORMATIONAL"
		}
	}
	return Severity{Label: label, Normalized: labelScores[label], Original: o.Severity}
}

// resources maps resources[]: the ASFF type name and the resource's ARN as
// its Id (see resourceID), tags {name,value} as a map, data kept raw.
func (o *ocsfFinding) resources() []Resource {
	if o.Resources == nil {
		return nil
	}
	out := make([]Resource, len(o.Resources))
	for i, r := range o.Resources {
		partition := firstNonEmpty(r.CloudPartition, o.Cloud.CloudPartition, "aws")
		out[i] = Resource{
			Type:      asffResourceType(r.Type),
			ID:        resourceID(r, partition, o.Cloud.Region, firstNonEmpty(r.Owner.Account.UID, o.Cloud.Account.UID)),
			Partition: partition,
			Region:    r.Region,
			Tags:      ocsfTagMap(r.Tags),
		}
		if len(r.Data) > 0 && string(r.Data) != "null" {
			out[i].Data = []byte(r.Data)
		}
	}
	return out
}

func ocsfTagMap(tags []ocsfTag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Name] = t.Value
	}
	return m
}

// compliance maps compliance.control, status and standards.
func (o *ocsfFinding) compliance() Compliance {
	c := o.Compliance
	if c == nil {
		return Compliance{}
	}
	status, ok := ocsfComplianceIDs[c.StatusID]
	if !ok {
		status = ocsfComplianceText[strings.ToLower(c.Status)]
	}
	if status == "" && c.Control != "" {
		status = "NOT_AVAILABLE"
	}
	return Compliance{Status: status, SecurityControlID: c.Control, Standards: c.Standards}
}

func (o *ocsfFinding) vulnerabilities() []Vulnerability {
	if o.Vulnerabilities == nil {
		return nil
	}
	out := make([]Vulnerability, len(o.Vulnerabilities))
	for i, v := range o.Vulnerabilities {
		out[i] = Vulnerability{ID: v.CVE.UID, Severity: v.Severity}
	}
	return out
}

func (o *ocsfFinding) related() []RelatedFinding {
	evs := o.FindingInfo.RelatedEvents
	if evs == nil {
		return nil
	}
	out := make([]RelatedFinding, len(evs))
	for i, e := range evs {
		out[i] = RelatedFinding{ID: e.UID, ProductArn: productV1(e.Product.UID)}
	}
	return out
}

// ocsf parses an OCSF time: the *_dt string when present, else the epoch
// milliseconds; neither is the zero time.
func (tp *timeParser) ocsf(field, dt string, ms int64) time.Time {
	if dt != "" {
		return tp.parse(field, dt)
	}
	if ms != 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

func ocsfResourceRegion(rs []Resource) string {
	for _, r := range rs {
		if isRegion(r.Region) {
			return r.Region
		}
	}
	return ""
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
