package filter

import (
	"fmt"
	"reflect"
	"time"

	"hubtriage/asff"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// kind is the AWS filter type a field takes.
type kind int

const (
	kindString  kind = iota // []StringFilter
	kindNumber              // []NumberFilter
	kindDate                // []DateFilter
	kindMap                 // []MapFilter
	kindIP                  // []IpFilter
	kindBool                // []BooleanFilter
	kindKeyword             // []KeywordFilter
)

// String names the kind as the AWS API does.
func (k kind) String() string {
	return [...]string{"StringFilter", "NumberFilter", "DateFilter", "MapFilter", "IpFilter", "BooleanFilter", "KeywordFilter"}[k]
}

// field describes how one AwsSecurityFindingFilters field reads a finding.
// Exactly the accessors for its kind are set: str (single value) or
// count/at (one value per element) for strings and IP addresses, num, date
// or dateN/dateAt, mapCount/mapAt, boolean; a keyword field reads the
// finding's raw JSON.
type field struct {
	kind kind
	// enum lists the only values the finding field can take; EQUALS and
	// NOT_EQUALS values outside it are rejected as typos, because a
	// case-sensitive comparison with them could never match.
	enum []string
	// ipBits is 32 or 128 for an IpFilter field of IPv4 or IPv6 addresses.
	ipBits int

	str      func(*asff.Finding) string
	count    func(*asff.Finding) int
	at       func(*asff.Finding, int) string
	num      func(*asff.Finding) (float64, bool)
	date     func(*asff.Finding) time.Time // a timestamp the finding holds once
	dateN    func(*asff.Finding) int
	dateAt   func(*asff.Finding, int) time.Time
	mapCount func(*asff.Finding) int
	mapAt    func(*asff.Finding, int) map[string]string
	boolean  func(*asff.Finding) bool
}

var (
	severityLabels     = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	recordStates       = []string{"ACTIVE", "ARCHIVED"}
	workflowStatuses   = []string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"}
	workflowStates     = []string{"NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"}
	complianceStatus   = []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}
	verificationStates = []string{"UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE"}
	availability       = []string{"YES", "NO", "PARTIAL"}
)

