package correlate

import (
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	json "github.com/goccy/go-json"
)

// oracleValues is how path.values read a finding before it scanned the raw
// JSON: decode the whole document, then walk it. The scanner must agree.
func oracleValues(p path, raw []byte) []string {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil
	}
	var out []string
	var walk func(p path, v any)
	walk = func(p path, v any) {
		if len(p) == 0 {
			if s, ok := scalarText(v); ok && s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		child, ok := obj[p[0].key]
		if !ok {
			return
		}
		if !p[0].each {
			walk(p[1:], child)
			return
		}
		list, _ := child.([]any)
		for _, e := range list {
			walk(p[1:], e)
		}
	}
	walk(p, doc)
	return out
}

var oraclePaths = []string{
	"Vulnerabilities[].Id", "Vulnerabilities[].Cvss[].BaseScore", "Vulnerabilities[].VulnerablePackages[].Name",
	"Vulnerabilities[].Cvss", "Vulnerabilities", "Resources[].Details.AwsEc2Instance.SecurityGroups[].GroupId",
	"Resources[].Id", "Resources[].Tags.Name", "ProductFields.aws/inspector/instanceId", "Severity", "Severity.Label",
	"Severity.Normalized", "Types[]", "Types", "Title", "Note.Text", "Compliance.Status", "Id",
}

func checkValuesAgree(t *testing.T, raw []byte) {
	t.Helper()
	for _, ps := range oraclePaths {
		p, err := parsePath(ps)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.values(raw), oracleValues(p, raw); !slices.Equal(got, want) {
			t.Errorf("%s of %.200s = %q, want %q", ps, raw, got, want)
		}
	}
}

var valuesCases = []string{
	`{}`, `[]`, `null`, `"x"`, `{"Vulnerabilities":null}`, `{"Vulnerabilities":{}}`, `{"Vulnerabilities":[]}`,
	`{"Vulnerabilities":[{"Id":"A"},{"Id":"B"},{"Id":"A"},{"Id":""},{"Id":null},{"Id":7},{"Id":true}]}`,
	`{"Vulnerabilities":[{"Id":"A","Id":"B"}],"Id":"x","Id":"y"}`,
	`{"Vulnerabilities" : [ { "Id" : "C\u0056E-1" } , {"Id":"tab\there"}, {"I\u0064":"escaped key"} ] }`,
	`{"Vulnerabilities":[{"Cvss":[{"BaseScore":9.8},{"BaseScore":10},{"BaseScore":1e2},{"BaseScore":-0},{"BaseScore":1.0E-3}]}]}`,
	`{"Vulnerabilities":[{"Cvss":{"BaseScore":1}},{"Cvss":[{"BaseScore":"str"}]},"str",3,[1,2]]}`,
	`{"Severity":{"Normalized":90,"Label":"CRITICAL","Original":"a\"b"}}`, `{"Severity":[1,"a",{"b":null}]}`,
	`{"Types":["a","b","a"],"Title":"t\\\"x}]"}`, `{"Title":"}]{[\""}`, `{"Note":{"Text":"\u00e9t\u00e9 \ud83d\ude00"}}`,
	`{"ProductFields":{"aws/inspector/instanceId":"i-1","aws/inspector/instanceId ":"no"}}`,
	`{"Resources":[{"Id":"r1","Tags":{"Name":"web"},"Details":{"AwsEc2Instance":{"SecurityGroups":[{"GroupId":"sg-1"},{"GroupId":"sg-2"}]}}}]}`,
	"{\n\t\"Id\" :\r\n \"spaced\"\n}", `{"Compliance":{"Status":false}}`, `{"Severity":{"Normalized":12345678901234567890}}`,
}

func TestDistinctByScanAgreesWithDecoding(t *testing.T) {
	for _, c := range valuesCases {
		checkValuesAgree(t, []byte(c))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "findings", "*.json"))
	real, _ := filepath.Glob(filepath.Join("testdata", "findings", "real", "*.json"))
	for _, name := range append(files, real...) {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		checkValuesAgree(t, raw)
	}
}

func FuzzDistinctByScan(f *testing.F) {
	for _, c := range valuesCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !stdjson.Valid(raw) {
			t.Skip("findings are valid JSON by the time they are correlated")
		}
		checkValuesAgree(t, raw)
	})
}
