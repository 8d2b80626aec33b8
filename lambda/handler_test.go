package lambda

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// singleFindingEvents are the real EventBridge events of the fixtures that
// carry one open finding each (Security Hub sends one finding per Imported
// event; Custom Action events from the console too, one per finding).
var singleFindingEvents = []string{
	"events/imported-fsbp-ec2.7.json",
	"events/imported-cis-1.4-warning.json",
	"events/custom-action-fsbp-ec2.2.json",
	"events/custom-action-guardduty-iam-2019.json",
}

func TestRealEventsNotifyOnceAndRedeliveryIsSilent(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	for _, name := range singleFindingEvents {
		payload := readFixture(t, name)
		before := len(r.smtp.Messages())
		first := mustInvoke(t, h, payload)
		if first.Read != 1 || first.Notified != 1 || first.Failed != 0 {
			t.Fatalf("%s: first delivery = %+v, want 1 finding read and notified", name, first)
		}
		msgs := r.smtp.Messages()
		if len(msgs) != before+1 {
			t.Fatalf("%s: first delivery sent %d emails, want 1", name, len(msgs)-before)
		}
		if got := msgs[len(msgs)-1]; got.Username != "hubtriage" || len(got.To) != 1 || got.To[0] != "secops@example.com" {
			t.Errorf("%s: email went as %q to %v, want authenticated as hubtriage to secops@example.com", name, got.Username, got.To)
		}
		again := mustInvoke(t, h, payload)
		if again.Notified != 0 || again.Duplicates != 1 {
			t.Errorf("%s: re-delivery = %+v, want 1 duplicate and nothing notified", name, again)
		}
		if n := len(r.smtp.Messages()); n != before+1 {
			t.Errorf("%s: re-delivery sent %d more emails, want none", name, n-before-1)
		}
	}
}

func TestResolvedFindingIsNotAlerted(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	// CIS 2.2 with Compliance PASSED: inactive, and never alerted on.
	resp := mustInvoke(t, h, readFixture(t, "events/custom-action-cis-2.2-2019.json"))
	if resp.Read != 1 || resp.Notified != 0 || resp.Filtered != 1 {
		t.Errorf("response = %+v, want the finding read and filtered", resp)
	}
	if n := len(r.smtp.Messages()); n != 0 {
		t.Errorf("sent %d emails for a PASSED finding", n)
	}
}

func TestDecisionsAreLoggedAsJSONWithoutSecrets(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	r.smtp.FailNext(1, 451)
	payload := readFixture(t, "events/imported-fsbp-ec2.7.json")
	if _, err := invoke(t, h, payload); err == nil {
		t.Fatal("invocation with a failing channel returned no error")
	}
	mustInvoke(t, h, payload)

	var decisions, summaries []map[string]any
	for _, rec := range r.logs.records(t) {
		switch rec["msg"] {
		case "decision":
			decisions = append(decisions, rec)
		case "invocation done":
			summaries = append(summaries, rec)
		}
	}
	const id = "arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.7/finding/0003b335-cf3f-4f93-a025-6b1a7baced06"
	var kinds []string
	for _, d := range decisions {
		if d["finding_id"] != id || d["event_id"] != "1622bd23-7237-fdec-8fb0-a019cccfd3cb" || d["rule"] != "open-findings" {
			t.Errorf("decision record %v: want finding %s, its event id and rule open-findings", d, id)
		}
		kinds = append(kinds, d["decision"].(string)+"/"+d["level"].(string))
	}
	// The failure, the parked copy retried at the start of the second
	// invocation (delivered), then the event's own finding (duplicate).
	want := []string{"error/ERROR", "notify/INFO", "duplicate/INFO"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") {
		t.Errorf("logged decisions %v, want %v", kinds, want)
	}
	if len(summaries) != 2 || summaries[0]["level"] != "ERROR" || summaries[1]["level"] != "INFO" {
		t.Errorf("invocation summaries %v, want one ERROR then one INFO", summaries)
	}
	if strings.Contains(r.logs.String(), smtpPassword) {
		t.Error("the SMTP password appears in the logs")
	}
}

func TestFailingChannelFailsTheInvocationAndTheRetryDeliversOnce(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	payload := readFixture(t, "events/imported-cis-1.4-warning.json")

	r.smtp.FailNext(1, 451)
	resp, err := invoke(t, h, payload)
	if !errors.Is(err, ErrFindingsFailed) {
		t.Fatalf("err = %v, want ErrFindingsFailed so Lambda retries the event", err)
	}
	if resp.Failed != 1 || len(r.smtp.Messages()) != 0 {
		t.Fatalf("response %+v with %d emails, want 1 failed and none sent", resp, len(r.smtp.Messages()))
	}
	if strings.Contains(err.Error(), smtpPassword) {
		t.Error("the error contains the SMTP password")
	}

	// Lambda's asynchronous retry delivers the same event again.
	mustInvoke(t, h, payload)
	if n := len(r.smtp.Messages()); n != 1 {
		t.Fatalf("after the retry %d emails were sent, want 1", n)
	}
	// A third delivery (say, a redrive from the dead-letter queue).
	mustInvoke(t, h, payload)
	if n := len(r.smtp.Messages()); n != 1 {
		t.Errorf("after a redrive %d emails were sent, want still 1", n)
	}
}

