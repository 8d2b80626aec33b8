package asff

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Keys of ProductFields that decoding falls back to.
const (
	pfSeverityLabel = "aws/securityhub/SeverityLabel"
	pfProductName   = "aws/securityhub/ProductName"
	pfCompanyName   = "aws/securityhub/CompanyName"
	pfControlID     = "ControlId"
	pfRuleID        = "RuleId"
)

// DecodeFinding decodes one finding JSON object: ASFF, OCSF (mapped as
// docs/ocsf.md says) or GuardDuty's own (the detail of a "GuardDuty
// Finding" event, as Raw keeps it; see guardduty.go). Raw is a copy of b.
// Missing or oddly typed optional fields are resolved as documented on
// Finding; a value that is not a JSON object, invalid JSON, or a finding
// without its identity (ASFF Id and ProductArn; OCSF finding_info.uid and
// metadata.product.uid; GuardDuty arn) is an error of type *DecodeError
// whose Line and Offset point into b.
func DecodeFinding(b []byte) (*Finding, error) {
	raw := bytes.Clone(b)
	if s := skipSpace(raw, 0); s < len(raw) && raw[s] == '{' && isOCSF(raw, s) {
		return decodeOCSF(raw, s, trimRightSpace(raw), position{line: 1})
	}
	if s := skipSpace(raw, 0); s < len(raw) && raw[s] == '{' {
		if sh, err := classify(raw, s); err == nil && sh == shapeGuardDuty {
			return decodeGuardDuty(raw, position{line: 1})
		}
	}
	return decodeFinding(raw, position{line: 1})
}

// decodeFinding decodes doc, which the caller hands over: the finding's Raw
// aliases it. pos says where doc sits in its input, for errors.
func decodeFinding(doc []byte, pos position) (*Finding, error) {
	start := skipSpace(doc, 0)
	if start >= len(doc) || doc[start] != '{' {
		return nil, pos.errorAt(doc, start, ErrNotFinding, "finding is not a JSON object")
	}
	var w wireFinding
	end, err := fastFinding(doc, start, &w)
	if err != nil || skipSpace(doc, end) != len(doc) {
		// Slow path: encoding/json decodes what the fast decoder declines
		// and names syntax and type errors precisely.
		w = wireFinding{}
		if err := stdjson.Unmarshal(doc, &w); err != nil {
			return nil, decodeFailure(doc, pos, err)
		}
		end = trimRightSpace(doc)
	}
	return finish(&w, doc, start, end, pos)
}

// appendFindingAt decodes the finding value at doc[s] inside a container
// and appends its Result. It returns the index past the value, or an error
// when even the value's extent cannot be found (the container is broken).
func appendFindingAt(out []Result, doc []byte, s int, pos position) ([]Result, int, error) {
	if doc[s] == '{' && isOCSF(doc, s) {
		end, err := valueEnd(doc, s)
		if err != nil {
			return out, 0, err
		}
		return appendOCSF(out, doc, s, end, pos), end, nil
	}
	var w wireFinding
	if end, err := fastFinding(doc, s, &w); err == nil {
		f, ferr := finish(&w, doc, s, end, pos)
		return append(out, Result{Finding: f, Err: ferr}), end, nil
	}
	end, err := valueEnd(doc, s)
	if err != nil {
		return out, 0, err
	}
	f, ferr := decodeFinding(doc[s:end], pos.at(doc, s))
	return append(out, Result{Finding: f, Err: ferr}), end, nil
}

// isOCSF reports whether the object at doc[i] is an OCSF finding, by its
// first key that decides (see classify). It is classify without the
// callback, which would cost an allocation per finding in arrays and
// events.
func isOCSF(doc []byte, i int) bool {
	i = skipSpace(doc, i+1)
	for i < len(doc) && doc[i] == '"' {
		ke := stringEnd(doc, i)
		if ke < 0 {
			return false
		}
		if sh, ok := keyShape(doc[i+1 : ke-1]); ok {
			return sh == shapeOCSF
		}
		vs := skipSpace(doc, skipSpace(doc, ke)+1)
		if vs >= len(doc) {
			return false
		}
		ve, err := valueEnd(doc, vs)
		if err != nil {
			return false
		}
		i = skipSpace(doc, ve)
		if i >= len(doc) || doc[i] != ',' {
			return false
		}
		i = skipSpace(doc, i+1)
	}
	return false
}

