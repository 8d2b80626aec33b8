package asff

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"hubtriage/internal/fixtures"
)

// TestEventDetailAlone streams each real event fixture's detail object on
// its own ({"findings": [...]}, as a file of EventBridge details holds):
// every finding of the event is decoded, byte for byte the same.
func TestEventDetailAlone(t *testing.T) {
	for rel, n := range fixtureCounts {
		if !strings.HasPrefix(rel, "events/") {
			continue
		}
		var event struct{ Detail stdjson.RawMessage }
		if err := stdjson.Unmarshal(fixtures.Read(t, rel), &event); err != nil {
			t.Fatal(err)
		}
		got := streamString(t, string(event.Detail))
		want := streamFile(t, fixtures.Path(t, rel))
		if len(got.errs) != 0 || len(got.findings) != n || !sameRaw(got.findings, want.findings) {
			t.Errorf("%s detail: %d findings (want %d), errors %v", rel, len(got.findings), n, got.errs)
		}
	}
}

// TestNamesFromProductArn removes ProductName and CompanyName (top level
// and ProductFields) from every real fixture finding that has them, as raw
// Prowler output lacks them, and expects the same names back from the
// ProductArn.
func TestNamesFromProductArn(t *testing.T) {
	checked := map[string]bool{}
	for rel := range fixtureCounts {
		for _, f := range streamFile(t, fixtures.Path(t, rel)).findings {
			var obj map[string]any
			if err := stdjson.Unmarshal(f.Raw, &obj); err != nil {
				t.Fatal(err)
			}
			// The names Security Hub gave the finding, at top level or
			// (2019-era findings) in ProductFields.
			name, company := f.ProductName, f.CompanyName
			if name == "" || company == "" {
				continue
			}
			delete(obj, "ProductName")
			delete(obj, "CompanyName")
			if pf, ok := obj["ProductFields"].(map[string]any); ok {
				delete(pf, pfProductName)
				delete(pf, pfCompanyName)
			}
			b, _ := stdjson.Marshal(obj)
			g := decode(t, string(b))
			// GuardDuty's findings said "AWS" until mid-2019, "Amazon" since.
			renamed := name == "GuardDuty" && company == "AWS" && f.UpdatedAt.Before(time.Date(2019, 7, 1, 0, 0, 0, 0, time.UTC))
			if g.ProductName != name || (g.CompanyName != company && !renamed) {
				t.Errorf("%s %s: derived %q/%q, want %q/%q", rel, f.ProductArn, g.CompanyName, g.ProductName, company, name)
			}
			checked[name] = true
		}
	}
	if len(checked) < 4 {
		t.Errorf("only products %v checked", checked)
	}
	tests := []struct{ arn, company, product string }{
		{"arn:aws:securityhub:eu-west-1::product/prowler/prowler", "Prowler", "Prowler"},
		{"arn:aws:securityhub:us-east-1::product/trend-micro/cloud-one", "Trend Micro", "Cloud One"},
		{"arn:aws:securityhub:us-east-1:101010101111:product/101010101111/default", "Personal", "Default"},
		{"arn:aws:securityhub:us-east-1::product/aws/macie", "Amazon", "Macie"},
		{"arn:aws:securityhub:us-east-1::product/aws/firewall-manager", "AWS", "Firewall Manager"},
		{"arn:aws:securityhub:us-east-1::productv2/aws/guardduty", "Amazon", "GuardDuty"},
		{"not-an-arn", "", ""},
	}
	for _, tt := range tests {
		f := decode(t, `{"Id":"x","ProductArn":"`+tt.arn+`"}`)
		if f.CompanyName != tt.company || f.ProductName != tt.product {
			t.Errorf("%s: %q/%q, want %q/%q", tt.arn, f.CompanyName, f.ProductName, tt.company, tt.product)
		}
	}
	// The custom product fixture names itself in ProductFields; the ARN
	// gives the same.
	f := streamFile(t, fixtures.Path(t, "getfindings/custodian-custom-product-ec2.json")).findings[0]
	if c, p := productNames(f.ProductArn); c != f.ProductFields[pfCompanyName] || p != f.ProductFields[pfProductName] {
		t.Errorf("custom product: ARN gives %q/%q, ProductFields say %q/%q", c, p, f.ProductFields[pfCompanyName], f.ProductFields[pfProductName])
	}
}

