package eventpattern

import (
	"hubtriage/asff"
)

// place is where a finding field sits in the event's detail.findings[]
// objects.
type place struct {
	path []string
	// always: Security Hub sets it on every finding it sends (ASFF required
	// fields), so an anything-but on it needs no "or absent" alternative.
	always bool
	// list: the path crosses an array (Types, Resources, RelatedFindings),
	// where EventBridge cannot test that a value is absent.
	list bool
}

func at(path ...string) place { return place{path: path} }

// Product fields that hold the control id of legacy (per-standard) control
// findings, which lack Compliance.SecurityControlId; the decoder reads them.
const (
	pfControlID = "ControlId"
	pfRuleID    = "RuleId"
)

// stringPlaces maps each StringFilter field to the places the decoder reads
// its value from, in order of precedence. A positive comparison is matched
// on any of them (a superset of "the first one present").
//
// Attributes Security Hub sets on every finding it sends today are marked
// always and matched only where Security Hub puts them, although the
// decoder also reads product-field fallbacks for files from before
// Security Hub set them (2019 samples lack ProductName, CompanyName,
// Region, Severity.Label and Workflow).
var stringPlaces = map[string][]place{
	"AwsAccountId": {{path: []string{"AwsAccountId"}, always: true}},
	"CompanyName":  {{path: []string{"CompanyName"}, always: true}},
	"ComplianceSecurityControlId": {
		at("Compliance", "SecurityControlId"), at("ProductFields", pfControlID), at("ProductFields", pfRuleID),
	},
	"Description":               {{path: []string{"Description"}, always: true}},
	"GeneratorId":               {{path: []string{"GeneratorId"}, always: true}},
	"Id":                        {{path: []string{"Id"}, always: true}},
	"ProductArn":                {{path: []string{"ProductArn"}, always: true}},
	"ProductName":               {{path: []string{"ProductName"}, always: true}},
	"RecommendationText":        {at("Remediation", "Recommendation", "Text")},
	"Region":                    {{path: []string{"Region"}, always: true}},
	"SourceUrl":                 {at("SourceUrl")},
	"Title":                     {{path: []string{"Title"}, always: true}},
	"Type":                      {{path: []string{"Types"}, always: true, list: true}},
	"ResourceType":              {{path: []string{"Resources", "Type"}, always: true, list: true}},
	"ResourceId":                {{path: []string{"Resources", "Id"}, always: true, list: true}},
	"ResourcePartition":         {{path: []string{"Resources", "Partition"}, list: true}},
	"ResourceRegion":            {{path: []string{"Resources", "Region"}, list: true}},
	"RelatedFindingsId":         {{path: []string{"RelatedFindings", "Id"}, list: true}},
	"RelatedFindingsProductArn": {{path: []string{"RelatedFindings", "ProductArn"}, list: true}},

	"AwsAccountName":                        {at("AwsAccountName")},
	"VerificationState":                     {at("VerificationState")},
	"FindingProviderFieldsSeverityLabel":    {at("FindingProviderFields", "Severity", "Label")},
	"FindingProviderFieldsSeverityOriginal": {at("FindingProviderFields", "Severity", "Original")},
	"NetworkDestinationDomain":              {at("Network", "DestinationDomain")},
	"NetworkDirection":                      {at("Network", "Direction")},
	"NetworkProtocol":                       {at("Network", "Protocol")},
	"NetworkSourceDomain":                   {at("Network", "SourceDomain")},
	"NetworkSourceMac":                      {at("Network", "SourceMac")},
	"NoteText":                              {at("Note", "Text")},
	"NoteUpdatedBy":                         {at("Note", "UpdatedBy")},
	"ProcessName":                           {at("Process", "Name")},
	"ProcessPath":                           {at("Process", "Path")},

	"ComplianceAssociatedStandardsId":                {inList("Compliance", "AssociatedStandards", "StandardsId")},
	"ComplianceSecurityControlParametersName":        {inList("Compliance", "SecurityControlParameters", "Name")},
	"ComplianceSecurityControlParametersValue":       {inList("Compliance", "SecurityControlParameters", "Value")},
	"FindingProviderFieldsRelatedFindingsId":         {inList("FindingProviderFields", "RelatedFindings", "Id")},
	"FindingProviderFieldsRelatedFindingsProductArn": {inList("FindingProviderFields", "RelatedFindings", "ProductArn")},
	"FindingProviderFieldsTypes":                     {inList("FindingProviderFields", "Types")},
	"MalwareName":                                    {inList("Malware", "Name")},
	"MalwarePath":                                    {inList("Malware", "Path")},
	"MalwareState":                                   {inList("Malware", "State")},
	"MalwareType":                                    {inList("Malware", "Type")},
	"ThreatIntelIndicatorCategory":                   {inList("ThreatIntelIndicators", "Category")},
	"ThreatIntelIndicatorSource":                     {inList("ThreatIntelIndicators", "Source")},
	"ThreatIntelIndicatorSourceUrl":                  {inList("ThreatIntelIndicators", "SourceUrl")},
	"ThreatIntelIndicatorType":                       {inList("ThreatIntelIndicators", "Type")},
	"ThreatIntelIndicatorValue":                      {inList("ThreatIntelIndicators", "Value")},
	"VulnerabilitiesExploitAvailable":                {inList("Vulnerabilities", "ExploitAvailable")},
	"VulnerabilitiesFixAvailable":                    {inList("Vulnerabilities", "FixAvailable")},
	"ResourceApplicationArn":                         {inList("Resources", "ApplicationArn")},
	"ResourceApplicationName":                        {inList("Resources", "ApplicationName")},
	"ResourceAwsEc2InstanceIamInstanceProfileArn":    {inList("Resources", "Details", "AwsEc2Instance", "IamInstanceProfileArn")},
	"ResourceAwsEc2InstanceImageId":                  {inList("Resources", "Details", "AwsEc2Instance", "ImageId")},
	"ResourceAwsEc2InstanceKeyName":                  {inList("Resources", "Details", "AwsEc2Instance", "KeyName")},
	"ResourceAwsEc2InstanceSubnetId":                 {inList("Resources", "Details", "AwsEc2Instance", "SubnetId")},
	"ResourceAwsEc2InstanceType":                     {inList("Resources", "Details", "AwsEc2Instance", "Type")},
	"ResourceAwsEc2InstanceVpcId":                    {inList("Resources", "Details", "AwsEc2Instance", "VpcId")},
	"ResourceAwsIamAccessKeyPrincipalName":           {inList("Resources", "Details", "AwsIamAccessKey", "PrincipalName")},
	"ResourceAwsIamAccessKeyStatus":                  {inList("Resources", "Details", "AwsIamAccessKey", "Status")},
	"ResourceAwsIamAccessKeyUserName":                {inList("Resources", "Details", "AwsIamAccessKey", "UserName")},
	"ResourceAwsIamUserUserName":                     {inList("Resources", "Details", "AwsIamUser", "UserName")},
	"ResourceAwsS3BucketOwnerId":                     {inList("Resources", "Details", "AwsS3Bucket", "OwnerId")},
	"ResourceAwsS3BucketOwnerName":                   {inList("Resources", "Details", "AwsS3Bucket", "OwnerName")},
	"ResourceContainerImageId":                       {inList("Resources", "Details", "Container", "ImageId")},
	"ResourceContainerImageName":                     {inList("Resources", "Details", "Container", "ImageName")},
	"ResourceContainerName":                          {inList("Resources", "Details", "Container", "Name")},
}

