package asff

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The GuardDuty event fixtures and their Security Hub copies live with the
// correlation tests, which use them too (see their SOURCES.md).
var gdDir = filepath.Join("..", "correlate", "testdata", "findings")

const gdSSHArn = "arn:aws:guardduty:us-east-1:111122223333:detector/6ab6e6ee780ed494f3b7ca56acdc74df/finding/8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"

func TestGuardDutyEventMapsLikeItsSecurityHubCopy(t *testing.T) {
	ev := streamFile(t, filepath.Join(gdDir, "guardduty-event-ssh-bruteforce-target.json"))
	cp := streamFile(t, filepath.Join(gdDir, "guardduty-ssh-bruteforce-target.json"))
	if len(ev.errs)+len(cp.errs) != 0 || len(ev.findings) != 1 || len(cp.findings) != 1 {
		t.Fatalf("event: %d findings %v; copy: %d findings %v", len(ev.findings), ev.errs, len(cp.findings), cp.errs)
	}
	g, s := ev.findings[0], cp.findings[0]
	if g.Identity() != s.Identity() {
		t.Errorf("identity %q, its Security Hub copy %q: one finding must alert once", g.Identity(), s.Identity())
	}
	same := []struct {
		field     string
		got, want any
	}{
		{"ID", g.ID, gdSSHArn},
		{"ProductArn", g.ProductArn, s.ProductArn},
		{"ProductName", g.ProductName, s.ProductName},
		{"CompanyName", g.CompanyName, s.CompanyName},
		{"Region", g.Region, s.Region},
		{"GeneratorID", g.GeneratorID, s.GeneratorID},
		{"AwsAccountID", g.AwsAccountID, s.AwsAccountID},
		{"Types", g.Types, s.Types},
		{"FirstObservedAt", g.FirstObservedAt, s.FirstObservedAt},
		{"LastObservedAt", g.LastObservedAt, s.LastObservedAt},
		{"CreatedAt", g.CreatedAt, s.CreatedAt},
		{"UpdatedAt", g.UpdatedAt, s.UpdatedAt},
		{"Severity.Label", g.Severity.Label, s.Severity.Label},
		{"Title", g.Title, s.Title},
		{"SourceURL", g.SourceURL, s.SourceURL},
		{"RecordState", g.RecordState, s.RecordState},
		{"Active", g.Active(), true},
		{"Resources[0].Type", g.Resources[0].Type, s.Resources[0].Type},
		{"Resources[0].ID", g.Resources[0].ID, s.Resources[0].ID},
		{"Resources[0].Tags", g.Resources[0].Tags, s.Resources[0].Tags},
		{"Resources[0].SecurityGroups", g.Resources[0].SecurityGroups, []string{"sg-0c0ffee0ddba11c0f"}},
		{"copy's SecurityGroups", s.Resources[0].SecurityGroups, []string(nil)},
	}
	for _, c := range same {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	// Every ProductField the copy has under aws/guardduty/service/ (the
	// flattening Security Hub documents) is there with the same value, but
	// for additionalInfo and evidence, objects whose rendering Security Hub
	// does not document (its sample shows "").
	for k, want := range s.ProductFields {
		if strings.HasSuffix(k, "/additionalInfo") || strings.HasSuffix(k, "/evidence") {
			continue
		}
		if strings.HasPrefix(k, "aws/guardduty/service/") || strings.HasPrefix(k, "aws/securityhub/") {
			if got, ok := g.ProductFields[k]; !ok || got != want {
				t.Errorf("ProductFields[%q] = %q (present %v), copy has %q", k, got, ok, want)
			}
		}
	}
	if !json.Valid(g.Raw) || !bytes.HasPrefix(g.Raw, []byte(`{`)) || !bytes.Contains(g.Raw, []byte(`"securityGroups"`)) {
		t.Errorf("Raw is not the event's detail: %.80s", g.Raw)
	}
	again, err := DecodeFinding(g.Raw)
	if err != nil || again.ID != g.ID || !reflect.DeepEqual(again.Resources, g.Resources) {
		t.Errorf("DecodeFinding(Raw) = %+v, %v: a parked or re-read GuardDuty finding must decode the same", again, err)
	}
}

func TestGuardDutySeverityLevels(t *testing.T) {
	// GuardDuty's documented levels: Low 1.0-3.9, Medium 4.0-6.9, High
	// 7.0-8.9, Critical 9.0-10.0.
	for sev, want := range map[float64]string{1: "LOW", 3.9: "LOW", 4: "MEDIUM", 6.9: "MEDIUM", 7: "HIGH", 8.9: "HIGH", 9: "CRITICAL", 10: "CRITICAL"} {
		if got := GuardDutySeverity(sev); got.Label != want {
			t.Errorf("severity %v: %s, want %s", sev, got.Label, want)
		}
	}
}

// gdEvent builds a "GuardDuty Finding" event around detail.
func gdEvent(detail string) string {
	return `{"version":"0","id":"cd2d702e-ab31-411b-9344-793ce56b1bc7","detail-type":"GuardDuty Finding","source":"aws.guardduty",` +
		`"account":"111122223333","time":"2024-05-18T06:35:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
}

func TestGuardDutyShapes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(gdDir, "guardduty-event-network-port-unusual.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	detail := string(ev["detail"])
	portArn := "arn:aws:guardduty:us-east-1:111122223333:detector/6ab6e6ee780ed494f3b7ca56acdc74df/finding/5d1f0e3c2b4a69788796a5b4c3d2e1f0"
	s3 := `{"accountId":"111122223333","region":"us-east-1","partition":"aws","id":"b1","arn":"arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/b1",` +
		`"type":"Exfiltration:S3/ObjectRead.Unusual","severity":8,"resource":{"resourceType":"S3Bucket","s3BucketDetails":[{"arn":"arn:aws:s3:::acme-exports","name":"acme-exports"}]},` +
		`"service":{"archived":true,"resourceRole":"TARGET"}}`
	tests := []struct {
		name, in string
		want     []string
	}{
		{"event", gdEvent(detail), []string{"F:" + portArn}},
		{"detail before detail-type", `{"detail":` + detail + `,"detail-type":"GuardDuty Finding","source":"aws.guardduty"}`, []string{"F:" + portArn}},
		{"bare GuardDuty finding", detail, []string{"F:" + portArn}},
		{"ndjson of events and Security Hub findings", gdEvent(detail) + "\n" + minimal("a") + "\n" + gdEvent(s3), []string{"F:" + portArn, "F:a", "F:arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/b1"}},
		{"no arn", gdEvent(`{"accountId":"111122223333","id":"x"}`), []string{"E:GuardDuty finding: missing required field arn"}},
		{"severity of the wrong type", gdEvent(`{"accountId":"1","arn":"a","severity":"high"}`), []string{"E:field severity: unexpected JSON string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := streamString(t, tt.in)
			if !reflect.DeepEqual(got.order, tt.want) {
				t.Errorf("got %q, want %q", got.order, tt.want)
			}
		})
	}
	got := streamString(t, gdEvent(s3))
	f := got.findings[0]
	if f.Resources[0].Type != "AwsS3Bucket" || f.Resources[0].ID != "arn:aws:s3:::acme-exports" || f.Active() ||
		f.Severity.Label != "HIGH" || !reflect.DeepEqual(f.Types, []string{"TTPs/Exfiltration:S3-ObjectRead.Unusual"}) {
		t.Errorf("S3 finding mapped to %+v", f)
	}
}

func TestFlattenServiceAsSecurityHubDoes(t *testing.T) {
	pf := flattenService(json.RawMessage(`{"action":{"actionType":"PORT_PROBE","portProbeAction":{"blocked":false,
		"portProbeDetails":[{"localPortDetails":{"port":22,"portName":"SSH"}}]}},"evidence":null,"additionalInfo":{},"count":3}`))
	want := map[string]string{
		"aws/guardduty/service/action/actionType":                                                    "PORT_PROBE",
		"aws/guardduty/service/action/portProbeAction/blocked":                                       "false",
		"aws/guardduty/service/action/portProbeAction/portProbeDetails.0_/localPortDetails/port":     "22",
		"aws/guardduty/service/action/portProbeAction/portProbeDetails.0_/localPortDetails/portName": "SSH",
		"aws/guardduty/service/evidence":                                                             "",
		"aws/guardduty/service/additionalInfo":                                                       "",
		"aws/guardduty/service/count":                                                                "3",
	}
	if !reflect.DeepEqual(pf, want) {
		t.Errorf("flattened %v, want %v", pf, want)
	}
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 80 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
	}
	many.WriteString(`}`)
	if n := len(flattenService(json.RawMessage(many.String()))); n != maxProductFields-3 {
		t.Errorf("%d ProductFields from 80 service fields, want at most %d (the ASFF limit with room for 3)", n, maxProductFields-3)
	}
}