// finish checks the required fields of the finding doc[start:end] and
// converts it.
func finish(w *wireFinding, doc []byte, start, end int, pos position) (*Finding, error) {
	if w.Id == "" || w.ProductArn == "" {
		field := "Id"
		if w.Id != "" {
			field = "ProductArn"
		}
		return nil, pos.errorAt(doc, start, ErrMissingField, "missing required field "+field)
	}
	f, err := w.convert()
	if err != nil {
		return nil, pos.errorAt(doc, start, ErrField, err.Error())
	}
	f.Raw = doc[start:end:end]
	return f, nil
}

// decodeFailure turns an encoding/json error into a DecodeError pointing at
// the offending byte.
func decodeFailure(doc []byte, pos position, err error) *DecodeError {
	var se *stdjson.SyntaxError
	if errors.As(err, &se) {
		p := int(se.Offset) - 1
		return pos.errorAt(doc, p, ErrSyntax, nameRune(doc, p, se.Error()))
	}
	var te *stdjson.UnmarshalTypeError
	if errors.As(err, &te) {
		reason := fmt.Sprintf("field %s: unexpected JSON %s", te.Field, te.Value)
		return pos.errorAt(doc, int(te.Offset), err, reason)
	}
	return pos.errorAt(doc, 0, err, err.Error())
}

// nameRune rewrites encoding/json's rendering of a non-ASCII offending byte
// (e.g. 'â' for the first byte of U+2028 LINE SEPARATOR) as the code point,
// which is what the user needs to find it.
func nameRune(doc []byte, p int, reason string) string {
	if p < 0 || p >= len(doc) || doc[p] < utf8.RuneSelf {
		return reason
	}
	r, _ := utf8.DecodeRune(doc[p:])
	return strings.Replace(reason, quoteChar(doc[p]), fmt.Sprintf("U+%04X %q", r, r), 1)
}

// convert resolves the wire form into a Finding (without Raw). A field
// whose value cannot be used (a timestamp in no known layout, a severity
// score that is not a number from 0 to 100) is an error naming it.
func (w *wireFinding) convert() (*Finding, error) {
	pf := map[string]string(w.ProductFields)
	var tp timeParser
	f := &Finding{
		SchemaVersion:     w.SchemaVersion,
		ID:                w.Id,
		ProductArn:        w.ProductArn,
		ProductName:       firstNonEmpty(w.ProductName, pf[pfProductName]),
		CompanyName:       firstNonEmpty(w.CompanyName, pf[pfCompanyName]),
		Region:            findingRegion(w),
		GeneratorID:       w.GeneratorId,
		AwsAccountID:      w.AwsAccountId,
		Types:             w.Types,
		FirstObservedAt:   tp.parse("FirstObservedAt", w.FirstObservedAt),
		LastObservedAt:    tp.parse("LastObservedAt", w.LastObservedAt),
		CreatedAt:         tp.parse("CreatedAt", w.CreatedAt),
		UpdatedAt:         tp.parse("UpdatedAt", w.UpdatedAt),
		Severity:          w.Severity.resolve(pf[pfSeverityLabel]),
		Title:             w.Title,
		Description:       w.Description,
		SourceURL:         w.SourceUrl,
		Remediation:       Remediation{Text: w.Remediation.Recommendation.Text, URL: w.Remediation.Recommendation.Url},
		ProductFields:     pf,
		UserDefinedFields: w.UserDefinedFields,
		Resources:         convertResources(w.Resources),
		Compliance: Compliance{
			Status:            w.Compliance.Status,
			SecurityControlID: firstNonEmpty(w.Compliance.SecurityControlId, pf[pfControlID], pf[pfRuleID]),
		},
		RecordState:    w.RecordState,
		WorkflowStatus: w.Workflow.Status,
		WorkflowState:  w.WorkflowState,
	}
	if f.ProductName == "" || f.CompanyName == "" {
		company, product := productNames(w.ProductArn)
		f.ProductName, f.CompanyName = firstNonEmpty(f.ProductName, product), firstNonEmpty(f.CompanyName, company)
	}
	f.Vulnerabilities = convertVulnerabilities(w.Vulnerabilities)
	f.RelatedFindings = convertRelated(w.RelatedFindings)
	if tp.err != nil {
		return nil, tp.err
	}
	if err := w.Severity.Normalized.check("Severity.Normalized"); err != nil {
		return nil, err
	}
	w.convertFilterFields(f)
	return f, nil
}

// lenientTime parses a timestamp of a field only filters read: one in no
// known layout is the zero time (which no DateFilter matches), not an
// error, as for every filter-only field.
func lenientTime(s string) time.Time {
	var tp timeParser
	return tp.parse("", s)
}