// fields is the read-only table of every AwsSecurityFindingFilters field,
// keyed by its name in types.AwsSecurityFindingFilters (a test walks that
// struct to keep the two in step), with the ASFF attribute each reads.
var fields = map[string]field{
	"AwsAccountId":                str(func(x *asff.Finding) string { return x.AwsAccountID }),
	"AwsAccountName":              str(func(x *asff.Finding) string { return x.AwsAccountName }),
	"CompanyName":                 str(func(x *asff.Finding) string { return x.CompanyName }),
	"ComplianceSecurityControlId": str(func(x *asff.Finding) string { return x.Compliance.SecurityControlID }),
	"ComplianceStatus":            enum(func(x *asff.Finding) string { return x.Compliance.Status }, complianceStatus),
	"Description":                 str(func(x *asff.Finding) string { return x.Description }),
	"GeneratorId":                 str(func(x *asff.Finding) string { return x.GeneratorID }),
	"Id":                          str(func(x *asff.Finding) string { return x.ID }),
	"ProductArn":                  str(func(x *asff.Finding) string { return x.ProductArn }),
	"ProductName":                 str(func(x *asff.Finding) string { return x.ProductName }),
	"RecommendationText":          str(func(x *asff.Finding) string { return x.Remediation.Text }),
	"RecordState":                 enum(recordState, recordStates),
	"Region":                      str(func(x *asff.Finding) string { return x.Region }),
	"SeverityLabel":               enum(func(x *asff.Finding) string { return x.Severity.Label }, severityLabels),
	"SourceUrl":                   str(func(x *asff.Finding) string { return x.SourceURL }),
	"Title":                       str(func(x *asff.Finding) string { return x.Title }),
	"VerificationState":           enum(func(x *asff.Finding) string { return x.VerificationState }, verificationStates),
	"WorkflowState":               enum(func(x *asff.Finding) string { return x.WorkflowState }, workflowStates),
	"WorkflowStatus":              enum(workflowStatus, workflowStatuses),

	"Type":                      strList(func(x *asff.Finding) []string { return x.Types }),
	"RelatedFindingsId":         each(func(x *asff.Finding) []asff.RelatedFinding { return x.RelatedFindings }, func(r *asff.RelatedFinding) string { return r.ID }),
	"RelatedFindingsProductArn": each(func(x *asff.Finding) []asff.RelatedFinding { return x.RelatedFindings }, func(r *asff.RelatedFinding) string { return r.ProductArn }),

	"ComplianceAssociatedStandardsId":          strList(func(x *asff.Finding) []string { return x.Compliance.AssociatedStandards }),
	"ComplianceSecurityControlParametersName":  each(controlParameters, func(p *asff.ControlParameter) string { return p.Name }),
	"ComplianceSecurityControlParametersValue": nested(controlParameters, func(p *asff.ControlParameter) []string { return p.Values }),

	"VulnerabilitiesExploitAvailable": enumEach(vulnerabilities, func(v *asff.Vulnerability) string { return v.ExploitAvailable }, availability),
	"VulnerabilitiesFixAvailable":     enumEach(vulnerabilities, func(v *asff.Vulnerability) string { return v.FixAvailable }, availability),

	"FindingProviderFieldsRelatedFindingsId":         each(providerRelated, func(r *asff.RelatedFinding) string { return r.ID }),
	"FindingProviderFieldsRelatedFindingsProductArn": each(providerRelated, func(r *asff.RelatedFinding) string { return r.ProductArn }),
	"FindingProviderFieldsSeverityLabel":             enum(in(provider, func(p *asff.ProviderFields) string { return p.SeverityLabel }), severityLabels),
	"FindingProviderFieldsSeverityOriginal":          str(in(provider, func(p *asff.ProviderFields) string { return p.SeverityOriginal })),
	"FindingProviderFieldsTypes":                     strList(in(provider, func(p *asff.ProviderFields) []string { return p.Types })),

	"MalwareName":  each(malware, func(m *asff.Malware) string { return m.Name }),
	"MalwarePath":  each(malware, func(m *asff.Malware) string { return m.Path }),
	"MalwareState": each(malware, func(m *asff.Malware) string { return m.State }),
	"MalwareType":  each(malware, func(m *asff.Malware) string { return m.Type }),

	"NetworkDestinationDomain": str(in(network, func(n *asff.Network) string { return n.DestinationDomain })),
	"NetworkDirection":         str(in(network, func(n *asff.Network) string { return n.Direction })),
	"NetworkProtocol":          str(in(network, func(n *asff.Network) string { return n.Protocol })),
	"NetworkSourceDomain":      str(in(network, func(n *asff.Network) string { return n.SourceDomain })),
	"NetworkSourceMac":         str(in(network, func(n *asff.Network) string { return n.SourceMac })),
	"NetworkDestinationIpV4":   ip(32, in(network, func(n *asff.Network) string { return n.DestinationIPv4 })),
	"NetworkDestinationIpV6":   ip(128, in(network, func(n *asff.Network) string { return n.DestinationIPv6 })),
	"NetworkSourceIpV4":        ip(32, in(network, func(n *asff.Network) string { return n.SourceIPv4 })),
	"NetworkSourceIpV6":        ip(128, in(network, func(n *asff.Network) string { return n.SourceIPv6 })),
	"NetworkDestinationPort":   intNumber(in(network, func(n *asff.Network) *int { return n.DestinationPort })),
	"NetworkSourcePort":        intNumber(in(network, func(n *asff.Network) *int { return n.SourcePort })),

	"NoteText":      str(in(note, func(n *asff.Note) string { return n.Text })),
	"NoteUpdatedBy": str(in(note, func(n *asff.Note) string { return n.UpdatedBy })),
	"NoteUpdatedAt": date(in(note, func(n *asff.Note) time.Time { return n.UpdatedAt })),

	"ProcessName":         str(in(process, func(p *asff.Process) string { return p.Name })),
	"ProcessPath":         str(in(process, func(p *asff.Process) string { return p.Path })),
	"ProcessPid":          intNumber(in(process, func(p *asff.Process) *int { return p.Pid })),
	"ProcessParentPid":    intNumber(in(process, func(p *asff.Process) *int { return p.ParentPid })),
	"ProcessLaunchedAt":   date(in(process, func(p *asff.Process) time.Time { return p.LaunchedAt })),
	"ProcessTerminatedAt": date(in(process, func(p *asff.Process) time.Time { return p.TerminatedAt })),

	"ThreatIntelIndicatorCategory":       each(indicators, func(t *asff.ThreatIntelIndicator) string { return t.Category }),
	"ThreatIntelIndicatorSource":         each(indicators, func(t *asff.ThreatIntelIndicator) string { return t.Source }),
	"ThreatIntelIndicatorSourceUrl":      each(indicators, func(t *asff.ThreatIntelIndicator) string { return t.SourceURL }),
	"ThreatIntelIndicatorType":           each(indicators, func(t *asff.ThreatIntelIndicator) string { return t.Type }),
	"ThreatIntelIndicatorValue":          each(indicators, func(t *asff.ThreatIntelIndicator) string { return t.Value }),
	"ThreatIntelIndicatorLastObservedAt": dates(indicators, func(t *asff.ThreatIntelIndicator) time.Time { return t.LastObservedAt }),

	"ResourceType":            each(resources, func(r *asff.Resource) string { return r.Type }),
	"ResourceId":              each(resources, func(r *asff.Resource) string { return r.ID }),
	"ResourcePartition":       each(resources, func(r *asff.Resource) string { return r.Partition }),
	"ResourceRegion":          each(resources, func(r *asff.Resource) string { return r.Region }),
	"ResourceApplicationArn":  each(resources, func(r *asff.Resource) string { return r.ApplicationArn }),
	"ResourceApplicationName": each(resources, func(r *asff.Resource) string { return r.ApplicationName }),

	"ResourceAwsEc2InstanceIamInstanceProfileArn": each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.IamInstanceProfileArn })),
	"ResourceAwsEc2InstanceImageId":               each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.ImageID })),
	"ResourceAwsEc2InstanceKeyName":               each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.KeyName })),
	"ResourceAwsEc2InstanceSubnetId":              each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.SubnetID })),
	"ResourceAwsEc2InstanceType":                  each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.Type })),
	"ResourceAwsEc2InstanceVpcId":                 each(resources, detail(func(d *asff.DetailFields) string { return d.Ec2Instance.VpcID })),
	"ResourceAwsEc2InstanceLaunchedAt":            dates(resources, detail(func(d *asff.DetailFields) time.Time { return d.Ec2Instance.LaunchedAt })),
	"ResourceAwsEc2InstanceIpV4Addresses":         ips(32, resources, detail(func(d *asff.DetailFields) []string { return d.Ec2Instance.IPv4Addresses })),
	"ResourceAwsEc2InstanceIpV6Addresses":         ips(128, resources, detail(func(d *asff.DetailFields) []string { return d.Ec2Instance.IPv6Addresses })),
	"ResourceAwsIamAccessKeyCreatedAt":            dates(resources, detail(func(d *asff.DetailFields) time.Time { return d.IamAccessKey.CreatedAt })),
	"ResourceAwsIamAccessKeyPrincipalName":        each(resources, detail(func(d *asff.DetailFields) string { return d.IamAccessKey.PrincipalName })),
	"ResourceAwsIamAccessKeyStatus":               each(resources, detail(func(d *asff.DetailFields) string { return d.IamAccessKey.Status })),
	"ResourceAwsIamAccessKeyUserName":             each(resources, detail(func(d *asff.DetailFields) string { return d.IamAccessKey.UserName })),
	"ResourceAwsIamUserUserName":                  each(resources, detail(func(d *asff.DetailFields) string { return d.IamUserName })),
	"ResourceAwsS3BucketOwnerId":                  each(resources, detail(func(d *asff.DetailFields) string { return d.S3Bucket.OwnerID })),
	"ResourceAwsS3BucketOwnerName":                each(resources, detail(func(d *asff.DetailFields) string { return d.S3Bucket.OwnerName })),
	"ResourceContainerImageId":                    each(resources, detail(func(d *asff.DetailFields) string { return d.Container.ImageID })),
	"ResourceContainerImageName":                  each(resources, detail(func(d *asff.DetailFields) string { return d.Container.ImageName })),
	"ResourceContainerName":                       each(resources, detail(func(d *asff.DetailFields) string { return d.Container.Name })),
	"ResourceContainerLaunchedAt":                 dates(resources, detail(func(d *asff.DetailFields) time.Time { return d.Container.LaunchedAt })),

	"SeverityNormalized":               {kind: kindNumber, num: func(x *asff.Finding) (float64, bool) { return x.Severity.Normalized, true }},
	"SeverityProduct":                  floatNumber(func(x *asff.Finding) *float64 { return x.SeverityProduct }),
	"Confidence":                       intNumber(func(x *asff.Finding) *int { return x.Confidence }),
	"Criticality":                      intNumber(func(x *asff.Finding) *int { return x.Criticality }),
	"FindingProviderFieldsConfidence":  intNumber(in(provider, func(p *asff.ProviderFields) *int { return p.Confidence })),
	"FindingProviderFieldsCriticality": intNumber(in(provider, func(p *asff.ProviderFields) *int { return p.Criticality })),

	"CreatedAt":       date(func(x *asff.Finding) time.Time { return x.CreatedAt }),
	"FirstObservedAt": date(func(x *asff.Finding) time.Time { return x.FirstObservedAt }),
	"LastObservedAt":  date(func(x *asff.Finding) time.Time { return x.LastObservedAt }),
	"UpdatedAt":       date(func(x *asff.Finding) time.Time { return x.UpdatedAt }),

	"ResourceTags": {
		kind:     kindMap,
		mapCount: func(x *asff.Finding) int { return len(x.Resources) },
		mapAt:    func(x *asff.Finding, i int) map[string]string { return x.Resources[i].Tags },
	},
	"ResourceDetailsOther": {
		kind:     kindMap,
		mapCount: func(x *asff.Finding) int { return len(x.Resources) },
		mapAt:    func(x *asff.Finding, i int) map[string]string { return detailsOther(&x.Resources[i]) },
	},
	"ProductFields":     singleMap(func(x *asff.Finding) map[string]string { return x.ProductFields }),
	"UserDefinedFields": singleMap(func(x *asff.Finding) map[string]string { return x.UserDefinedFields }),

	"Sample":  {kind: kindBool, boolean: func(x *asff.Finding) bool { return x.Sample }},
	"Keyword": {kind: kindKeyword},
}

