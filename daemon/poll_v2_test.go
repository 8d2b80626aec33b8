package daemon_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/daemon"
	"hubtriage/filter"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/shtest"
	"hubtriage/notify"
	"hubtriage/ocsffilter"
	"hubtriage/pipeline"
)

// ocsfFinding returns the real GetFindingsV2 SQS.1 finding (Fail, Medium;
// elastic-getfindingsv2-page1-2003-sqs.json) with finding_info.uid id,
// modified at modified, severity sev, on queue "queue-<id>".
func ocsfFinding(t *testing.T, id string, modified time.Time, sev string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(fixtures.Dir(t)), "ocsf", "elastic-getfindingsv2-page1-2003-sqs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Findings []map[string]any }
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	f := page.Findings[1]
	fi := f["finding_info"].(map[string]any)
	fi["uid"] = "arn:aws:securityhub:us-east-2:123456789012:security-control/SQS.1/finding/" + id
	fi["modified_time_dt"] = modified.UTC().Format("2006-01-02T15:04:05.000Z")
	fi["modified_time"] = modified.UnixMilli()
	res := f["resources"].([]any)[0].(map[string]any) // one queue per finding: one control identity each
	res["uid_alt"] = "arn:aws:sqs:us-east-2:123456789012:queue-" + id
	f["severity"] = sev
	f["severity_id"] = map[string]int{"Low": 2, "Medium": 3}[sev]
	out, _ := json.Marshal(f)
	return out
}

// v2Env is a daemon world over GetFindingsV2: one rule with ocsf_filter src.
func v2Env(t *testing.T, src string) (*env, *ocsffilter.Filter) {
	t.Helper()
	f, err := ocsffilter.FromJSON([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: shtest.New(t), path: filepath.Join(t.TempDir(), "state.db"), ch: &recorder{}}
	e.rules = []pipeline.Rule{{Name: "sqs", Filter: &filter.Filters{}, OCSFFilter: f, Channels: []notify.Channel{e.ch}}}
	return e, f
}

func (e *env) loadOCSF(t *testing.T, findings ...[]byte) {
	t.Helper()
	if err := e.srv.LoadOCSF(findings...); err != nil {
		t.Fatal(err)
	}
}

// v2Requests returns the Filters of each GetFindingsV2 request.
func v2Requests(srv *shtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Op == shtest.GetFindingsV2 {
			out = append(out, string(r.Filters))
		}
	}
	return out
}

const sqsMedium = `{"CompositeFilters":[{"Operator":"AND","StringFilters":[
	{"FieldName":"compliance.control","Filter":{"Value":"SQS.","Comparison":"PREFIX"}},
	{"FieldName":"severity","Filter":{"Value":"Medium","Comparison":"EQUALS"}}]}]}`

// TestPollV2PushesDownPagesAndCheckpoints polls the new Security Hub: the
// rule's ocsf_filter and the modified-time window reach GetFindingsV2, 150
// matching findings come in two pages, findings the filter excludes are
// never read, and the checkpoint moves to the latest modified time and
// starts the next window.
func TestPollV2PushesDownPagesAndCheckpoints(t *testing.T) {
	e, f := v2Env(t, sqsMedium)
	var findings [][]byte
	for i := range 150 {
		findings = append(findings, ocsfFinding(t, fmt.Sprintf("m%03d", i), now.Add(-3*time.Hour+time.Duration(i)*time.Second), "Medium"))
	}
	findings = append(findings, ocsfFinding(t, "low", now.Add(-time.Hour), "Low"))
	e.loadOCSF(t, findings...)
	d, _ := e.open(t, daemon.Options{GetterV2: shtest.Client(t, e.srv.AWSConfig(), shtest.Attempts), OCSFFilters: []*ocsffilter.Filter{f}})

	res := poll(t, d)
	latest := now.Add(-3*time.Hour + 149*time.Second)
	if res.Summary.Read != 150 || res.Summary.Notified != 150 || !res.Complete || !res.Checkpoint.Equal(latest) {
		t.Fatalf("first poll %+v; want 150 read and notified, checkpoint %v", res, latest)
	}
	reqs := v2Requests(e.srv)
	if len(reqs) != 2 || e.srv.Count(shtest.GetFindings) != 0 {
		t.Fatalf("GetFindingsV2 requests %d (want 2 pages), GetFindings %d (want 0)", len(reqs), e.srv.Count(shtest.GetFindings))
	}
	window := `"FieldName":"finding_info.modified_time_dt","Filter":{"End":"` + stamp(now.Add(24*time.Hour)) + `","Start":"` + stamp(now.Add(-daemon.DefaultInitialLookback)) + `"}`
	for _, want := range []string{window, `"FieldName":"compliance.control","Filter":{"Comparison":"PREFIX","Value":"SQS."}`, `"CompositeOperator":"AND"`} {
		if !strings.Contains(reqs[0], want) {
			t.Errorf("request filters %s\nlack %s", reqs[0], want)
		}
	}

	e.loadOCSF(t, ocsfFinding(t, "new", now.Add(-time.Minute), "Medium"))
	res = poll(t, d)
	if res.Summary.Notified != 1 || !res.Checkpoint.Equal(now.Add(-time.Minute)) {
		t.Errorf("second poll %+v; want the new finding notified and the checkpoint at its modified time", res)
	}
	reqs = v2Requests(e.srv)
	if want := `"Start":"` + stamp(latest.Add(-daemon.DefaultOverlap)) + `"`; !strings.Contains(reqs[len(reqs)-1], want) {
		t.Errorf("second window %s does not start at checkpoint - overlap (%s)", reqs[len(reqs)-1], want)
	}
	if got := e.ch.notifications(); len(got) != 151 || slices.Contains(got, "arn:aws:securityhub:us-east-2:123456789012:security-control/SQS.1/finding/low new") {
		t.Errorf("%d notifications; the Low finding must not be among them", len(got))
	}
}

// TestPollV2StateFiltersAreNotPushedDown: a rule reading status would hide
// the findings that were resolved, so its poll asks for everything in the
// window and the pipeline resolves them.
func TestPollV2StateFiltersAreNotPushedDown(t *testing.T) {
	e, f := v2Env(t, `{"CompositeFilters":[{"StringFilters":[{"FieldName":"status","Filter":{"Value":"New","Comparison":"EQUALS"}}]}]}`)
	e.loadOCSF(t, ocsfFinding(t, "a", now.Add(-time.Hour), "Medium"))
	d, _ := e.open(t, daemon.Options{GetterV2: shtest.Client(t, e.srv.AWSConfig(), shtest.Attempts), OCSFFilters: []*ocsffilter.Filter{f}})
	res := poll(t, d)
	reqs := v2Requests(e.srv)
	if res.Summary.Notified != 1 || len(reqs) != 1 || strings.Contains(reqs[0], `"status"`) || !strings.Contains(reqs[0], "modified_time_dt") {
		t.Fatalf("poll %+v, requests %v; want one window-only query and the finding notified", res.Summary, reqs)
	}
}
