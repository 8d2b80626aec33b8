package lambda

import (
	"errors"
	"strings"
	"testing"
)

// TestScheduleReconcilesAgainstSecurityHub: the daily schedule asks
// Security Hub (moto_server) about every alerted finding; the one archived
// since is forgotten, so its return is alerted again as a recurrence, while
// the one still open stays de-duplicated.
func TestScheduleReconcilesAgainstSecurityHub(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	archived := readFixture(t, "events/imported-fsbp-ec2.7.json")
	open := readFixture(t, "events/imported-cis-1.4-warning.json")
	mustInvoke(t, h, archived)
	mustInvoke(t, h, open)
	r.hold(t, map[string]any{"RecordState": "ARCHIVED", "UpdatedAt": "2026-03-01T00:00:00Z"}, archived)
	r.hold(t, nil, open)

	resp := mustInvoke(t, h, scheduledEvent())
	if !strings.Contains(resp.Reconcile, "checked 2, active 1, resolved 1") {
		t.Fatalf("reconcile = %q, want 2 checked, 1 active, 1 resolved", resp.Reconcile)
	}
	resolved := 0
	for _, rec := range r.logs.records(t) {
		if rec["msg"] == "reconcile resolved" {
			resolved++
			if !strings.Contains(rec["finding_id"].(string), "EC2.7") || rec["decision"] != "resolved" {
				t.Errorf("reconcile resolved %v, want the archived EC2.7 finding", rec)
			}
		}
	}
	if resolved != 1 {
		t.Errorf("%d reconcile resolutions logged, want 1", resolved)
	}

	before := len(r.smtp.Messages())
	if again := mustInvoke(t, h, archived); again.Notified != 1 {
		t.Errorf("the archived finding's return = %+v, want it alerted again", again)
	}
	if again := mustInvoke(t, h, open); again.Duplicates != 1 {
		t.Errorf("the open finding = %+v, want still a duplicate", again)
	}
	if n := len(r.smtp.Messages()) - before; n != 1 {
		t.Errorf("%d emails after reconcile, want 1 (the recurrence)", n)
	}
}

// TestScheduleFailsWhenSecurityHubCannotBeAsked: the lookup error fails the
// scheduled invocation (Lambda retries it) and forgets nothing.
func TestScheduleFailsWhenSecurityHubCannotBeAsked(t *testing.T) {
	r := newRig(t)
	r.configY = strings.Replace(r.configY, "securityhub: {region: us-east-1, endpoint: \""+r.moto.URL+"\"}",
		"securityhub: {region: us-east-1, endpoint: \"http://127.0.0.1:1\"}", 1)
	r.configFile(t)
	h := r.setup(t)
	payload := readFixture(t, "events/imported-fsbp-ec2.7.json")
	mustInvoke(t, h, payload)
	resp, err := invoke(t, h, scheduledEvent())
	if err == nil || !strings.Contains(resp.Reconcile, "errors 1") {
		t.Fatalf("scheduled run = %+v, %v; want a reconcile error", resp, err)
	}
	if errors.Is(err, ErrPendingFailed) {
		t.Errorf("err = %v: nothing was parked", err)
	}
	if again := mustInvoke(t, h, payload); again.Duplicates != 1 {
		t.Errorf("after a failed reconcile the finding = %+v, want still a duplicate", again)
	}
}
