package correlate

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"hubtriage/asff"
)

func TestResourceIdsAreNormalised(t *testing.T) {
	f := &asff.Finding{AwsAccountID: "111122223333", Region: "eu-west-1"}
	cases := []struct {
		typ, id                  string
		wantKey, account, region string
	}{
		{"AwsEc2Instance", "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718", "AwsEc2Instance/i-0a1b2c3d4e5f60718", "123456789012", "us-east-1"},
		{"AwsEc2Instance", "i-0a1b2c3d4e5f60718", "AwsEc2Instance/i-0a1b2c3d4e5f60718", "111122223333", "eu-west-1"},
		{"AwsEc2Instance", "I-0A1B2C3D4E5F60718", "AwsEc2Instance/i-0a1b2c3d4e5f60718", "111122223333", "eu-west-1"},
		{"AwsEc2Instance", "i-4b5c6d7e", "AwsEc2Instance/i-4b5c6d7e", "111122223333", "eu-west-1"},
		// GuardDuty's published findings carry an ARN with an empty service field.
		{"AwsEc2Instance", "arn:aws::ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356", "AwsEc2Instance/i-0c10c2c7863d1a356", "193043430472", "us-east-1"},
		// An instance id is recognised whatever the declared type says.
		{"Other", "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718", "AwsEc2Instance/i-0a1b2c3d4e5f60718", "123456789012", "us-east-1"},
		// Neither 8 nor 17 hex digits: not an instance id.
		{"Other", "i-0a1b2c3d4e", "Other/i-0a1b2c3d4e", "111122223333", "eu-west-1"},
		{"AwsS3Bucket", "arn:aws:s3:::acme-customer-exports", "AwsS3Bucket/acme-customer-exports", "111122223333", "eu-west-1"},
		{"AwsS3Bucket", "acme-customer-exports", "AwsS3Bucket/acme-customer-exports", "111122223333", "eu-west-1"},
		{"AwsS3Object", "arn:aws:s3:::acme-customer-exports/a/b.csv", "AwsS3Bucket/acme-customer-exports", "111122223333", "eu-west-1"},
		{"AwsEc2SecurityGroup", "arn:aws:ec2:us-east-1:111111111111:security-group/sg-47dddc34c51b4be58", "AwsEc2SecurityGroup/sg-47dddc34c51b4be58", "111111111111", "us-east-1"},
		{"AwsEc2SecurityGroup", "sg-ab1e739b", "AwsEc2SecurityGroup/sg-ab1e739b", "111122223333", "eu-west-1"},
		{"AwsIamAccessKey", "AWS::IAM::AccessKey:ASIA5EXAMPLE", "AwsIamAccessKey/AWS::IAM::AccessKey:ASIA5EXAMPLE", "111122223333", "eu-west-1"},
	}
	for _, c := range cases {
		ref, ok := refOf(asff.Resource{Type: c.typ, ID: c.id}, f)
		if !ok || ref.Key() != c.wantKey || ref.Account != c.account || ref.Region != c.region {
			t.Errorf("refOf(%s %s) = %s account %s region %s, want %s %s %s", c.typ, c.id, ref.Key(), ref.Account, ref.Region, c.wantKey, c.account, c.region)
		}
	}
	if _, ok := refOf(asff.Resource{Type: "AwsEc2Instance", ID: " "}, f); ok {
		t.Errorf("empty id accepted")
	}
}

func TestCanonicalARNs(t *testing.T) {
	cases := map[Ref]string{
		{Type: typeInstance, Name: "i-0a1b2c3d4e5f60718", Region: "us-east-1", Account: "111122223333"}:        "arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718",
		{Type: typeInstance, Name: "i-0a1b2c3d4e5f60718"}:                                                      "i-0a1b2c3d4e5f60718",
		{Type: typeSecurityGroup, Name: "sg-ab1e739b", Region: "eu-west-1", Account: "1", Partition: "aws-cn"}: "arn:aws-cn:ec2:eu-west-1:1:security-group/sg-ab1e739b",
		{Type: typeBucket, Name: "acme"}:                                                                       "arn:aws:s3:::acme",
		{Type: "AwsLambdaFunction", Name: "arn:aws:lambda:us-east-1:1:function:f"}:                             "arn:aws:lambda:us-east-1:1:function:f",
	}
	for ref, want := range cases {
		if got := ref.ARN(); got != want {
			t.Errorf("%+v.ARN() = %s, want %s", ref, got, want)
		}
	}
}