const realFinding = "findings/guardduty-ssh-bruteforce.json"

// TestTimestampVariants sets UpdatedAt of a real finding to the layouts
// real producers write.
func TestTimestampVariants(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2024-05-24 00:26:57.000000000", "2024-05-24T00:26:57Z"},
		{"2024-05-24 00:26:57", "2024-05-24T00:26:57Z"},
		{"2024-05-24 00:26:57+02:00", "2024-05-23T22:26:57Z"},
		{"2024-05-24T00:26:57+0000", "2024-05-24T00:26:57Z"},
		{"2024-05-24T00:26:57.123-0500", "2024-05-24T05:26:57.123Z"},
		{"2024-05-24 00:26:57 UTC", "2024-05-24T00:26:57Z"},
		{"2024-05-24T00:26:57.337224100Z", "2024-05-24T00:26:57.3372241Z"},
	}
	for _, tt := range tests {
		doc := fixtures.Variant(t, realFinding, map[string]any{"UpdatedAt": tt.in})
		f, err := DecodeFinding(doc)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := f.UpdatedAt.Format(time.RFC3339Nano); got != tt.want {
			t.Errorf("%q -> %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestUnusableFieldsAreErrors: a timestamp in no known layout and a
// severity score that is not a number from 0 to 100 are errors naming the
// field (and the file and line), never a silent zero or CRITICAL; the
// next finding still decodes.
func TestUnusableFieldsAreErrors(t *testing.T) {
	tests := []struct {
		field string
		set   map[string]any
	}{
		{"UpdatedAt", map[string]any{"UpdatedAt": "yesterday"}},
		{"FirstObservedAt", map[string]any{"FirstObservedAt": "24/05/2024"}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Label":"HIGH","Normalized":1e999}`)}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Normalized":"NaN"}`)}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Normalized":"Inf"}`)}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Normalized":-1}`)}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Normalized":101}`)}},
		{"Severity.Normalized", map[string]any{"Severity": stdjson.RawMessage(`{"Normalized":"high"}`)}},
	}
	for _, tt := range tests {
		doc := fixtures.Variant(t, realFinding, tt.set)
		got := streamString(t, minimal("a")+"\n"+string(doc)+"\n"+minimal("b"))
		if len(got.findings) != 2 || len(got.errs) != 1 {
			t.Fatalf("%v: %d findings, errors %v", tt.set, len(got.findings), got.errs)
		}
		e := got.errs[0]
		if !errors.Is(e, ErrField) || e.Line != 2 || !strings.Contains(e.Error(), "input.json: line 2") ||
			!strings.Contains(e.Reason, "field "+tt.field+":") {
			t.Errorf("%v: error %q, want ErrField naming %s on line 2", tt.set, e, tt.field)
		}
	}
}

// TestEventsWithoutFindingsAreSkipped: a Security Hub event that carries
// no findings (the documented Insight Results event) is an ErrNoFindings
// result naming its detail-type, not a decode failure.
func TestEventsWithoutFindingsAreSkipped(t *testing.T) {
	got := streamFile(t, filepath.Join("testdata", "events", "insight-results.json"))
	if len(got.findings) != 0 || len(got.errs) != 1 {
		t.Fatalf("findings %d, errors %v", len(got.findings), got.errs)
	}
	if e := got.errs[0]; !errors.Is(e, ErrNoFindings) || !strings.Contains(e.Reason, `"Security Hub Insight Results"`) {
		t.Errorf("got %v, want ErrNoFindings naming the detail-type", e)
	}
}

// TestRealFixturesStillDecodeStrictly guards the stricter field checks:
// no real fixture trips them.
func TestRealFixturesStillDecodeStrictly(t *testing.T) {
	rels := make([]string, 0, len(fixtureCounts))
	for rel := range fixtureCounts {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		b, err := os.ReadFile(fixtures.Path(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range streamAll(t, rel, bytes.NewReader(b), Options{}).errs {
			if errors.Is(e, ErrField) {
				t.Errorf("%s: %v", rel, e)
			}
		}
	}
}
