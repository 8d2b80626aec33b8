package asff

import (
	stdjson "encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"hubtriage/internal/fixtures"
)

// corpus returns every finding object of the real fixtures plus generated
// ones, as raw JSON.
func corpus(t testing.TB) [][]byte {
	t.Helper()
	fx := fixtures.Dir(t)
	var out [][]byte
	for rel := range fixtureCounts {
		c := streamFile(t, filepath.Join(fx, rel))
		for _, f := range c.findings {
			out = append(out, f.Raw)
		}
	}
	return append(out, generatedFindings(t, 500)...)
}

// slowWire decodes doc the slow way.
func slowWire(doc []byte) (*wireFinding, error) {
	w := new(wireFinding)
	err := stdjson.Unmarshal(doc, w)
	return w, err
}

// TestFastPathTakesRealFindings makes sure real and generated findings take
// the fast path (a silent fallback would cost the speed it exists for) and
// that it decodes them exactly as encoding/json does.
func TestFastPathTakesRealFindings(t *testing.T) {
	for _, doc := range corpus(t) {
		fast := new(wireFinding)
		end, err := fastFinding(doc, skipSpace(doc, 0), fast)
		if err != nil || end != len(doc) {
			t.Errorf("fast path declined a valid finding: %.100s", doc)
			continue
		}
		slow, err := slowWire(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("fast and slow decoders disagree on %.100s:\nfast %+v\nslow %+v", doc, fast, slow)
		}
	}
}

// TestFastPathAgreesOnEdgeCases covers what the fast decoder must either
// get exactly right or decline.
func TestFastPathAgreesOnEdgeCases(t *testing.T) {
	for _, doc := range edgeCases {
		checkFastAgainstSlow(t, []byte(doc))
	}
}

var edgeCases = []string{
	`{"Id":"a","ProductArn":"p","Title":"caf\u00e9 \"quoted\" \\ \/ \n"}`,
	`{"Id":"a","ProductArn":"p","Title":"bad utf8 ` + "\xff\xfe" + `"}`,
	`{"Id":"a","ProductArn":"p","id":"lower"}`,
	`{"Id":"a","ProductArn":"p","severity":{"Label":"LOW"}}`,
	`{"Id":"a","ProductArn":"p","Severity":{"label":"low","normalized":"55"}}`,
	`{"Id":"a","ProductArn":"p","Severity":null,"Types":null,"Resources":null,"Remediation":null}`,
	`{"Id":"a","ProductArn":"p","Types":["x",null,"y"],"Resources":[null,{"Id":"r","Details":null}]}`,
	`{"Id":"a","ProductArn":"p","ProductFields":{"a":"1"},"ProductFields":{"b":2}}`,
	`{"Id":"a","ProductArn":"p","Title":5}`,
	`{"Id":"a","ProductArn":"p","Types":"x"}`,
	`{"Id":"a","ProductArn":"p","Resources":{"Id":"r"}}`,
	`{"Id":"a","ProductArn":"p","Extra":[1,-2.5e+3,true,false,null,{"k":[]}]}`,
	`{"Id":"a","ProductArn":"p","Extra":01}`,
	`{"Id":"a","ProductArn":"p","Extra":1.}`,
	`{"Id":"a","ProductArn":"p","Extra":"tab	inside"}`,
	`{"Id":"a","ProductArn":"p","Extra":"\x"}`,
	`{"Id":"a","ProductArn":"p","Extra":"\u12"}`,
	`{"Id":"a","ProductArn":"p",}`,
	`{"Id":"a" "ProductArn":"p"}`,
	`{"Id":"a","ProductArn":"p"} {}`,
	` {"Id":"a","ProductArn":"p"} `,
	`{"Id":"a","ProductArn":"p","Remediation":{"Recommendation":{"Text":"t","Url":"u","Extra":[{}]}}}`,
	`{"Id":"a","ProductArn":"p","Vulnerabilities":[{"Id":"CVE-1","Vendor":{"VendorSeverity":"LOW","Name":"NVD"}}]}`,
	`{"Id":"a","ProductArn":"p","RelatedFindings":[{"ProductArn":"q","Id":"b"}],"Workflow":{"Status":"NEW"}}`,
	`{"Id":"a","ProductArn":"p","Compliance":{"Status":"FAILED","SecurityControlId":"S3.1","StatusReasons":[]}}`,
	// Filter-only fields: odd types are left zero, never failing the finding.
	`{"Id":"a","ProductArn":"p","Confidence":"85","Criticality":null,"Sample":"yes","AwsAccountName":7}`,
	`{"Id":"a","ProductArn":"p","Network":{"SourcePort":"22","SourceIpV4":["x"],"Direction":"IN"},"Process":[]}`,
	`{"Id":"a","ProductArn":"p","Malware":{"Name":"m"},"ThreatIntelIndicators":[{"Value":1,"Type":"DOMAIN"}]}`,
	`{"Id":"a","ProductArn":"p","Compliance":{"AssociatedStandards":[{"StandardsId":"s"}],"SecurityControlParameters":[{"Name":"n","Value":"v"}]}}`,
	`{"Id":"a","ProductArn":"p","Vulnerabilities":[{"Id":"CVE-1","FixAvailable":true,"ExploitAvailable":"YES"}]}`,
	`{"Id":"a","ProductArn":"p","Resources":[{"Id":"r","ApplicationName":{"a":1},"ApplicationArn":"arn"}]}`,
	`{"Id":"a","ProductArn":"p","findingProviderFields":{"Severity":{"Label":"LOW"},"Types":"x","Confidence":"9"}}`,
	`{"Id":"a","ProductArn":"p","Severity":{"Label":"LOW","Product":"not a number"},"Note":{"Text":"t","UpdatedAt":5}}`,
}

