package lambda

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"hubtriage/internal/notifytest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/store/memstore"
)

// memHandler is a Handler over an in-memory store and a counting channel,
// for the tests about what an invocation accepts.
func memHandler(t *testing.T, rec Reconciler) (*Handler, *notifytest.Null) {
	t.Helper()
	ch := &notifytest.Null{ChannelName: "null"}
	p, err := pipeline.New(pipeline.Options{
		Rules: []pipeline.Rule{{Name: "all", Channels: []notify.Channel{ch}}},
		Store: memstore.New(), Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(p, Options{Reconcile: rec}), ch
}

func TestInvocationKinds(t *testing.T) {
	finding := string(readFixture(t, "findings/guardduty-ssh-bruteforce.json"))
	tests := []struct {
		name     string
		payload  string
		kind     string
		notified int64
		skipped  int64
		wantErr  error
		errText  string
	}{
		{name: "bare finding (manual invoke)", payload: finding, kind: KindFindings, notified: 1},
		{name: "array of findings", payload: "[" + finding + "]", kind: KindFindings, notified: 1},
		{name: "GuardDuty Finding event", payload: string(readTestdata(t, "../correlate/testdata/findings/guardduty-event-ssh-bruteforce-target.json")),
			kind: KindFindings, notified: 1},
		// Security Hub events without findings are skipped, not failed
		// (no retries into the dead-letter queue); the documented sample.
		{name: "insight results", payload: string(readTestdata(t, "../asff/testdata/events/insight-results.json")),
			kind: KindFindings, skipped: 1},
		{name: "Findings Imported V2 (OCSF)", kind: KindFindings, notified: 1, payload: `{"version":"0","id":"e51603d1",` +
			`"detail-type":"Findings Imported V2","source":"aws.securityhub","account":"111122223333","region":"us-east-1",` +
			`"resources":["c0ffee"],"detail":{"findings":[` + string(readTestdata(t, "../asff/testdata/ocsf/guardduty-backdoor-ec2.ocsf.json")) + `]}}`},
		{name: "other service", payload: `{"id":"1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`,
			kind: KindFindings, wantErr: ErrUnsupportedEvent, errText: `"aws.ec2"`},
		{name: "imported without findings", payload: `{"id":"1","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","detail":{}}`,
			kind: KindFindings, wantErr: ErrMalformedEvent, errText: "no detail.findings"},
		{name: "truncated", payload: `{"id":"1","detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":`,
			kind: KindFindings, wantErr: ErrMalformedEvent},
		{name: "empty", payload: "  ", kind: KindFindings, wantErr: ErrMalformedEvent},
		{name: "schedule without reconcile", payload: string(scheduledEvent()), kind: KindSchedule},
		{name: "dead-letter record of an event", kind: KindFindings, notified: 1, payload: `{"version":"1.0",` +
			`"timestamp":"2026-03-02T09:00:00.000Z","requestContext":{"requestId":"e4b46cbf","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:hubtriage:$LATEST",` +
			`"condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":` +
			string(readFixture(t, "events/imported-fsbp-ec2.7.json")) +
			`,"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":{"errorMessage":"findings failed"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ch := memHandler(t, nil)
			resp, err := h.Invoke(context.Background(), []byte(tt.payload))
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.errText)) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.errText)
			}
			if resp.Kind != tt.kind || resp.Notified != tt.notified || ch.Sent() != tt.notified || resp.Skipped != tt.skipped {
				t.Errorf("response %+v, %d sent; want kind %s and %d notified", resp, ch.Sent(), tt.kind, tt.notified)
			}
		})
	}
}

func readTestdata(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScheduleRunsReconcile(t *testing.T) {
	calls := 0
	h, _ := memHandler(t, func(context.Context) (string, error) { calls++; return "checked 3, forgot 1", nil })
	resp, err := h.Invoke(context.Background(), scheduledEvent())
	if err != nil || calls != 1 || resp.Reconcile != "checked 3, forgot 1" {
		t.Fatalf("response %+v, err %v, %d reconcile calls; want one reconcile reported", resp, err, calls)
	}

	boom := errors.New("GetFindings: throttled")
	h, _ = memHandler(t, func(context.Context) (string, error) { return "checked 0", boom })
	if _, err := h.Invoke(context.Background(), scheduledEvent()); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reconcile error so the schedule is retried", err)
	}
}

func TestSetupWithoutReconcileReportsTheGap(t *testing.T) {
	h, _ := memHandler(t, nil)
	resp, err := h.Invoke(context.Background(), scheduledEvent())
	if err != nil || resp.Reconcile != "not configured" {
		t.Errorf("response %+v, err %v; want reconcile reported as not configured", resp, err)
	}
}