// inList is a place whose path crosses an array.
func inList(path ...string) place { return place{path: path, list: true} }

// ipPlaces maps each IpFilter field to where its addresses are.
var ipPlaces = map[string]place{
	"NetworkSourceIpV4":                   at("Network", "SourceIpV4"),
	"NetworkSourceIpV6":                   at("Network", "SourceIpV6"),
	"NetworkDestinationIpV4":              at("Network", "DestinationIpV4"),
	"NetworkDestinationIpV6":              at("Network", "DestinationIpV6"),
	"ResourceAwsEc2InstanceIpV4Addresses": inList("Resources", "Details", "AwsEc2Instance", "IpV4Addresses"),
	"ResourceAwsEc2InstanceIpV6Addresses": inList("Resources", "Details", "AwsEc2Instance", "IpV6Addresses"),
}

// enumField is a StringFilter field whose decoded value is one of a few
// values: any filter on it becomes the exact list of values it lets
// through, evaluated by the filter package itself.
type enumField struct {
	values []string
	set    func(f *asff.Finding, v string)
	place  place
}

var enumFields = map[string]enumField{
	"SeverityLabel": {
		values: []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"},
		set:    func(f *asff.Finding, v string) { f.Severity.Label = v },
		place:  place{path: []string{"Severity", "Label"}, always: true},
	},
	"RecordState": {
		values: []string{"ACTIVE", "ARCHIVED"},
		set:    func(f *asff.Finding, v string) { f.RecordState = v },
		place:  place{path: []string{"RecordState"}, always: true},
	},
	"WorkflowStatus": {
		values: []string{"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"},
		set:    func(f *asff.Finding, v string) { f.WorkflowStatus = v },
		place:  place{path: []string{"Workflow", "Status"}, always: true},
	},
	"WorkflowState": {
		values: []string{"NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"},
		set:    func(f *asff.Finding, v string) { f.WorkflowState = v },
		place:  place{path: []string{"WorkflowState"}, always: true},
	},
	"ComplianceStatus": {
		values: []string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"},
		set:    func(f *asff.Finding, v string) { f.Compliance.Status = v },
		place:  at("Compliance", "Status"),
	},
}

// mapPlaces maps each MapFilter field to the object holding its keys.
var mapPlaces = map[string]place{
	"ResourceTags":         {path: []string{"Resources", "Tags"}, list: true},
	"ResourceDetailsOther": inList("Resources", "Details", "Other"),
	"ProductFields":        at("ProductFields"),
	"UserDefinedFields":    at("UserDefinedFields"),
}