// checkFastAgainstSlow asserts the fast decoder's contract on doc: when it
// accepts, encoding/json accepts too and produces the same wire value.
func checkFastAgainstSlow(t *testing.T, doc []byte) {
	t.Helper()
	fast := new(wireFinding)
	end, err := fastFinding(doc, skipSpace(doc, 0), fast)
	if err != nil || skipSpace(doc, end) != len(doc) {
		return // declined (or trailing data): the slow path decides
	}
	slow, serr := slowWire(doc)
	if serr != nil {
		t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", serr, doc)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast and slow decoders disagree on %q:\nfast %+v\nslow %+v", doc, fast, slow)
	}
}

// TestFastPathOnMutations flips, drops and duplicates bytes of real
// findings: whatever the fast decoder accepts must be what encoding/json
// accepts, decoded the same way.
func TestFastPathOnMutations(t *testing.T) {
	docs := corpus(t)
	r := rand.New(rand.NewPCG(7, 7))
	special := []byte(`"\{}[],:0-.eE tnu` + "\x00\x1f\x7f\xc3\xff")
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for range n {
		doc := append([]byte(nil), docs[r.IntN(len(docs))]...)
		for range 1 + r.IntN(3) {
			p := r.IntN(len(doc))
			switch r.IntN(3) {
			case 0:
				doc[p] = special[r.IntN(len(special))]
			case 1:
				doc = append(doc[:p], doc[p+1:]...)
			default:
				doc = append(doc[:p+1], doc[p:]...)
			}
		}
		checkFastAgainstSlow(t, doc)
	}
}

// FuzzFastPath runs the same property under the fuzzer
// (go test -fuzz FuzzFastPath ./asff).
func FuzzFastPath(f *testing.F) {
	for _, doc := range edgeCases {
		f.Add([]byte(doc))
	}
	if b, err := os.ReadFile(fixtures.Path(f, "findings/guardduty-ssh-bruteforce.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkFastAgainstSlow(t, doc)
	})
}