// convertFilterFields fills the fields only filters read.
func (w *wireFinding) convertFilterFields(f *Finding) {
	f.AwsAccountName = w.AwsAccountName.V
	f.VerificationState = w.VerificationState.V
	f.Sample = w.Sample.V
	f.Confidence, f.Criticality = w.Confidence.intPtr(), w.Criticality.intPtr()
	f.SeverityProduct = w.Severity.Product.floatPtr()
	if w.FindingProviderFields != nil {
		pf := w.FindingProviderFields
		f.FindingProviderFields = &ProviderFields{
			Confidence: pf.Confidence.intPtr(), Criticality: pf.Criticality.intPtr(),
			RelatedFindings: convertRelated(pf.RelatedFindings), SeverityLabel: pf.Severity.Label,
			SeverityOriginal: pf.Severity.Original, Types: pf.Types,
		}
	}
	f.Malware = w.Malware.V
	if w.Network != nil {
		n := &w.Network.V
		f.Network = &Network{
			Direction: n.Direction, Protocol: n.Protocol,
			SourceIPv4: n.SourceIpV4, SourceIPv6: n.SourceIpV6, SourceDomain: n.SourceDomain, SourceMac: n.SourceMac,
			DestinationIPv4: n.DestinationIpV4, DestinationIPv6: n.DestinationIpV6, DestinationDomain: n.DestinationDomain,
			SourcePort: n.SourcePort.intPtr(), DestinationPort: n.DestinationPort.intPtr(),
		}
	}
	if w.Note != nil {
		f.Note = &Note{Text: w.Note.V.Text, UpdatedBy: w.Note.V.UpdatedBy, UpdatedAt: lenientTime(w.Note.V.UpdatedAt)}
	}
	if w.Process != nil {
		p := &w.Process.V
		f.Process = &Process{Name: p.Name, Path: p.Path, Pid: p.Pid.intPtr(), ParentPid: p.ParentPid.intPtr(),
			LaunchedAt: lenientTime(p.LaunchedAt), TerminatedAt: lenientTime(p.TerminatedAt)}
	}
	for _, t := range w.ThreatIntelIndicators.V {
		f.ThreatIntelIndicators = append(f.ThreatIntelIndicators, ThreatIntelIndicator{
			Type: t.Type, Value: t.Value, Category: t.Category, Source: t.Source, SourceURL: t.SourceUrl,
			LastObservedAt: lenientTime(t.LastObservedAt),
		})
	}
	for _, a := range w.Compliance.AssociatedStandards.V {
		f.Compliance.AssociatedStandards = append(f.Compliance.AssociatedStandards, a.StandardsId)
	}
	for _, p := range w.Compliance.SecurityControlParameters.V {
		f.Compliance.SecurityControlParameters = append(f.Compliance.SecurityControlParameters,
			ControlParameter{Name: p.Name, Values: p.Value})
	}
}

// resolve picks the severity label: Label, then the SeverityLabel product
// field, then the band of Normalized, else INFORMATIONAL.
func (s wireSeverity) resolve(pfLabel string) Severity {
	out := Severity{Normalized: s.Normalized.Value, Original: s.Original}
	if l, ok := canonicalLabel(s.Label); ok {
		out.Label = l
	} else if l, ok := canonicalLabel(pfLabel); ok {
		out.Label = l
	} else if s.Normalized.Set {
		out.Label = LabelForNormalized(s.Normalized.Value)
	} else {
		out.Label = "INFORMATIONAL"
	}
	return out
}

// canonicalLabel upper-cases a severity label and reports whether it is one
// of the five ASFF labels.
func canonicalLabel(l string) (string, bool) {
	switch l {
	case "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL":
		return l, true
	case "":
		return "", false
	}
	u := strings.ToUpper(strings.TrimSpace(l))
	switch u {
	case "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL":
		return u, true
	}
	return "", false
}

// LabelForNormalized maps a Severity.Normalized score (0-100) to its ASFF
// label: 0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH, 90-100 CRITICAL.
func LabelForNormalized(n float64) string {
	switch {
	case n < 1:
		return "INFORMATIONAL"
	case n < 40:
		return "LOW"
	case n < 70:
		return "MEDIUM"
	case n < 90:
		return "HIGH"
	}
	return "CRITICAL"
}

