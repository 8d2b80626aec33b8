// Package asff holds the AWS Security Finding Format model that every other
// hubtriage package works on, and the tolerant, streaming decoder that turns
// files, folders and stdin into findings. OCSF findings of the new Security
// Hub are decoded into the same model (ocsf.go; docs/ocsf.md).
package asff

import (
	"net/url"
	"strings"
	"time"
)

// Finding is one decoded ASFF finding. Only the fields hubtriage reasons about
// are typed; Raw keeps the original JSON object byte for byte so later stages
// can re-emit it unchanged.
//
// Decoding fills resolved values: Severity.Label falls back to
// ProductFields["aws/securityhub/SeverityLabel"] and then to the label implied
// by Severity.Normalized; ProductName, CompanyName and Region fall back to
// their "aws/securityhub/..." ProductFields (and Region to the ProductArn).
type Finding struct {
	// Format is the schema the finding was decoded from: ASFF, or OCSF
	// mapped into these fields (see docs/ocsf.md); Raw is in that schema.
	Format            Format
	SchemaVersion     string
	ID                string
	ProductArn        string
	ProductName       string
	CompanyName       string
	Region            string
	GeneratorID       string
	AwsAccountID      string
	Types             []string
	FirstObservedAt   time.Time
	LastObservedAt    time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Severity          Severity
	Title             string
	Description       string
	SourceURL         string
	Remediation       Remediation
	ProductFields     map[string]string
	UserDefinedFields map[string]string
	Resources         []Resource
	Compliance        Compliance
	RecordState       string // ACTIVE or ARCHIVED
	WorkflowStatus    string // Workflow.Status: NEW, NOTIFIED, RESOLVED, SUPPRESSED
	WorkflowState     string // deprecated WorkflowState, kept for filters
	Vulnerabilities   []Vulnerability
	RelatedFindings   []RelatedFinding

	// The fields below are read only by filters. Each is zero when the
	// finding lacks it, and a value of an unexpected type leaves it zero
	// rather than failing the finding.

	AwsAccountName        string
	VerificationState     string // UNKNOWN, TRUE_POSITIVE, FALSE_POSITIVE, BENIGN_POSITIVE
	Sample                bool
	SeverityProduct       *float64        // the deprecated Severity.Product
	Confidence            *int            // 0-100
	Criticality           *int            // 0-100
	FindingProviderFields *ProviderFields // nil when absent, as are Network, Note and Process
	Malware               []Malware
	Network               *Network
	Note                  *Note
	Process               *Process
	ThreatIntelIndicators []ThreatIntelIndicator

	// Raw is the finding's original JSON object, exactly as read.
	Raw []byte
}

// ProviderFields is FindingProviderFields: the values the finding provider
// set, which BatchUpdateFindings does not change.
type ProviderFields struct {
	Confidence      *int
	Criticality     *int
	RelatedFindings []RelatedFinding
	SeverityLabel   string
	// SeverityOriginal is FindingProviderFields.Severity.Original.
	SeverityOriginal string
	Types            []string
}

// Malware is one entry of the finding's Malware list.
type Malware struct {
	Name, Path, State, Type string
}

// Network is the finding's Network object.
type Network struct {
	Direction, Protocol                                 string
	SourceIPv4, SourceIPv6, SourceDomain, SourceMac     string
	DestinationIPv4, DestinationIPv6, DestinationDomain string
	SourcePort, DestinationPort                         *int
}

// Note is the user-defined note of the finding.
type Note struct {
	Text, UpdatedBy string
	UpdatedAt       time.Time
}

// Process is the finding's Process object.
type Process struct {
	Name, Path               string
	Pid, ParentPid           *int
	LaunchedAt, TerminatedAt time.Time
}

// ThreatIntelIndicator is one entry of the (deprecated) ThreatIntelIndicators list.
type ThreatIntelIndicator struct {
	Type, Value, Category, Source, SourceURL string
	LastObservedAt                           time.Time
}

// Severity is the finding's severity. Label is always one of INFORMATIONAL,
// LOW, MEDIUM, HIGH, CRITICAL after decoding (INFORMATIONAL when nothing says).
type Severity struct {
	Label      string
	Normalized float64
	Original   string
}

// Remediation is the finding's recommended fix.
type Remediation struct {
	Text string
	URL  string
}

// Resource is one entry of the finding's Resources list.
type Resource struct {
	Type      string
	ID        string
	Partition string
	Region    string
	Tags      map[string]string
	// Details is the raw JSON of the resource's Details object (nil when absent).
	Details []byte
	// Data is the raw JSON of an OCSF resource's data object (nil for ASFF
	// and when absent); its shape is the reporting service's own.
	Data []byte
	// SecurityGroups are the ids of the security groups attached to an
	// instance, when the source names them: GuardDuty's own findings
	// (resource.instanceDetails.networkInterfaces[].securityGroups[].groupId)
	// and OCSF findings (resources[].data.network_interfaces[].
	// security_groups[]). ASFF has no such field: nil for ASFF findings.
	SecurityGroups []string

	// Read only by filters (zero when absent).
	ApplicationArn  string
	ApplicationName string
	// DetailFields holds the parts of Details that filters read; nil when
	// Details has none of them.
	DetailFields *DetailFields
}

// DetailFields are the members of a resource's Details that
// AwsSecurityFindingFilters can filter on.
type DetailFields struct {
	Ec2Instance  Ec2Instance
	IamAccessKey IamAccessKey
	IamUserName  string // Details.AwsIamUser.UserName
	S3Bucket     S3Bucket
	Container    Container
	// Other is Details.Other, values read as with ProductFields.
	Other map[string]string
}