// Lists of the finding that multi-valued fields read.
func resources(x *asff.Finding) []asff.Resource              { return x.Resources }
func vulnerabilities(x *asff.Finding) []asff.Vulnerability   { return x.Vulnerabilities }
func malware(x *asff.Finding) []asff.Malware                 { return x.Malware }
func indicators(x *asff.Finding) []asff.ThreatIntelIndicator { return x.ThreatIntelIndicators }
func controlParameters(x *asff.Finding) []asff.ControlParameter {
	return x.Compliance.SecurityControlParameters
}

// Readers built once (building one per call would allocate).
var (
	providerRelated = in(provider, func(p *asff.ProviderFields) []asff.RelatedFinding { return p.RelatedFindings })
	detailsOther    = detail(func(d *asff.DetailFields) map[string]string { return d.Other })
)

// Objects of the finding that some fields read; nil when absent.
func network(x *asff.Finding) *asff.Network         { return x.Network }
func note(x *asff.Finding) *asff.Note               { return x.Note }
func process(x *asff.Finding) *asff.Process         { return x.Process }
func provider(x *asff.Finding) *asff.ProviderFields { return x.FindingProviderFields }

// in reads a member of an optional object of the finding: the zero value
// when the finding has no such object.
func in[O, V any](obj func(*asff.Finding) *O, get func(*O) V) func(*asff.Finding) V {
	return func(x *asff.Finding) V {
		if o := obj(x); o != nil {
			return get(o)
		}
		var zero V
		return zero
	}
}

