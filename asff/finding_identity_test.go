package asff

import "testing"

func TestAppendIdentity(t *testing.T) {
	for _, f := range []*Finding{
		{ProductArn: "arn:p", ID: "id-1"},
		{AwsAccountID: "123", Region: "eu-west-1", Compliance: Compliance{SecurityControlID: "S3.1"}, Resources: []Resource{{ID: "arn:r"}}},
		{Compliance: Compliance{SecurityControlID: "S3.1"}, ProductArn: "p", ID: "i"},
	} {
		id := f.Identity()
		if got := string(f.AppendIdentity([]byte("x"))); got != "x"+id {
			t.Errorf("AppendIdentity = %q, want %q", got, "x"+id)
		}
		if f.IdentityLen() != len(id) {
			t.Errorf("IdentityLen = %d, want %d", f.IdentityLen(), len(id))
		}
	}
}
