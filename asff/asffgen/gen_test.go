package asffgen_test

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	"hubtriage/asff"
	"hubtriage/asff/asffgen"
	"hubtriage/internal/fixtures"
)

func TestDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	if err := asffgen.New(11, asffgen.Options{}).WriteNDJSON(&a, 500); err != nil {
		t.Fatal(err)
	}
	if err := asffgen.New(11, asffgen.Options{}).WriteNDJSON(&b, 500); err != nil {
		t.Fatal(err)
	}
	if err := asffgen.New(12, asffgen.Options{}).WriteNDJSON(&c, 500); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed gave different output")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds gave the same output")
	}
}

// decodeAll streams generated NDJSON through asff.Stream and fails on any
// decode error.
func decodeAll(t *testing.T, data []byte) []*asff.Finding {
	t.Helper()
	var out []*asff.Finding
	err := asff.Stream(context.Background(), "generated", bytes.NewReader(data), asff.Options{}, func(r asff.Result) error {
		if r.Err != nil {
			t.Fatalf("generated document does not decode: %v", r.Err)
		}
		out = append(out, r.Finding)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryEventDecodesAsImportedEnvelope(t *testing.T) {
	const n = 4000
	var buf bytes.Buffer
	if err := asffgen.New(5, asffgen.Options{}).WriteNDJSON(&buf, n); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if !bytes.Contains(sc.Bytes(), []byte(`"detail-type":"Security Hub Findings - Imported"`)) {
			t.Fatalf("line %d is not an Imported event: %.120s", lines, sc.Bytes())
		}
	}
	findings := decodeAll(t, buf.Bytes())
	if lines != n || len(findings) != n {
		t.Fatalf("%d lines, %d findings; want %d of each", lines, len(findings), n)
	}
	if avg := buf.Len() / n; avg < 1200 || avg > 2400 {
		t.Errorf("average event size %d bytes, want about 1.6-2 KB", avg)
	}
}

func TestMixOfProductsSeveritiesAndLifecycles(t *testing.T) {
	var buf bytes.Buffer
	if err := asffgen.New(9, asffgen.Options{}).WriteNDJSON(&buf, 5000); err != nil {
		t.Fatal(err)
	}
	findings := decodeAll(t, buf.Bytes())
	products, labels, accounts, regions := map[string]int{}, map[string]int{}, map[string]bool{}, map[string]bool{}
	var legacyControl, consolidatedControl, cisRule, cve, macieType, repeats, resolved, laterUpdate int
	last := map[string]*asff.Finding{}
	for _, f := range findings {
		products[f.ProductName]++
		labels[f.Severity.Label]++
		accounts[f.AwsAccountID], regions[f.Region] = true, true
		switch {
		case strings.HasPrefix(f.GeneratorID, "security-control/"):
			consolidatedControl++
		case strings.HasPrefix(f.GeneratorID, "aws-foundational-security-best-practices/"):
			legacyControl++
		case strings.Contains(f.GeneratorID, "cis-aws-foundations-benchmark/v/1.2.0/rule/"):
			cisRule++
		}
		if f.ProductName == "Security Hub" && f.Compliance.SecurityControlID == "" {
			t.Errorf("control finding %s has no resolved control id", f.ID)
		}
		if len(f.Vulnerabilities) > 0 && strings.HasPrefix(f.Vulnerabilities[0].ID, "CVE-") && f.Resources[0].Type == "AwsEc2Instance" {
			cve++
		}
		if f.ProductName == "Macie" && strings.Contains(f.Types[0], "SensitiveData:S3Object-") {
			macieType++
		}
		if prev, ok := last[f.ID]; ok {
			repeats++
			if f.UpdatedAt.After(prev.UpdatedAt) && f.CreatedAt.Equal(prev.CreatedAt) {
				laterUpdate++
			}
		}
		if !f.Active() {
			resolved++
		}
		last[f.ID] = f
	}
	for _, p := range []string{"GuardDuty", "Inspector", "Security Hub", "Macie"} {
		if products[p] < 200 {
			t.Errorf("only %d %s findings in 5000", products[p], p)
		}
	}
	for _, l := range []string{"LOW", "MEDIUM", "HIGH", "CRITICAL", "INFORMATIONAL"} {
		if labels[l] == 0 {
			t.Errorf("no %s findings", l)
		}
	}
	if len(accounts) < 5 || len(regions) < 3 {
		t.Errorf("%d accounts, %d regions: want a spread", len(accounts), len(regions))
	}
	if legacyControl == 0 || consolidatedControl == 0 || cisRule == 0 {
		t.Errorf("control forms: legacy %d, consolidated %d, CIS rule %d; want all", legacyControl, consolidatedControl, cisRule)
	}
	if cve == 0 || macieType == 0 {
		t.Errorf("%d Inspector CVE findings on EC2, %d Macie S3 object findings", cve, macieType)
	}
	if repeats < 500 || laterUpdate != repeats {
		t.Errorf("%d re-imports, %d of them with a later UpdatedAt and the same CreatedAt", repeats, laterUpdate)
	}
	if resolved < 100 {
		t.Errorf("only %d resolved findings", resolved)
	}
}

func TestResolutionsPerProduct(t *testing.T) {
	var buf bytes.Buffer
	if err := asffgen.New(21, asffgen.Options{RepeatRate: 0.6, ResolveRate: 0.9}).WriteNDJSON(&buf, 3000); err != nil {
		t.Fatal(err)
	}
	how := map[string]map[string]bool{}
	for _, f := range decodeAll(t, buf.Bytes()) {
		if f.Active() {
			continue
		}
		if how[f.ProductName] == nil {
			how[f.ProductName] = map[string]bool{}
		}
		how[f.ProductName][f.RecordState+"/"+f.WorkflowStatus+"/"+f.Compliance.Status] = true
	}
	want := map[string]string{
		"GuardDuty":    "ARCHIVED/NEW/",
		"Inspector":    "ARCHIVED/NEW/",
		"Security Hub": "ACTIVE/RESOLVED/PASSED",
		"Macie":        "ACTIVE/RESOLVED/",
	}
	for product, state := range want {
		if !how[product][state] || len(how[product]) != 1 {
			t.Errorf("%s resolves as %v, want only %s", product, how[product], state)
		}
	}
}

// TestGuardDutyTypesAreReal checks every GuardDuty ASFF type the generator
// emits against the GuardDuty-to-ASFF table in the shared fixtures.
func TestGuardDutyTypesAreReal(t *testing.T) {
	table := fixtures.Read(t, "guardduty-asff-types.tsv")
	known := map[string]bool{}
	for _, line := range strings.Split(string(table), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) == 2 {
			known[cols[1]] = true
		}
	}
	var buf bytes.Buffer
	if err := asffgen.New(3, asffgen.Options{}).WriteNDJSON(&buf, 2000); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range decodeAll(t, buf.Bytes()) {
		if f.ProductName == "GuardDuty" {
			seen[f.Types[0]] = true
			if !known[f.Types[0]] {
				t.Errorf("GuardDuty type %q is not in guardduty-asff-types.tsv", f.Types[0])
			}
		}
	}
	if len(seen) < 5 {
		t.Errorf("only %d GuardDuty types used", len(seen))
	}
}