// detail reads a member of a resource's DetailFields: the zero value when
// its Details has none of the members filters read.
func detail[V any](get func(*asff.DetailFields) V) func(*asff.Resource) V {
	return func(r *asff.Resource) V {
		if r.DetailFields != nil {
			return get(r.DetailFields)
		}
		var zero V
		return zero
	}
}

// recordState reads RecordState, which Security Hub sets to ACTIVE when a
// provider omits it; files decoded without it are treated the same way.
func recordState(x *asff.Finding) string {
	if x.RecordState == "" {
		return "ACTIVE"
	}
	return x.RecordState
}

// workflowStatus reads Workflow.Status, which Security Hub sets to NEW when a
// provider omits it.
func workflowStatus(x *asff.Finding) string {
	if x.WorkflowStatus == "" {
		return "NEW"
	}
	return x.WorkflowStatus
}

// str is a string field the finding holds once.
func str(get func(*asff.Finding) string) field {
	return field{str: get}
}

// enum is a string field with a fixed set of values.
func enum(get func(*asff.Finding) string, values []string) field {
	return field{str: get, enum: values}
}

// strList is a string field with the values of a list.
func strList(get func(*asff.Finding) []string) field {
	return field{
		count: func(x *asff.Finding) int { return len(get(x)) },
		at:    func(x *asff.Finding, i int) string { return get(x)[i] },
	}
}

