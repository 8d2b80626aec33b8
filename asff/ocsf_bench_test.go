package asff

import (
	stdjson "encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ocsfForm writes the ASFF finding raw as the new Security Hub would: the
// same finding as an OCSF object (the inverse of docs/ocsf.md), with the
// resource details kept as resources[].data. It is how the benchmark gets
// the same corpus in both forms.
func ocsfForm(t testing.TB, raw []byte) []byte {
	t.Helper()
	f, err := DecodeFinding(raw)
	if err != nil {
		t.Fatal(err)
	}
	var full struct {
		Resources []struct{ Details stdjson.RawMessage }
	}
	if err := stdjson.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	sevID := map[string]int{"INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}[f.Severity.Label]
	statusID := map[string]int{"NEW": 1, "NOTIFIED": 2, "SUPPRESSED": 3, "RESOLVED": 4}[f.WorkflowStatus]
	activity := 2
	if f.RecordState == "ARCHIVED" {
		activity = 3
	}
	ts := func(t time.Time) (int64, string) { return t.UnixMilli(), t.Format("2006-01-02T15:04:05.000Z") }
	fi := map[string]any{"uid": f.ID, "title": f.Title, "desc": f.Description, "types": f.Types}
	for k, v := range map[string]time.Time{"created_time": f.CreatedAt, "modified_time": f.UpdatedAt,
		"first_seen_time": f.FirstObservedAt, "last_seen_time": f.LastObservedAt} {
		fi[k], fi[k+"_dt"] = ts(v)
	}
	var resources []any
	for i, r := range f.Resources {
		var tags []any
		for k, v := range r.Tags {
			tags = append(tags, map[string]string{"name": k, "value": v})
		}
		res := map[string]any{"type": r.Type, "uid": r.ID, "region": r.Region, "cloud_partition": r.Partition, "tags": tags}
		if i < len(full.Resources) && len(full.Resources[i].Details) > 0 {
			res["data"] = full.Resources[i].Details
		}
		resources = append(resources, res)
	}
	var vulns []any
	for _, v := range f.Vulnerabilities {
		vulns = append(vulns, map[string]any{"cve": map[string]string{"uid": v.ID}, "severity": v.Severity})
	}
	o := map[string]any{
		"activity_id": activity, "class_uid": 2004, "category_uid": 2, "severity": f.Severity.Label, "severity_id": sevID,
		"status": f.WorkflowStatus, "status_id": statusID, "finding_info": fi,
		"metadata":  map[string]any{"version": "1.6.0", "product": map[string]string{"uid": strings.Replace(f.ProductArn, ":product/", ":productv2/", 1), "name": f.ProductName, "vendor_name": f.CompanyName}},
		"cloud":     map[string]any{"region": f.Region, "account": map[string]string{"uid": f.AwsAccountID}, "provider": "AWS"},
		"resources": resources, "vulnerabilities": vulns,
		"remediation": map[string]any{"desc": f.Remediation.Text, "references": []string{f.Remediation.URL}},
	}
	if f.Compliance.SecurityControlID != "" {
		o["compliance"] = map[string]any{"control": f.Compliance.SecurityControlID, "status": f.Compliance.Status}
	}
	b, err := stdjson.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOCSFFormIsTheSameFinding checks the benchmark's corpus: each
// generated finding and its OCSF form decode to the same identity, state
// and key fields.
func TestOCSFFormIsTheSameFinding(t *testing.T) {
	for _, raw := range generatedFindings(t, 300) {
		a, err := DecodeFinding(raw)
		if err != nil {
			t.Fatal(err)
		}
		o, err := DecodeFinding(ocsfForm(t, raw))
		if err != nil {
			t.Fatal(err)
		}
		if a.Identity() != o.Identity() || a.Active() != o.Active() || a.Severity.Label != o.Severity.Label ||
			!a.UpdatedAt.Equal(o.UpdatedAt) || len(a.Resources) != len(o.Resources) || o.Format != FormatOCSF {
			t.Fatalf("ASFF %s / OCSF %s differ:\n%+v\n%+v", a.Identity(), o.Identity(), a, o)
		}
	}
}

// BenchmarkDecodeFormats decodes the same generated findings as ASFF and
// as OCSF; compare the findings/s of the two sub-benchmarks (the target:
// OCSF within 20% of ASFF).
func BenchmarkDecodeFormats(b *testing.B) {
	asffDocs := generatedFindings(b, 1000)
	ocsfDocs := make([][]byte, len(asffDocs))
	for i, d := range asffDocs {
		ocsfDocs[i] = ocsfForm(b, d)
	}
	for _, tt := range []struct {
		name string
		docs [][]byte
	}{{"ASFF", asffDocs}, {"OCSF", ocsfDocs}} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(totalLen(tt.docs) / int64(len(tt.docs)))
			b.ReportAllocs()
			start, i := time.Now(), 0
			for ; b.Loop(); i++ {
				if _, err := DecodeFinding(tt.docs[i%len(tt.docs)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(i)/time.Since(start).Seconds(), "findings/s")
		})
	}
}

// slowOCSF decodes doc the way decodeOCSF's slow path does.
func slowOCSF(doc []byte) (*ocsfFinding, error) {
	o := new(ocsfFinding)
	err := stdjson.Unmarshal(doc, o)
	return o, err
}

// checkFastOCSF holds the fast OCSF decoder to encoding/json: when it
// accepts a document, it decodes it exactly the same.
func checkFastOCSF(t *testing.T, doc []byte) bool {
	t.Helper()
	var fast ocsfFinding
	end, err := fastOCSF(doc, 0, &fast)
	if err != nil || end != len(doc) {
		return false
	}
	slow, serr := slowOCSF(doc)
	if serr != nil {
		t.Fatalf("fast path accepted what encoding/json rejects (%v): %.200q", serr, doc)
	}
	if !reflect.DeepEqual(&fast, slow) {
		t.Fatalf("fast and slow paths differ on %.200q:\nfast %+v\nslow %+v", doc, fast, *slow)
	}
	return true
}

// TestFastOCSFTakesRealFindings: real samples and the generated OCSF
// corpus take the fast path, and decode as encoding/json decodes them.
func TestFastOCSFTakesRealFindings(t *testing.T) {
	var docs [][]byte
	for _, fs := range ocsfFindings(t) {
		for _, f := range fs {
			docs = append(docs, f.Raw)
		}
	}
	for _, d := range generatedFindings(t, 300) {
		docs = append(docs, ocsfForm(t, d))
	}
	docs = append(docs, []byte(`{"finding_info":{"uid":"x","types":[]},"metadata":{"product":{"uid":"p"}},"compliance":null,"resources":null,"time":null}`))
	for _, d := range docs {
		if !checkFastOCSF(t, d) {
			t.Errorf("fast path declined %.200q", d)
		}
	}
}

// BenchmarkDecodeFormatsInterleaved decodes the corpus in alternating
// batches of 100 findings, ASFF then OCSF, timing each form separately, so
// load from other processes falls on both alike. It reports both rates
// and ocsf/asff, their ratio (the target: at least 0.8).
func BenchmarkDecodeFormatsInterleaved(b *testing.B) {
	asffDocs := generatedFindings(b, 1000)
	ocsfDocs := make([][]byte, len(asffDocs))
	for i, d := range asffDocs {
		ocsfDocs[i] = ocsfForm(b, d)
	}
	const batch = 100
	var spent [2]time.Duration
	decoded := 0
	for i := 0; b.Loop(); i++ {
		for form, docs := range [2][][]byte{asffDocs, ocsfDocs} {
			start := time.Now()
			for j := range batch {
				if _, err := DecodeFinding(docs[(i*batch+j)%len(docs)]); err != nil {
					b.Fatal(err)
				}
			}
			spent[form] += time.Since(start)
		}
		decoded += batch
	}
	asffRate, ocsfRate := float64(decoded)/spent[0].Seconds(), float64(decoded)/spent[1].Seconds()
	b.ReportMetric(asffRate, "asff-findings/s")
	b.ReportMetric(ocsfRate, "ocsf-findings/s")
	b.ReportMetric(ocsfRate/asffRate, "ocsf/asff")
}
