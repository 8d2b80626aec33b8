package correlate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/store/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenAt is the evaluation time of the golden scenarios; the fixtures
// were observed in the days before it.
var goldenAt = time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)

// TestCorrelatedFindingsGolden renders each built-in's correlated finding
// from the fixtures and compares it with testdata/golden (go test -update
// rewrites them), and checks the fields issue 3 requires.
func TestCorrelatedFindingsGolden(t *testing.T) {
	cases := []struct {
		golden  string
		files   []string
		then    []string // observed afterwards, ARCHIVED
		opt     Options
		resType string
		id      string
		product string
		account string
	}{
		{golden: "ec2-backdoor-critical-cves", files: scenarios[0].files, resType: "AwsEc2Instance",
			id:      "hubtriage/correlation/ec2-backdoor-critical-cves/AwsEc2Instance/" + instA,
			product: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default", account: "111122223333"},
		{golden: "s3-sensitive-data-exfiltration", files: scenarios[1].files, resType: "AwsS3Bucket",
			id:      "hubtriage/correlation/s3-sensitive-data-exfiltration/AwsS3Bucket/" + bucket,
			product: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default", account: "111122223333"},
		{golden: "ec2-exposed-instance-under-attack", files: scenarios[2].files, resType: "AwsEc2Instance",
			id:      "hubtriage/correlation/ec2-exposed-instance-under-attack/AwsEc2Instance/" + instA,
			product: "arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default", account: "111122223333",
			opt: Options{Account: "999988887777"}},
		{golden: "ec2-backdoor-critical-cves-archived", files: scenarios[0].files, then: scenarios[0].files, resType: "AwsEc2Instance",
			id:      "hubtriage/correlation/ec2-backdoor-critical-cves/AwsEc2Instance/" + instA,
			product: "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default", account: "111122223333"},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			now := goldenAt
			opt := c.opt
			opt.Now = func() time.Time { return now }
			e := New(builtins(t), memstore.New().WithClock(opt.Now), opt)
			var fs []*asff.Finding
			for _, name := range c.files {
				fs = append(fs, fixture(t, name, nil))
			}
			rs := observeAll(t, e, fs...)
			now = now.Add(time.Hour)
			for _, name := range c.then {
				rs = append(rs, observeAll(t, e, fixture(t, asffCopy(name), archived))...)
			}
			if len(rs) != 1+min(len(c.then), 1) {
				t.Fatalf("%d results, want %d", len(rs), 1+min(len(c.then), 1))
			}
			r := rs[len(rs)-1]
			if err := ValidateASFF(r.Finding); err != nil {
				t.Errorf("schema check: %v", err)
			}
			checkRequired(t, r, c.id, c.product, c.account, c.resType, len(c.then) > 0)
			compareGolden(t, filepath.Join("testdata", "golden", c.golden+".json"), r.Finding)
		})
	}
}

// checkRequired asserts the fields issue 3 lists for a correlated finding.
func checkRequired(t *testing.T, r Result, id, product, account, resType string, archived bool) {
	t.Helper()
	var d doc
	if err := json.Unmarshal(r.Finding, &d); err != nil {
		t.Fatal(err)
	}
	state := map[bool]string{false: "ACTIVE", true: "ARCHIVED"}[archived]
	checks := []struct{ field, got, want string }{
		{"Id", d.ID, id},
		{"ProductArn", d.ProductArn, product},
		{"GeneratorId", d.GeneratorID, "hubtriage/correlation/" + r.Rule},
		{"AwsAccountId", d.AwsAccountID, account},
		{"Region", d.Region, "us-east-1"},
		{"SchemaVersion", d.SchemaVersion, "2018-10-08"},
		{"FindingProviderFields.Severity.Label", d.FindingProviderFields.Severity.Label, "CRITICAL"},
		{"Resources[0].Type", d.Resources[0].Type, resType},
		{"Resources[0].Id", d.Resources[0].ID, r.Resource},
		{"RecordState", d.RecordState, state},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(d.FindingProviderFields.Types) == 0 || strings.Join(d.FindingProviderFields.Types, ",") != strings.Join(d.Types, ",") {
		t.Errorf("FindingProviderFields.Types = %v, Types = %v", d.FindingProviderFields.Types, d.Types)
	}
	if len(d.RelatedFindings) != len(r.Contributing) {
		t.Errorf("RelatedFindings %d, contributing %d", len(d.RelatedFindings), len(r.Contributing))
	}
	for i, rf := range d.RelatedFindings {
		if rf.ID != r.Contributing[i].ID || rf.ProductArn != r.Contributing[i].ProductArn {
			t.Errorf("RelatedFindings[%d] = %+v, want %+v", i, rf, r.Contributing[i])
		}
	}
	for _, ts := range []string{d.CreatedAt, d.UpdatedAt, d.FirstObservedAt, d.LastObservedAt} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("timestamp %q: %v", ts, err)
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s", path, pretty.String())
	}
}

func TestValidateASFFRejectsBrokenFindings(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "golden", "ec2-backdoor-critical-cves.json"))
	if err != nil {
		t.Skip("golden file missing:", err)
	}
	if err := ValidateASFF(good); err != nil {
		t.Fatalf("golden finding rejected: %v", err)
	}
	cases := map[string]struct {
		set  map[string]any
		want string
	}{
		"no id":            {map[string]any{"Id": ""}, "Id: length must be 1 to 512"},
		"bad product":      {map[string]any{"ProductArn": "product/default"}, "ProductArn: must be a Security Hub product ARN"},
		"bad account":      {map[string]any{"AwsAccountId": "1111"}, "AwsAccountId: must be 12 digits"},
		"no types":         {map[string]any{"Types": []any{}}, "Types: must list 1 to 50 types"},
		"bad type":         {map[string]any{"Types": []any{"Correlated/x"}}, "Types[0]: must be namespace/category/classifier"},
		"bad time":         {map[string]any{"UpdatedAt": "yesterday"}, `UpdatedAt: must be an RFC 3339 time (got "yesterday")`},
		"no created":       {map[string]any{"CreatedAt": nil}, "CreatedAt: is required"},
		"long title":       {map[string]any{"Title": strings.Repeat("t", 257)}, "Title: length must be 1 to 256"},
		"no resources":     {map[string]any{"Resources": []any{}}, "Resources: must list 1 to 32 resources"},
		"bad severity":     {map[string]any{"Severity": map[string]any{"Label": "SEVERE"}}, "Severity.Label: must be one of"},
		"bad record state": {map[string]any{"RecordState": "DELETED"}, "RecordState: must be ACTIVE or ARCHIVED"},
		"too many related": {map[string]any{"RelatedFindings": manyRelated(11)}, "RelatedFindings: at most 10 (got 11)"},
		"broken related":   {map[string]any{"RelatedFindings": []any{map[string]any{"ProductArn": "arn:aws::securityhub:us-east-1::product/aws/guardduty", "Id": "x"}}}, "RelatedFindings[0].ProductArn"},
	}
	for name, c := range cases {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		for k, v := range c.set {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		err := ValidateASFF(b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func manyRelated(n int) []any {
	var out []any
	for i := range n {
		out = append(out, map[string]any{"ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty", "Id": string(rune('a' + i))})
	}
	return out
}