func TestParkedDeliveryIsRetriedByALaterEventWithoutFailingIt(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	failing := readFixture(t, "events/imported-fsbp-ec2.7.json")
	other := readFixture(t, "events/custom-action-fsbp-ec2.2.json")
	r.hold(t, nil, failing, other) // open in Security Hub: reconcile keeps them

	r.smtp.FailNext(1, 451) // the first delivery
	if _, err := invoke(t, h, failing); !errors.Is(err, ErrFindingsFailed) {
		t.Fatalf("err = %v, want ErrFindingsFailed", err)
	}
	// The next event delivers its own finding, then retries the parked one,
	// which fails again: that is not this event's failure, so it succeeds.
	r.smtp.FailNext(1, 250)
	r.smtp.FailNext(1, 451)
	resp := mustInvoke(t, h, other)
	if resp.Notified != 1 || resp.Errors != 1 || resp.Failed != 0 {
		t.Fatalf("other event = %+v, want its own finding notified and the parked retry's error not counted as failed", resp)
	}
	// The daily schedule retries the parked finding again, now with success.
	sched := mustInvoke(t, h, scheduledEvent())
	if sched.Kind != KindSchedule || sched.Notified != 1 {
		t.Fatalf("scheduled run = %+v, want the parked finding notified", sched)
	}
	if n := len(r.smtp.Messages()); n != 2 {
		t.Fatalf("%d emails sent, want 2 (one per finding)", n)
	}
	// Lambda's retry of the first event now finds it already sent.
	again := mustInvoke(t, h, failing)
	if again.Duplicates != 1 || len(r.smtp.Messages()) != 2 {
		t.Errorf("retry of the first event = %+v with %d emails, want a duplicate and still 2", again, len(r.smtp.Messages()))
	}
}

func TestScheduledEventFailsWhileParkedDeliveriesFail(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	payload := readFixture(t, "events/imported-fsbp-ec2.7.json")
	r.hold(t, nil, payload)
	r.smtp.FailNext(2, 451)
	if _, err := invoke(t, h, payload); err == nil {
		t.Fatal("first delivery: no error")
	}
	resp, err := invoke(t, h, scheduledEvent())
	if !errors.Is(err, ErrPendingFailed) {
		t.Fatalf("scheduled run err = %v, want ErrPendingFailed", err)
	}
	if resp.Kind != KindSchedule || resp.Failed != 1 {
		t.Errorf("scheduled run = %+v, want kind schedule with 1 failed", resp)
	}
	if resp, err = invoke(t, h, scheduledEvent()); err != nil || resp.Notified != 1 {
		t.Errorf("next scheduled run = %+v, %v; want the parked finding delivered", resp, err)
	}
	if n := len(r.smtp.Messages()); n != 1 {
		t.Errorf("%d emails sent, want 1", n)
	}
}

func TestMalformedFindingFailsTheEventButNotTheOthers(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	good := readFixture(t, "events/imported-fsbp-ec2.7.json")
	// The same event with a second finding that has no Id.
	i := bytes.LastIndex(good, []byte("]"))
	bad := append(append(bytes.Clone(good[:i]), []byte(`,{"SchemaVersion":"2018-10-08","ProductArn":"x","Title":"no id"}`)...), good[i:]...)
	resp, err := invoke(t, h, bad)
	if !errors.Is(err, ErrMalformedEvent) {
		t.Fatalf("err = %v, want ErrMalformedEvent", err)
	}
	if resp.Notified != 1 || len(r.smtp.Messages()) != 1 {
		t.Errorf("response %+v with %d emails, want the good finding notified once", resp, len(r.smtp.Messages()))
	}
}

func TestEveryFixtureEventIsAccepted(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	paths, err := filepath.Glob(filepath.Join(fixturesDir(t), "events", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixture events: %v", err)
	}
	for _, p := range paths {
		resp := mustInvoke(t, h, readFixture(t, filepath.Join("events", filepath.Base(p))))
		if resp.Read == 0 || resp.Kind != KindFindings || resp.DetailType == "" || resp.EventID == "" {
			t.Errorf("%s: response %+v, want findings read from a Security Hub event", filepath.Base(p), resp)
		}
	}
}