// Ec2Instance is Details.AwsEc2Instance.
type Ec2Instance struct {
	Type, ImageID, KeyName, IamInstanceProfileArn, VpcID, SubnetID string
	IPv4Addresses, IPv6Addresses                                   []string
	LaunchedAt                                                     time.Time
}

// IamAccessKey is Details.AwsIamAccessKey.
type IamAccessKey struct {
	UserName, Status, PrincipalName string
	CreatedAt                       time.Time
}

// S3Bucket is Details.AwsS3Bucket.
type S3Bucket struct {
	OwnerID, OwnerName string
}

// Container is Details.Container.
type Container struct {
	Name, ImageID, ImageName string
	LaunchedAt               time.Time
}

// Compliance carries the control result of a standards finding.
type Compliance struct {
	Status            string // PASSED, WARNING, FAILED, NOT_AVAILABLE
	SecurityControlID string // resolved: Compliance.SecurityControlId, else ProductFields ControlId / RuleId
	// Standards lists the OCSF finding's compliance.standards (nil for
	// ASFF findings, whose standards are in AssociatedStandards).
	Standards []string
	// AssociatedStandards lists the StandardsId of each AssociatedStandards entry.
	AssociatedStandards       []string
	SecurityControlParameters []ControlParameter
}

// ControlParameter is one entry of Compliance.SecurityControlParameters.
type ControlParameter struct {
	Name   string
	Values []string
}

// Vulnerability is one entry of the finding's Vulnerabilities list.
type Vulnerability struct {
	ID       string
	Severity string // Vulnerabilities[].Cvss base severity when present (informational)
	// FixAvailable and ExploitAvailable are YES, NO or PARTIAL (Amazon
	// Inspector), empty when absent.
	FixAvailable     string
	ExploitAvailable string
}

// RelatedFinding points at another finding by its identity.
type RelatedFinding struct {
	ProductArn string
	ID         string
}

// Active reports whether the finding is open: RecordState ACTIVE (or empty),
// Workflow.Status neither RESOLVED nor SUPPRESSED, and Compliance not PASSED.
func (f *Finding) Active() bool {
	if f.RecordState != "" && !strings.EqualFold(f.RecordState, "ACTIVE") {
		return false
	}
	// (EqualFold: what ToUpper compared did, without the copy)
	if strings.EqualFold(f.WorkflowStatus, "RESOLVED") || strings.EqualFold(f.WorkflowStatus, "SUPPRESSED") {
		return false
	}
	return !strings.EqualFold(f.Compliance.Status, "PASSED")
}

// InactiveReason says why Active is false ("RecordState ARCHIVED",
// "Compliance PASSED", "Workflow RESOLVED"), for decisions and logs.
func (f *Finding) InactiveReason() string {
	switch {
	case f.RecordState != "" && !strings.EqualFold(f.RecordState, "ACTIVE"):
		return "RecordState " + f.RecordState
	case strings.EqualFold(f.Compliance.Status, "PASSED"):
		return "Compliance PASSED"
	default:
		return "Workflow " + f.WorkflowStatus
	}
}

// Identity is the de-duplication identity of the finding. Control findings
// (those with a security control id and a resource) are keyed by account,
// region, control id and first resource id, so the same control on the same
// resource under several standards is one identity; every other finding is
// keyed by ProductArn and Id.
func (f *Finding) Identity() string {
	if f.Compliance.SecurityControlID != "" && len(f.Resources) > 0 {
		return "control|" + f.AwsAccountID + "|" + f.Region + "|" + f.Compliance.SecurityControlID + "|" + f.Resources[0].ID
	}
	return "finding|" + f.ProductArn + "|" + f.ID
}

// AppendIdentity appends f.Identity() to b, for callers that build keys
// from it (or hash it) without allocating the identity on its own.
func (f *Finding) AppendIdentity(b []byte) []byte {
	if f.Compliance.SecurityControlID != "" && len(f.Resources) > 0 {
		b = append(b, "control|"...)
		b = append(b, f.AwsAccountID...)
		b = append(b, '|')
		b = append(b, f.Region...)
		b = append(b, '|')
		b = append(b, f.Compliance.SecurityControlID...)
		b = append(b, '|')
		return append(b, f.Resources[0].ID...)
	}
	b = append(b, "finding|"...)
	b = append(b, f.ProductArn...)
	b = append(b, '|')
	return append(b, f.ID...)
}

// IdentityLen is len(f.Identity()).
func (f *Finding) IdentityLen() int {
	if f.Compliance.SecurityControlID != "" && len(f.Resources) > 0 {
		return len("control|||") + 1 + len(f.AwsAccountID) + len(f.Region) + len(f.Compliance.SecurityControlID) + len(f.Resources[0].ID)
	}
	return len("finding||") + len(f.ProductArn) + len(f.ID)
}

// ConsoleURL is a link to the finding in the Security Hub console of its region.
func (f *Finding) ConsoleURL() string {
	region := f.Region
	if region == "" {
		region = "us-east-1"
	}
	return "https://" + region + ".console.aws.amazon.com/securityhub/home?region=" + region +
		"#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A" + queryEscape(f.ID)
}

// queryEscape encodes s the way the console's search fragment expects: twice.
func queryEscape(s string) string {
	return url.QueryEscape(url.QueryEscape(s))
}
