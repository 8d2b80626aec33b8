package asffgen

// Catalogs of real finding kinds the generator draws from. GuardDuty types
// come from the GuardDuty-to-ASFF table in shared/fixtures/asff
// (guardduty-asff-types.tsv); control ids, titles and severities are those of
// the Security Hub controls reference; CVEs are real ones with their NVD
// scores.

// guardDutyType is one GuardDuty finding type and how it is reported.
type guardDutyType struct {
	Name     string  // GuardDuty finding type
	ASFF     string  // ASFF Types entry
	Severity float64 // GuardDuty severity (2 low, 5 medium, 8 high)
	Target   target
	Title    string
}

var guardDutyTypes = []guardDutyType{
	{"Backdoor:EC2/C&CActivity.B", "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B", 8, targetInstance,
		"EC2 instance %s is querying an IP address associated with a known command and control server."},
	{"CryptoCurrency:EC2/BitcoinTool.B!DNS", "TTPs/Command and Control/CryptoCurrency:EC2-BitcoinTool.B!DNS", 8, targetInstance,
		"EC2 instance %s is querying a domain name that is associated with Bitcoin-related activity."},
	{"UnauthorizedAccess:EC2/SSHBruteForce", "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce", 2, targetInstance,
		"198.51.100.%d is performing SSH brute force attacks against %s."},
	{"Recon:EC2/PortProbeUnprotectedPort", "TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort", 2, targetInstance,
		"Unprotected port on EC2 instance %s is being probed."},
	{"Behavior:EC2/NetworkPortUnusual", "Unusual Behaviors/VM/Behavior:EC2-NetworkPortUnusual", 5, targetInstance,
		"EC2 instance %s is communicating on an unusual server port 4444."},
	{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration", "Effects/Data Exfiltration/UnauthorizedAccess:IAMUser-InstanceCredentialExfiltration", 8, targetAccessKey,
		"Credentials for instance role %s used from external IP address."},
	{"Recon:IAMUser/MaliciousIPCaller", "TTPs/Discovery/Recon:IAMUser-MaliciousIPCaller", 5, targetAccessKey,
		"Reconnaissance API %s was invoked from a known malicious IP address."},
	{"Policy:IAMUser/RootCredentialUsage", "TTPs/Policy:IAMUser-RootCredentialUsage", 2, targetAccessKey,
		"API %s was invoked using root credentials."},
	{"Policy:S3/BucketBlockPublicAccessDisabled", "Effects/Data Exposure/Policy:S3-BucketBlockPublicAccessDisabled", 2, targetBucket,
		"Amazon S3 Block Public Access was disabled for S3 bucket %s."},
	{"Exfiltration:S3/ObjectRead.Unusual", "TTPs/Exfiltration:S3-ObjectRead.Unusual", 5, targetBucket,
		"An IAM entity invoked an S3 API in a suspicious way on bucket %s."},
}

// control is one Security Hub control.
type control struct {
	ID       string // consolidated control id, e.g. "EC2.2"
	CISRule  string // CIS AWS Foundations 1.2.0 rule, "" if none
	Label    string
	Target   target
	Title    string
	Resource string // ASFF resource type
}

var controls = []control{
	{"EC2.2", "4.3", "HIGH", targetSecurityGroup, "VPC default security groups should not allow inbound or outbound traffic", "AwsEc2SecurityGroup"},
	{"EC2.8", "", "HIGH", targetInstance, "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", "AwsEc2Instance"},
	{"EC2.19", "", "CRITICAL", targetSecurityGroup, "Security groups should not allow unrestricted access to ports with high risk", "AwsEc2SecurityGroup"},
	{"S3.8", "", "HIGH", targetBucket, "S3 general purpose buckets should block public access", "AwsS3Bucket"},
	{"S3.5", "", "MEDIUM", targetBucket, "S3 general purpose buckets should require requests to use SSL", "AwsS3Bucket"},
	{"CloudTrail.2", "2.7", "MEDIUM", targetTrail, "CloudTrail should have encryption at-rest enabled", "AwsCloudTrailTrail"},
	{"CloudTrail.5", "2.4", "LOW", targetTrail, "CloudTrail trails should be integrated with Amazon CloudWatch Logs", "AwsCloudTrailTrail"},
	{"IAM.6", "1.14", "CRITICAL", targetAccount, "Hardware MFA should be enabled for the root user", "AwsAccount"},
	{"Config.1", "2.5", "MEDIUM", targetAccount, "AWS Config should be enabled and use the service-linked role for resource recording", "AwsAccount"},
}

// cve is one vulnerability Inspector reports on EC2 instances.
type cve struct {
	ID      string
	Package string
	Version string
	Fixed   string
	Manager string
	Score   float64
	Vector  string
	Label   string
}

var cves = []cve{
	{"CVE-2021-44228", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.15.0", "JAR", 10, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "CRITICAL"},
	{"CVE-2023-38545", "curl", "7.76.1-26.amzn2022", "8.4.0", "OS", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CRITICAL"},
	{"CVE-2024-6387", "openssh-server", "8.7p1-38.amzn2023", "8.7p1-42", "OS", 8.1, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", "HIGH"},
	{"CVE-2023-4911", "glibc", "2.34-52.amzn2023", "2.34-52.amzn2023.0.4", "OS", 7.8, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "HIGH"},
	{"CVE-2023-44487", "nghttp2", "1.41.0-3.amzn2", "1.41.0-3.amzn2.0.1", "OS", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "HIGH"},
	{"CVE-2023-5678", "openssl-libs", "3.0.8-1.amzn2023", "3.0.8-1.amzn2023.0.10", "OS", 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", "MEDIUM"},
	{"CVE-2023-7008", "systemd", "252.16-1.amzn2023", "252.23-2.amzn2023", "OS", 5.9, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", "MEDIUM"},
}

// macieType is one Macie sensitive-data finding type.
type macieType struct {
	Name  string // Macie finding type
	ASFF  string // ASFF Types entry
	Label string
	Norm  int
	What  string
}

var macieTypes = []macieType{
	{"SensitiveData:S3Object/Personal", "Sensitive Data Identifications/PII/SensitiveData:S3Object-Personal", "MEDIUM", 50, "personally identifiable information"},
	{"SensitiveData:S3Object/Credentials", "Sensitive Data Identifications/Passwords/SensitiveData:S3Object-Credentials", "HIGH", 80, "credentials data"},
	{"SensitiveData:S3Object/Financial", "Sensitive Data Identifications/Financial/SensitiveData:S3Object-Financial", "HIGH", 70, "financial information"},
	{"SensitiveData:S3Object/Multiple", "Sensitive Data Identifications/Multiple/SensitiveData:S3Object-Multiple", "HIGH", 70, "more than one category of sensitive data"},
}

// normalizedFor is the Severity.Normalized Security Hub uses for a label.
func normalizedFor(label string) int {
	switch label {
	case "LOW":
		return 1
	case "MEDIUM":
		return 40
	case "HIGH":
		return 70
	case "CRITICAL":
		return 90
	}
	return 0
}

// guardDutyLabel maps a GuardDuty severity to its label.
func guardDutyLabel(sev float64) string {
	switch {
	case sev >= 7:
		return "HIGH"
	case sev >= 4:
		return "MEDIUM"
	}
	return "LOW"
}