func TestParseResource(t *testing.T) {
	for in, want := range map[string]string{
		"i-0a1b2c3d4e5f60718": "AwsEc2Instance/i-0a1b2c3d4e5f60718",
		"arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718": "AwsEc2Instance/i-0a1b2c3d4e5f60718",
		"AwsEc2Instance/i-0a1b2c3d4e5f60718":                              "AwsEc2Instance/i-0a1b2c3d4e5f60718",
		"acme-customer-exports":                                           "AwsS3Bucket/acme-customer-exports",
		"arn:aws:s3:::acme-customer-exports":                              "AwsS3Bucket/acme-customer-exports",
		"sg-ab1e739b":                                                     "AwsEc2SecurityGroup/sg-ab1e739b",
	} {
		if got := ParseResource(in, typeBucket).Key(); got != want {
			t.Errorf("ParseResource(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRelationsCarriedInFindings(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("testdata", "findings", "real", "inspector-classic-network-reachability.json"))
	if err != nil {
		t.Fatal(err)
	}
	eni := map[string]any{"Resources": []any{map[string]any{
		"Type": "AwsEc2NetworkInterface", "Id": "arn:aws:ec2:us-east-1:111122223333:network-interface/eni-0f1e2d3c4b5a69788",
		"Details": map[string]any{"AwsEc2NetworkInterface": map[string]any{
			"Attachment":     map[string]any{"InstanceId": "i-0a1b2c3d4e5f60718", "Status": "attached"},
			"SecurityGroups": []any{map[string]any{"GroupId": "sg-0c0ffee0ddba11c0f", "GroupName": "web-public"}, map[string]any{"GroupId": "sg-ab1e739b"}},
		}}}}}
	details := instanceOn("i-0a1b2c3d4e5f60718")
	details["Resources"].([]any)[0].(map[string]any)["Details"] = map[string]any{"AwsEc2Instance": map[string]any{
		"SecurityGroups":    []any{"sg-ab1e739b"},
		"NetworkInterfaces": []any{map[string]any{"NetworkInterfaceId": "eni-1", "SecurityGroups": []any{map[string]any{"GroupId": "sg-0c0ffee0ddba11c0f"}}}},
	}}
	cases := []struct {
		name string
		f    *asff.Finding
		want []string
	}{
		{"GuardDuty event: instanceDetails.networkInterfaces[].securityGroups[]", eventFixture(t, fEventPort), []string{"i-0a1b2c3d4e5f60718 sg-0c0ffee0ddba11c0f"}},
		{"its Security Hub copy names no security group", fixture(t, fPortUnused, nil), nil},
		{"OCSF GuardDuty finding (real): resources[].data.network_interfaces[].security_groups[]", fixture(t, "real/ocsf-guardduty-runtime-newbinaryexecuted.json", nil),
			[]string{"i-0123456789abcdef0 sg-0123456789abcdef0"}},
		{"Inspector Classic reachability (real)", decodeWith(t, real, nil), []string{"i-0c10c2c7863d1a356 sg-0af64c8a5eb30ca75"}},
		{"network interface attachment", fixture(t, fSSH, eni), []string{"i-0a1b2c3d4e5f60718 sg-0c0ffee0ddba11c0f", "i-0a1b2c3d4e5f60718 sg-ab1e739b"}},
		{"ASFF AwsEc2Instance details have no security groups: keys not in the format are ignored", fixture(t, fSSH, details), nil},
		{"a finding on a security group alone says nothing", fixture(t, fEC218, nil), nil},
		{"an instance finding without groups says nothing", fixture(t, fSSH, nil), nil},
	}
	for _, c := range cases {
		var got []string
		for _, r := range relationsOf(c.f, refsOf(c.f)) {
			got = append(got, r.instance.Name+" "+r.group.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: relations %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDistinctByPaths(t *testing.T) {
	f := fixture(t, fCVE1, map[string]any{"Vulnerabilities": []any{
		map[string]any{"Id": "CVE-1", "Cvss": []any{map[string]any{"BaseScore": 9.8}}},
		map[string]any{"Id": "CVE-2", "Cvss": []any{map[string]any{"BaseScore": 10}}},
		map[string]any{"Id": "CVE-1"},
	}})
	cases := map[string][]string{
		"Vulnerabilities[].Id":                   {"CVE-1", "CVE-2"},
		"Vulnerabilities[].Cvss[].BaseScore":     {"9.8", "10"},
		"ProductFields.aws/inspector/instanceId": {"i-0a1b2c3d4e5f60718"},
		"Resources[].Type":                       {"AwsEc2Instance"},
		"Severity":                               {`{"Label":"CRITICAL","Normalized":90}`},
		"Vulnerabilities.Id":                     nil, // a list needs []
		"Note.Text":                              nil,
	}
	for p, want := range cases {
		pt, err := parsePath(p)
		if err != nil {
			t.Fatalf("parsePath(%q): %v", p, err)
		}
		if got := pt.values(f.Raw); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, bad := range []string{"", "Vulnerabilities[].", "Vulnerabilities[0].Id", "vulnerabilities[].Id", "Foo"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) accepted", bad)
		}
	}
}
