package asff

import (
	_ "embed"
	"strings"
	"unicode"
)

// guardDutyTypesTSV maps GuardDuty finding types, as OCSF findings carry
// them in finding_info.types ("Backdoor:EC2/C&CActivity.B"), to the ASFF
// Types string Security Hub CSPM gives the same finding
// ("TTPs/Command and Control/Backdoor:EC2-C&CActivity.B"). Source: the
// GuardDuty finding types table of the GuardDuty user guide
// (awsdocs/amazon-guardduty-user-guide @7736793), as collected in
// shared/fixtures/asff/guardduty-asff-types.tsv.
//
//go:embed guardduty_types.tsv
var guardDutyTypesTSV string

// guardDutyTypes is guardDutyTypesTSV parsed; read-only.
var guardDutyTypes = parseTypeTable(guardDutyTypesTSV)

// guardDutyPurposes is the ASFF namespace/category for GuardDuty types the
// table does not list, by threat purpose (the part before ':').
var guardDutyPurposes = map[string]string{
	"Backdoor": "TTPs/Command and Control", "CryptoCurrency": "TTPs/Command and Control",
	"Trojan": "TTPs/Command and Control", "Behavior": "Unusual Behaviors/VM", "Impact": "TTPs/Impact",
	"Persistence": "TTPs/Persistence", "PrivilegeEscalation": "TTPs/Privilege Escalation",
	"Recon": "TTPs/Discovery", "Discovery": "TTPs/Discovery", "Stealth": "TTPs/Defense Evasion",
	"DefenseEvasion": "TTPs/Defense Evasion", "Execution": "TTPs/Execution",
	"CredentialAccess": "TTPs/Credential Access", "InitialAccess": "TTPs/Initial Access",
	"Exfiltration": "Effects/Data Exfiltration", "UnauthorizedAccess": "TTPs/Initial Access",
}

func parseTypeTable(tsv string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(tsv, "\n") {
		if gd, asffType, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			out[gd] = asffType
		}
	}
	return out
}

// ocsfTypes returns finding_info.types, followed, for a GuardDuty finding,
// by the ASFF form of each GuardDuty finding type in it, so that ASFF Type
// filters (and the correlation built-ins) match the OCSF twin.
func ocsfTypes(types []string, productArn string) []string {
	if !strings.HasSuffix(productArn, "/aws/guardduty") {
		return types
	}
	out := types
	for _, t := range types {
		if a := guardDutyASFFType(t); a != "" {
			out = append(out[:len(out):len(out)], a)
		}
	}
	return out
}

// guardDutyASFFType maps one GuardDuty finding type
// (ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism)
// to its ASFF Types string, or "" when t is not shaped like one.
func guardDutyASFFType(t string) string {
	if a, ok := guardDutyTypes[t]; ok {
		return a
	}
	purpose, rest, ok := strings.Cut(t, ":")
	if !ok || purpose == "" || !strings.Contains(rest, "/") || strings.ContainsAny(purpose, " /") {
		return ""
	}
	prefix, ok := guardDutyPurposes[purpose]
	if !ok {
		prefix = "TTPs"
	}
	return prefix + "/" + purpose + ":" + strings.Replace(rest, "/", "-", 1)
}

// cfnServiceNames are the ASFF spellings of services whose CloudFormation
// names the general rule (see asffResourceType) does not turn into them.
var cfnServiceNames = map[string]string{
	"ElasticLoadBalancingV2": "Elbv2", "ElasticLoadBalancing": "Elb", "CertificateManager": "CertificateManager",
	"OpenSearchService": "OpenSearch", "Elasticsearch": "Elasticsearch", "AutoScaling": "AutoScaling",
}

// asffResourceType turns a CloudFormation-style type (AWS::EC2::Instance,
// AWS::::Account, AWS::RDS::DBInstance) into the ASFF one (AwsEc2Instance,
// AwsAccount, AwsRdsDbInstance): "Aws", then each part's words with
// acronyms capitalised like words. A type already in ASFF style
// (AwsLambdaFunction) or of another shape is kept.
func asffResourceType(t string) string {
	parts := strings.Split(t, "::")
	if len(parts) < 2 || parts[0] != "AWS" {
		return t
	}
	var b strings.Builder
	b.WriteString("Aws")
	for i, p := range parts[1:] {
		if name, ok := cfnServiceNames[p]; ok && i == 0 {
			b.WriteString(name)
			continue
		}
		for _, w := range camelWords(p) {
			b.WriteString(strings.ToUpper(w[:1]) + strings.ToLower(w[1:]))
		}
	}
	return b.String()
}

// camelWords splits "DBInstance" into "DB", "Instance" and "EC2" into
// "EC2": a run of capitals is one word, whose last capital starts the next
// word when a lower-case letter follows it.
func camelWords(s string) []string {
	var words []string
	r := []rune(s)
	start := 0
	for i := 1; i < len(r); i++ {
		upper, prevUpper := unicode.IsUpper(r[i]), unicode.IsUpper(r[i-1]) || unicode.IsDigit(r[i-1])
		nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
		if upper && (!prevUpper || nextLower) {
			words = append(words, string(r[start:i]))
			start = i
		}
	}
	if start < len(r) {
		words = append(words, string(r[start:]))
	}
	return words
}

// resourceID is the ASFF Resources[].Id of an OCSF resource: its ARN.
// OCSF often puts a bare id in uid (an instance id, an account id, a
// queue URL) and the ARN, when known, in uid_alt. Without either being an
// ARN, the ARN is built for the types whose ARN the id determines, and
// otherwise uid is kept.
func resourceID(r ocsfResource, partition, region, account string) string {
	switch {
	case strings.HasPrefix(r.UIDAlt, "arn:"):
		return r.UIDAlt
	case strings.HasPrefix(r.UID, "arn:"):
		return r.UID
	}
	region = firstNonEmpty(regionOf(r.Region), region)
	id := firstNonEmpty(r.UID, r.UIDAlt)
	arn := "arn:" + partition + ":"
	switch r.Type {
	case "AWS::::Account":
		return "AWS::::Account:" + firstNonEmpty(id, account)
	case "AWS::IAM::AccessKey":
		return "AWS::IAM::AccessKey:" + id
	case "AWS::EC2::Instance":
		return arn + "ec2:" + region + ":" + account + ":instance/" + id
	case "AWS::EC2::SecurityGroup":
		return arn + "ec2:" + region + ":" + account + ":security-group/" + id
	case "AWS::EC2::Volume":
		return arn + "ec2:" + region + ":" + account + ":volume/" + id
	case "AWS::EC2::NetworkInterface":
		return arn + "ec2:" + region + ":" + account + ":network-interface/" + id
	case "AWS::EC2::VPC":
		return arn + "ec2:" + region + ":" + account + ":vpc/" + id
	case "AWS::S3::Bucket":
		return arn + "s3:::" + id
	case "AWS::Lambda::Function":
		return arn + "lambda:" + region + ":" + account + ":function:" + id
	}
	return id
}

// regionOf drops OCSF's "global" pseudo-region.
func regionOf(r string) string {
	if isRegion(r) {
		return r
	}
	return ""
}
