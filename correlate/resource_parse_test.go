package correlate

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// The regular expressions refOf used before it parsed ids by hand. They
// stay here as the specification the hand-written parsers must agree with
// on ASCII input (the parsers fold case in ASCII only: AWS ids are ASCII).
var (
	oracleInstanceRE = regexp.MustCompile(`(?i)(?:^|:instance/|^instance/)(i-(?:[0-9a-f]{17}|[0-9a-f]{8}))$`)
	oracleSgRE       = regexp.MustCompile(`(?i)(?:^|:security-group/|^security-group/)(sg-(?:[0-9a-f]{17}|[0-9a-f]{8}))$`)
	oracleS3ArnRE    = regexp.MustCompile(`^arn:[a-z-]*:s3:::([^/]+)(/.*)?$`)
	oracleRegionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	oracleAccountRE  = regexp.MustCompile(`^\d{12}$`)
)

func oracleSubmatch(re *regexp.Regexp, s string) (string, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func oracleArnFields(s string) (partition, region, account string) {
	if !strings.HasPrefix(s, "arn:") {
		return "", "", ""
	}
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return "", "", ""
	}
	partition = parts[1]
	for _, p := range parts[2 : len(parts)-1] {
		switch {
		case region == "" && oracleRegionRE.MatchString(p):
			region = p
		case account == "" && oracleAccountRE.MatchString(p):
			account = p
		}
	}
	return partition, region, account
}

// checkParsersAgree compares every hand-written id parser with its oracle on s.
func checkParsersAgree(t *testing.T, s string) {
	t.Helper()
	want, wantOK := oracleSubmatch(oracleInstanceRE, s)
	if got, ok := ec2ID(s, "i-", "instance/"); ok != wantOK || got != strings.ToLower(want) {
		t.Errorf("instance id of %q = %q %v, want %q %v", s, got, ok, strings.ToLower(want), wantOK)
	}
	want, wantOK = oracleSubmatch(oracleSgRE, s)
	if got, ok := ec2ID(s, "sg-", "security-group/"); ok != wantOK || got != strings.ToLower(want) {
		t.Errorf("security group id of %q = %q %v, want %q %v", s, got, ok, strings.ToLower(want), wantOK)
	}
	want, wantOK = oracleSubmatch(oracleS3ArnRE, s)
	if got, ok := s3Bucket(s); ok != wantOK || got != want {
		t.Errorf("bucket of %q = %q %v, want %q %v", s, got, ok, want, wantOK)
	}
	p, r, a := arnFields(s)
	wp, wr, wa := oracleArnFields(s)
	if p != wp || r != wr || a != wa {
		t.Errorf("arnFields(%q) = %q %q %q, want %q %q %q", s, p, r, a, wp, wr, wa)
	}
}

var idParserCases = []string{
	"", "i-", "i-0a1b2c3d", "i-0a1b2c3d4e5f60718", "I-0A1B2C3D4E5F60718", "i-0a1b2c3d4e", "i-0a1b2c3g",
	"xi-0a1b2c3d", "/i-0a1b2c3d", "instance/i-0a1b2c3d", "INSTANCE/i-0a1b2c3d", "xinstance/i-0a1b2c3d",
	":instance/i-0a1b2c3d", "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718",
	"arn:aws::ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356",
	"arn:aws:ec2:us-east-1:123456789012:Instance/I-0A1B2C3D4E5F60718",
	"arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f607189",
	"arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f6071",
	"i-0a1b2c3d4e5f6071i-0a1b2c3d", "i-0a1b2c3d4i-0a1b2c3d", "instance/i-0a1b2c3d4e5f60718",
	"sg-ab1e739b", "SG-AB1E739B", "security-group/sg-ab1e739b", "Security-Group/sg-ab1e739b",
	"arn:aws:ec2:us-east-1:111111111111:security-group/sg-47dddc34c51b4be58",
	"arn:aws:ec2:us-east-1:111111111111:security-group/sg-47dddc34c51b4be5",
	"arn:aws:ec2:us-east-1:111111111111:securitygroup/sg-47dddc34c51b4be58",
	"arn:aws:s3:::acme", "arn:aws:s3:::acme/a/b.csv", "arn:aws:s3:::", "arn:aws:s3:::/key", "arn:aws-cn:s3:::acme",
	"arn:AWS:s3:::acme", "arn::s3:::acme", "arn:aws:s3:::acme/a\nb", "arn:aws:s3:::ac\nme/b", "arn:aws:s3::acme",
	"arn:aws1:s3:::acme", "arn:aws:s3:::acme:x/y",
	"arn:aws:lambda:us-east-1:123456789012:function:f", "arn:aws:iam::123456789012:role/r",
	"arn:aws:ec2:us-gov-west-1:123456789012:instance/i-0a1b2c3d", "arn:aws:x:eu-central-1:1234567890123:y",
	"arn:aws:x:us--east-1:123456789012:y:z", "arn:aws:x:us-east-:123456789012:y:z", "arn:aws:x:us-east-12:1:y:z",
	"arn:aws:x:useast-1:123456789012:y:z", "arn:aws:x:u-east-1:123456789012:y", "arn:aws:x:us-1:123456789012:y",
	"arn:aws:x:us-e-1:12345678901a:y", "arn:a:b:c:d", "arn:a:b:c:d:e", "arn:a:b:c:d:e:f:g:h",
	"arn:aws:x:123456789012:us-east-1:eu-west-1:210987654321:y",
	"AWS::IAM::AccessKey:ASIA5EXAMPLE", "AWS::::Account:123456789012",
	"resource/instanceDetails/networkInterfaces/0/securityGroups/0/groupId",
	"resource/instanceDetails/NetworkInterfaces/12/SecurityGroups/3/GroupId",
	"networkInterfaces//securityGroups/0/groupId", "networkInterfaces/0/securityGroups/x/groupId",
	"networkInterfaces/0/securityGroups/0/groupIdx", "resource/instanceDetails/instanceId",
	"InstanceDetails/InstanceID", "instanceDetails/instanceIdd", "instanceId",
}

func TestIDParsersAgreeWithTheirSpecification(t *testing.T) {
	for _, s := range idParserCases {
		checkParsersAgree(t, s)
	}
}

func FuzzIDParsers(f *testing.F) {
	for _, s := range idParserCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []byte(s) {
			if c >= utf8.RuneSelf {
				t.Skip("AWS ids are ASCII; the oracle folds case in Unicode")
			}
		}
		checkParsersAgree(t, s)
	})
}

func TestSameKeyIsKeyEquality(t *testing.T) {
	refs := []Ref{
		{Type: "AwsEc2Instance", Name: "i-1"}, {Type: "AwsEc2Instance", Name: "i-2"}, {Type: "AwsEc2Instance/i", Name: "1"},
		{Type: "AwsEc2", Name: "Instance/i-1"}, {Type: "", Name: "AwsEc2Instance/i-1"}, {Type: "AwsEc2Instance/i-1"},
		{Type: "Other", Name: "x"}, {Type: "Othe", Name: "r/x"}, {},
	}
	for _, a := range refs {
		for _, b := range refs {
			if got, want := sameKey(a, b), a.Key() == b.Key(); got != want {
				t.Errorf("sameKey(%q, %q) = %v, want %v", a.Key(), b.Key(), got, want)
			}
		}
	}
}