// arnRegion returns the region of "arn:<partition>:<service>:<region>:...",
// or "" when s is not shaped like an ARN.
func arnRegion(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	if strings.Count(s, ":") < 4 {
		return ""
	}
	// Some published findings carry an extra colon
	// (arn:aws::securityhub:us-east-1::product/...): take the first field
	// after the partition (fields 2 to 5) that looks like a region. The
	// fields are cut in place: decoding calls this for every finding.
	rest := s
	for i := range 6 {
		field, after, found := strings.Cut(rest, ":")
		if i >= 2 && isRegion(field) {
			return field
		}
		if !found {
			break
		}
		rest = after
	}
	return ""
}

// isRegion reports whether s looks like an AWS region: lower-case letters
// and digits in dash-separated parts ending in a digit (us-east-1,
// us-gov-west-1, eu-central-2).
func isRegion(s string) bool {
	if len(s) < 9 || strings.Count(s, "-") < 2 || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// timeLayouts are tried in order: RFC 3339 (with any fractional seconds),
// then the variants real producers write: no zone (taken as UTC), a space
// instead of the T, a zone without a colon.
var timeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999 MST",
	"2006-01-02 15:04:05.999999999 MST",
}

// timeParser parses a finding's timestamps, keeping the first failure.
type timeParser struct{ err error }

// parse parses the timestamp s of the named field into UTC; "" is the zero
// time, and a value in no known layout records an error naming the field.
func (tp *timeParser) parse(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if tp.err == nil {
		tp.err = fmt.Errorf("field %s: %.40q is not a timestamp (want RFC 3339, e.g. 2024-05-24T00:26:57Z)", field, s)
	}
	return time.Time{}
}

func convertResources(in []wireResource) []Resource {
	if in == nil {
		return nil
	}
	out := make([]Resource, len(in))
	for i, r := range in {
		out[i] = Resource{Type: r.Type, ID: r.Id, Partition: r.Partition, Region: r.Region, Tags: r.Tags,
			ApplicationArn: r.ApplicationArn.V, ApplicationName: r.ApplicationName.V}
		if raw := r.Details.Raw; len(raw) > 0 && string(raw) != "null" {
			out[i].Details = []byte(raw)
			if r.Details.Fields != nil {
				out[i].DetailFields = r.Details.Fields.convert()
			}
		}
	}
	return out
}

func convertVulnerabilities(in []wireVulnerability) []Vulnerability {
	if in == nil {
		return nil
	}
	out := make([]Vulnerability, len(in))
	for i, v := range in {
		out[i] = Vulnerability{ID: v.Id, Severity: v.Vendor.VendorSeverity,
			FixAvailable: v.FixAvailable.V, ExploitAvailable: v.ExploitAvailable.V}
	}
	return out
}