// each is a string field with one value per element of a list.
func each[T any](list func(*asff.Finding) []T, get func(*T) string) field {
	return field{
		count: func(x *asff.Finding) int { return len(list(x)) },
		at:    func(x *asff.Finding, i int) string { return get(&list(x)[i]) },
	}
}

// enumEach is each with a fixed set of values.
func enumEach[T any](list func(*asff.Finding) []T, get func(*T) string, values []string) field {
	f := each(list, get)
	f.enum = values
	return f
}

// nested is a string field with the values of a list inside each element of
// a list, in order.
func nested[T any](list func(*asff.Finding) []T, get func(*T) []string) field {
	count, at := flatten(list, get)
	return field{count: count, at: at}
}

// flatten returns count and at over the inner lists of list, without
// allocating: at walks the outer list (both are short).
func flatten[T any](list func(*asff.Finding) []T, get func(*T) []string) (func(*asff.Finding) int, func(*asff.Finding, int) string) {
	count := func(x *asff.Finding) int {
		n := 0
		for i, outer := 0, list(x); i < len(outer); i++ {
			n += len(get(&outer[i]))
		}
		return n
	}
	at := func(x *asff.Finding, k int) string {
		for i, outer := 0, list(x); i < len(outer); i++ {
			inner := get(&outer[i])
			if k < len(inner) {
				return inner[k]
			}
			k -= len(inner)
		}
		return ""
	}
	return count, at
}

// ip is an IpFilter field the finding holds once (empty when absent).
func ip(bits int, get func(*asff.Finding) string) field {
	return field{kind: kindIP, ipBits: bits,
		count: func(x *asff.Finding) int { return 1 },
		at:    func(x *asff.Finding, _ int) string { return get(x) },
	}
}

// ips is an IpFilter field with the addresses of a list inside each
// element of a list.
func ips[T any](bits int, list func(*asff.Finding) []T, get func(*T) []string) field {
	count, at := flatten(list, get)
	return field{kind: kindIP, ipBits: bits, count: count, at: at}
}

// intNumber is a NumberFilter field over an optional integer.
func intNumber(get func(*asff.Finding) *int) field {
	return field{kind: kindNumber, num: func(x *asff.Finding) (float64, bool) {
		if p := get(x); p != nil {
			return float64(*p), true
		}
		return 0, false
	}}
}

// floatNumber is a NumberFilter field over an optional number.
func floatNumber(get func(*asff.Finding) *float64) field {
	return field{kind: kindNumber, num: func(x *asff.Finding) (float64, bool) {
		if p := get(x); p != nil {
			return *p, true
		}
		return 0, false
	}}
}

// date is a DateFilter field the finding holds once (zero when absent).
func date(get func(*asff.Finding) time.Time) field {
	return field{kind: kindDate, date: get}
}

// dates is a DateFilter field with one timestamp per element of a list.
func dates[T any](list func(*asff.Finding) []T, get func(*T) time.Time) field {
	return field{kind: kindDate,
		dateN:  func(x *asff.Finding) int { return len(list(x)) },
		dateAt: func(x *asff.Finding, i int) time.Time { return get(&list(x)[i]) },
	}
}

// singleMap is a map field the finding holds once.
func singleMap(get func(*asff.Finding) map[string]string) field {
	return field{
		kind:     kindMap,
		mapCount: func(*asff.Finding) int { return 1 },
		mapAt:    func(x *asff.Finding, _ int) map[string]string { return get(x) },
	}
}

// sdkFieldNames lists every field of types.AwsSecurityFindingFilters.
func sdkFieldNames() []string {
	t := reflect.TypeFor[types.AwsSecurityFindingFilters]()
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

// lookupField resolves a filter field name, or explains why it cannot be
// used: a name AWS does not know (ErrUnknownField), with a spelling
// suggestion. The returned *FieldError has no path or line yet.
func lookupField(name string) (field, error) {
	if f, ok := fields[name]; ok {
		return f, nil
	}
	msg := fmt.Sprintf("%v %q", ErrUnknownField, name)
	if s := suggest(name, sdkFieldNames()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if name == "Filters" {
		msg += "; give the value of --filters, not the whole request"
	}
	return field{}, &FieldError{Msg: msg, Err: ErrUnknownField}
}
