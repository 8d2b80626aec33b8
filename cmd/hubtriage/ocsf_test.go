package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
)

// ocsfSample is the path of a real OCSF sample (../shared/fixtures/ocsf).
func ocsfSample(t *testing.T, name string) string {
	return filepath.Join(filepath.Dir(fixtures.Dir(t)), "ocsf", name)
}

// variant writes a copy of the JSON file src with edit applied to its
// (first) finding object, and returns its path.
func variant(t *testing.T, src string, edit func(map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	finding := doc
	if list, ok := doc["Findings"].([]any); ok {
		finding = list[0].(map[string]any)
	}
	edit(finding)
	out, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func allRulesConfig(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := fmt.Sprintf(`
channels:
  secops:
    email:
      smtp: {host: %s, port: %d, tls: none}
      from: hubtriage@example.com
      to: [secops@example.com]
rules:
  - name: everything
    filter:
      SeverityLabel: [{Value: INFORMATIONAL, Comparison: NOT_EQUALS}]
    channels: [secops]
`, srv.Host, srv.Port)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTwinsAcrossFormatsAreOneAlert replays, against one state file and a
// real SMTP server, a finding in one format and its twin in the other: one
// alert, one state, whichever format reports the change.
func TestTwinsAcrossFormatsAreOneAlert(t *testing.T) {
	ssmOCSF := ocsfSample(t, "elastic-getfindingsv2-page3-last-2003-ssm.json")
	ssmASFF := filepath.Join("..", "..", "asff", "testdata", "ocsf", "control-ssm.1-asff-twin.json")
	ssmPassed := variant(t, ssmOCSF, func(f map[string]any) {
		c := f["compliance"].(map[string]any)
		c["status"], c["status_id"] = "Pass", 1
		f["status"], f["status_id"] = "Resolved", 4
	})
	gdASFF := filepath.Join("..", "..", "correlate", "testdata", "findings", "guardduty-backdoor-ec2.json")
	gdOCSF := filepath.Join("..", "..", "asff", "testdata", "ocsf", "guardduty-backdoor-ec2.ocsf.json")
	gdClosed := variant(t, gdOCSF, func(f map[string]any) { f["activity_id"], f["activity_name"] = 3, "Close" })
	tests := []struct {
		name  string
		steps []string // inputs, replayed in turn
		want  []string // decision of each step
	}{
		{"CSPM control and its OCSF twin", []string{ssmASFF, ssmOCSF, ssmPassed, ssmASFF}, []string{"notify", "duplicate", "resolved", "recurrence"}},
		{"OCSF control first", []string{ssmOCSF, ssmASFF}, []string{"notify", "duplicate"}},
		{"GuardDuty finding and its OCSF twin", []string{gdASFF, gdOCSF, gdClosed, gdASFF}, []string{"notify", "duplicate", "resolved", "recurrence"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			cfg := allRulesConfig(t, srv)
			state := filepath.Join(t.TempDir(), "state.db")
			emails := 0
			for i, in := range tt.steps {
				r := execute(t, "", "replay", "--config", cfg, "--state", state, "--correlations-out", filepath.Join(t.TempDir(), "c.json"), in)
				var own []string
				for _, d := range r.decisions {
					if d["decision"] != "correlate" {
						own = append(own, d["decision"].(string))
					}
				}
				if r.code != 0 || !slices.Equal(own, []string{tt.want[i]}) {
					t.Fatalf("step %d (%s): exit %d, decisions %v, want %s\n%s", i+1, filepath.Base(in), r.code, own, tt.want[i], r.stderr)
				}
				if tt.want[i] == "notify" || tt.want[i] == "recurrence" {
					emails++
				}
				if got := len(srv.Messages()); got != emails {
					t.Fatalf("step %d: %d emails, want %d", i+1, got, emails)
				}
			}
		})
	}
}

// ocsfInspector writes a variant of the real OCSF Inspector EC2 sample:
// CRITICAL, CVE cve, on instance i-0a1b2c3d4e5f60718 of 111122223333 in
// us-east-1, modified 2024-05-18.
func ocsfInspector(t *testing.T, cve string) string {
	return variant(t, ocsfSample(t, "elastic-2002-inspector-ec2-cve-2021-47412.json"), func(f map[string]any) {
		fi := f["finding_info"].(map[string]any)
		fi["uid"] = "arn:aws:inspector2:us-east-1:111122223333:finding/ocsf-" + cve
		for _, k := range []string{"created_time_dt", "modified_time_dt", "first_seen_time_dt", "last_seen_time_dt"} {
			fi[k] = "2024-05-18T04:00:13.551Z"
		}
		f["metadata"].(map[string]any)["product"].(map[string]any)["uid"] = "arn:aws:securityhub:us-east-1::productv2/aws/inspector"
		f["cloud"] = map[string]any{"account": map[string]any{"uid": "111122223333"}, "region": "us-east-1", "provider": "AWS"}
		f["severity"], f["severity_id"] = "Critical", 5
		r := f["resources"].([]any)[0].(map[string]any)
		r["uid"], r["region"] = "i-0a1b2c3d4e5f60718", "us-east-1"
		f["vulnerabilities"].([]any)[0].(map[string]any)["cve"].(map[string]any)["uid"] = cve
	})
}

// TestCorrelationFromOCSFOnly: the built-in fires from OCSF findings
// alone; its distinct_by (Vulnerabilities[].Id) counts the OCSF
// Inspector findings' CVEs through the mapped fields.
func TestCorrelationFromOCSFOnly(t *testing.T) {
	cfg := allRulesConfig(t, smtptest.Start(t))
	gd := filepath.Join("..", "..", "asff", "testdata", "ocsf", "guardduty-backdoor-ec2.ocsf.json")
	args := []string{"replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--now", "2024-05-20T12:00:00Z", "--dry-run", gd}
	for _, cve := range []string{"CVE-2021-44228", "CVE-2022-22965", "CVE-2023-38545"} {
		args = append(args, ocsfInspector(t, cve))
	}
	r := execute(t, "", args...)
	if !strings.Contains(r.stdout, `"decision":"correlate"`) || !strings.Contains(r.stdout, "ec2-backdoor-critical-cves") {
		t.Fatalf("no ec2-backdoor-critical-cves correlation from OCSF findings; decisions %s\n%s", r.kinds(), r.stderr)
	}
	// Two CVEs are not enough: the rule wants three distinct ones.
	r = execute(t, "", args[:len(args)-1]...)
	if strings.Contains(r.stdout, "ec2-backdoor-critical-cves") {
		t.Errorf("correlated with two CVEs: %s", r.stdout)
	}
}

// TestCorrelationFromOCSFAndASFF: the built-in ec2-backdoor-critical-cves
// fires from an OCSF GuardDuty detection (Findings Imported V2 shape) plus
// three ASFF Inspector findings on the same instance.
func TestCorrelationFromOCSFAndASFF(t *testing.T) {
	cfg := allRulesConfig(t, smtptest.Start(t))
	dir := filepath.Join("..", "..", "correlate", "testdata", "findings")
	gd := filepath.Join("..", "..", "asff", "testdata", "ocsf", "guardduty-backdoor-ec2.ocsf.json")
	b, err := os.ReadFile(gd)
	if err != nil {
		t.Fatal(err)
	}
	event := `{"version":"0","id":"e51603d1","detail-type":"Findings Imported V2","source":"aws.securityhub","account":"111122223333",` +
		`"time":"2024-05-18T21:47:04Z","region":"us-east-1","resources":["c0ffee"],"detail":{"findings":[` + string(b) + `]}}`
	eventPath := filepath.Join(t.TempDir(), "v2-event.json")
	if err := os.WriteFile(eventPath, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--config", cfg, "--state", filepath.Join(t.TempDir(), "s.db"), "--now", "2024-05-20T12:00:00Z", "--dry-run", eventPath}
	for _, f := range []string{"inspector2-ec2-cve-2021-44228.json", "inspector2-ec2-cve-2022-22965.json", "inspector2-ec2-cve-2023-38545.json"} {
		args = append(args, filepath.Join(dir, f))
	}
	r := execute(t, "", args...)
	var found map[string]any
	for _, d := range r.decisions {
		if d["decision"] == "correlate" && strings.Contains(d["finding_id"].(string), "ec2-backdoor-critical-cves") {
			found = d
		}
	}
	if found == nil {
		t.Fatalf("no ec2-backdoor-critical-cves correlation; exit %d, decisions %s\n%s", r.code, r.kinds(), r.stderr)
	}
	contributing := fmt.Sprint(found["contributing"])
	if !strings.Contains(contributing, "arn:aws:guardduty:us-east-1:111122223333:detector/6ab6e6ee780ed494f3b7ca56acdc74df/finding/3ec6a1b0f2c4d8e9a7b5c3d1e0f9a8b7") ||
		strings.Count(contributing, "arn:aws:inspector2:") != 3 {
		t.Errorf("contributing %s: want the OCSF GuardDuty finding and the three Inspector findings", contributing)
	}
	if !strings.Contains(fmt.Sprint(found["resource"]), "i-0a1b2c3d4e5f60718") {
		t.Errorf("resource %v", found["resource"])
	}
}

// TestOCSFFilterRule: a rule with an ocsf_filter copied from the new
// console notifies the OCSF findings it selects; ASFF findings (even the
// twin of a selected one) do not match it.
func TestOCSFFilterRule(t *testing.T) {
	srv := smtptest.Start(t)
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := fmt.Sprintf(`
channels:
  secops:
    email:
      smtp: {host: %s, port: %d, tls: none}
      from: hubtriage@example.com
      to: [secops@example.com]
rules:
  - name: failed-controls
    ocsf_filter: {"CompositeFilters":[{"Operator":"AND","StringFilters":[
      {"FieldName":"compliance.status","Filter":{"Value":"Fail","Comparison":"EQUALS"}},
      {"FieldName":"metadata.product.name","Filter":{"Value":"Security Hub","Comparison":"EQUALS"}}]}],
      "CompositeOperator":"AND"}
    channels: [secops]
`, srv.Host, srv.Port)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ssmASFF := filepath.Join("..", "..", "asff", "testdata", "ocsf", "control-ssm.1-asff-twin.json")
	r := execute(t, "", "replay", "--config", path, "--state", filepath.Join(t.TempDir(), "s.db"), "--dry-run",
		ocsfSample(t, "elastic-getfindingsv2-page1-2003-sqs.json"), ssmASFF)
	var got []string
	for _, d := range r.decisions {
		got = append(got, fmt.Sprintf("%s:%s", d["rule"], d["decision"]))
	}
	// SQS.3 passed (resolved, untracked), SQS.1 failed (notify), the ASFF
	// SSM.1 control matches no rule.
	want := []string{":filtered", "failed-controls:notify", ":filtered"}
	if r.code != 0 || !slices.Equal(got, want) {
		t.Fatalf("exit %d, decisions %v, want %v\n%s", r.code, got, want, r.stderr)
	}
}