func convertRelated(in []wireRelated) []RelatedFinding {
	if in == nil {
		return nil
	}
	out := make([]RelatedFinding, len(in))
	for i, r := range in {
		out[i] = RelatedFinding{ProductArn: r.ProductArn, ID: r.Id}
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// findingRegion is the finding's Region, else its ProductArn's, else its first
// resource's (the fallbacks worked out only when needed).
func findingRegion(w *wireFinding) string {
	if w.Region != "" {
		return w.Region
	}
	if r := arnRegion(w.ProductArn); r != "" {
		return r
	}
	return resourceRegion(w.Resources)
}

// resourceRegion is the first resource's region, the last fallback for a
// finding that names its region nowhere else.
func resourceRegion(rs []wireResource) string {
	for _, r := range rs {
		if isRegion(r.Region) {
			return r.Region
		}
	}
	return ""
}

// detailKeys are the members of a resource's Details that filters read.
var detailKeys = []string{"AwsEc2Instance", "AwsIamAccessKey", "AwsIamUser", "AwsS3Bucket", "Container", "Other"}

// detailFields reads the members of the Details object raw that filters
// read. Only those members are decoded (leniently: a member of an
// unexpected type is left zero); the rest, often most of Details, is only
// skipped over.
func detailFields(raw []byte) *wireDetails {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil
	}
	var w *wireDetails // allocated at the first member filters read
	_, _ = members(raw, i, false, func(key []byte, vs int) (int, error) {
		ve, err := valueEnd(raw, vs)
		if err != nil {
			return 0, err
		}
		if name := foldedName(key, detailKeys); name != "" {
			ensure(&w).decode(name, raw[vs:ve])
		}
		return ve, nil
	})
	return w
}

// Keys of the Details members filters read.
var (
	ec2Keys       = []string{"Type", "ImageId", "KeyName", "IamInstanceProfileArn", "VpcId", "SubnetId", "LaunchedAt", "IpV4Addresses", "IpV6Addresses"}
	accessKeyKeys = []string{"UserName", "Status", "PrincipalName", "CreatedAt"}
	userKeys      = []string{"UserName"}
	bucketKeys    = []string{"OwnerId", "OwnerName"}
	containerKeys = []string{"Name", "ImageId", "ImageName", "LaunchedAt"}
)

// decode reads the Details member name from v with the fast decoder's
// primitives, falling back to encoding/json (which keeps what has the
// expected type) when a value has another type.
func (w *wireDetails) decode(name string, v []byte) {
	var err error
	switch name {
	case "AwsEc2Instance":
		e := &w.AwsEc2Instance
		_, err = object(v, 0, ec2Keys, func(k []byte, s int) (int, error) {
			switch string(k) {
			case "IpV4Addresses":
				return stringList(v, s, &e.IpV4Addresses)
			case "IpV6Addresses":
				return stringList(v, s, &e.IpV6Addresses)
			}
			if dst := pickString(string(k), ec2Keys[:7], &e.Type, &e.ImageId, &e.KeyName, &e.IamInstanceProfileArn, &e.VpcId, &e.SubnetId, &e.LaunchedAt); dst != nil {
				return stringValue(v, s, dst)
			}
			return -1, nil
		})
	case "AwsIamAccessKey":
		k := &w.AwsIamAccessKey
		_, err = stringsObject(v, 0, accessKeyKeys, func(key []byte) *string {
			return pickString(string(key), accessKeyKeys, &k.UserName, &k.Status, &k.PrincipalName, &k.CreatedAt)
		})
	case "AwsIamUser":
		_, err = stringsObject(v, 0, userKeys, func(key []byte) *string {
			return pickString(string(key), userKeys, &w.AwsIamUser.UserName)
		})
	case "AwsS3Bucket":
		b := &w.AwsS3Bucket
		_, err = stringsObject(v, 0, bucketKeys, func(key []byte) *string {
			return pickString(string(key), bucketKeys, &b.OwnerId, &b.OwnerName)
		})
	case "Container":
		c := &w.Container
		_, err = stringsObject(v, 0, containerKeys, func(key []byte) *string {
			return pickString(string(key), containerKeys, &c.Name, &c.ImageId, &c.ImageName, &c.LaunchedAt)
		})
	default: // Other
		err = w.Other.UnmarshalJSON(v)
	}
	if err != nil {
		_ = stdjson.Unmarshal(v, w.member(name)) // a type mismatch keeps the other members
	}
}

// pickString returns the destination of key: dsts[i] for keys[i], or nil.
func pickString(key string, keys []string, dsts ...*string) *string {
	for i, k := range keys {
		if k == key {
			return dsts[i]
		}
	}
	return nil
}

// member returns where the Details member name decodes to.
func (w *wireDetails) member(name string) any {
	switch name {
	case "AwsEc2Instance":
		return &w.AwsEc2Instance
	case "AwsIamAccessKey":
		return &w.AwsIamAccessKey
	case "AwsIamUser":
		return &w.AwsIamUser
	case "AwsS3Bucket":
		return &w.AwsS3Bucket
	case "Container":
		return &w.Container
	}
	return &w.Other
}

func (w *wireDetails) convert() *DetailFields {
	e, k, c := &w.AwsEc2Instance, &w.AwsIamAccessKey, &w.Container
	w.out = DetailFields{
		Ec2Instance: Ec2Instance{Type: e.Type, ImageID: e.ImageId, KeyName: e.KeyName,
			IamInstanceProfileArn: e.IamInstanceProfileArn, VpcID: e.VpcId, SubnetID: e.SubnetId,
			IPv4Addresses: e.IpV4Addresses, IPv6Addresses: e.IpV6Addresses, LaunchedAt: lenientTime(e.LaunchedAt)},
		IamAccessKey: IamAccessKey{UserName: k.UserName, Status: k.Status, PrincipalName: k.PrincipalName,
			CreatedAt: lenientTime(k.CreatedAt)},
		IamUserName: w.AwsIamUser.UserName,
		S3Bucket:    S3Bucket{OwnerID: w.AwsS3Bucket.OwnerId, OwnerName: w.AwsS3Bucket.OwnerName},
		Container:   Container{Name: c.Name, ImageID: c.ImageId, ImageName: c.ImageName, LaunchedAt: lenientTime(c.LaunchedAt)},
		Other:       w.Other,
	}
	return &w.out
}
