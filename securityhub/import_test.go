package securityhub_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"hubtriage/asff"
	"hubtriage/internal/shtest"
	"hubtriage/securityhub"
)

// checkAccounted fails unless every input is either imported or failed once.
func checkAccounted(t *testing.T, res securityhub.ImportResult, n int) {
	t.Helper()
	seen := map[int]bool{}
	for _, f := range res.Failed {
		if f.Index < 0 || f.Index >= n || seen[f.Index] {
			t.Fatalf("Failed holds a bad or repeated index %d: %+v", f.Index, res.Failed)
		}
		seen[f.Index] = true
	}
	if res.Imported+len(res.Failed) != n {
		t.Fatalf("Imported %d + Failed %d != %d inputs", res.Imported, len(res.Failed), n)
	}
}

func TestImportFixturesRoundTrip(t *testing.T) {
	srv := shtest.New(t)
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	names, findings := fixtureFindings(t)

	res, err := c.Import(context.Background(), findings)
	if err != nil || len(res.Failed) > 0 {
		t.Fatalf("Import: %v, failed %+v", err, res.Failed)
	}
	if res.Imported != len(findings) || res.Requests != 1 {
		t.Fatalf("Imported %d in %d requests, want %d in 1", res.Imported, res.Requests, len(findings))
	}
	got := map[string][]byte{}
	for _, raw := range flatten(collect(t, func(fn func([][]byte) error) error {
		return c.GetFindings(context.Background(), nil, fn)
	})) {
		got[idOf(t, raw)] = raw
	}
	for i, want := range findings {
		raw, ok := got[idOf(t, want)]
		if !ok {
			t.Errorf("%s: not returned by GetFindings", names[i])
			continue
		}
		if diff := supersetOf(t, raw, want); diff != "" {
			t.Errorf("%s: changed on the way through Security Hub: %s", names[i], diff)
		}
		wantF, err1 := asff.DecodeFinding(want)
		gotF, err2 := asff.DecodeFinding(raw)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: decode: %v / %v", names[i], err1, err2)
			continue
		}
		if gotF.Identity() != wantF.Identity() || gotF.Severity != wantF.Severity || gotF.Title != wantF.Title {
			t.Errorf("%s: decoded differently after the round trip", names[i])
		}
	}
}

func TestImportBatchLimits(t *testing.T) {
	tests := []struct {
		name        string
		findings    func(t *testing.T) [][]byte
		wantBatches []int
	}{
		{"by count", func(t *testing.T) [][]byte { return synthetic(t, "count", 250, 0) }, []int{100, 100, 50}},
		// 30 findings of ~235 KB: 25 fit under 6,000,000 bytes.
		{"by size", func(t *testing.T) [][]byte { return synthetic(t, "size", 30, 230*1024) }, []int{25, 5}},
		{"same id twice goes to separate batches", func(t *testing.T) [][]byte {
			fs := synthetic(t, "dup", 3, 0)
			return append(fs, fs[1])
		}, []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shtest.New(t)
			c, _, _ := testClient(t, srv.AWSConfig(), nil)
			fs := tt.findings(t)
			res, err := c.Import(context.Background(), fs)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			checkAccounted(t, res, len(fs))
			if len(res.Failed) > 0 {
				t.Fatalf("failed: %+v", res.Failed[0])
			}
			var batches []int
			for _, r := range srv.FirstAttempts(shtest.BatchImportFindings) {
				if r.Bytes > securityhub.MaxBatchBytes {
					t.Errorf("request of %d bytes exceeds %d", r.Bytes, securityhub.MaxBatchBytes)
				}
				batches = append(batches, r.Findings)
			}
			if fmt.Sprint(batches) != fmt.Sprint(tt.wantBatches) || res.Requests != len(tt.wantBatches) {
				t.Fatalf("batches %v (Requests %d), want %v", batches, res.Requests, tt.wantBatches)
			}
		})
	}
}

func TestImportRejectsFindingsBeforeSending(t *testing.T) {
	valid := synthetic(t, "valid", 1, 0)[0]
	missingTitle := []byte(strings.Replace(string(valid), `"Title":`, `"Titel":`, 1))
	tests := []struct {
		name     string
		raw      []byte
		wantCode string
		wantMsg  string
	}{
		{"not JSON", []byte(`{"Id": "x",`), securityhub.CodeInvalidFinding, "not valid JSON"},
		{"not an object", []byte(`["a"]`), securityhub.CodeInvalidFinding, "not a JSON object"},
		{"missing required field", missingTitle, securityhub.CodeInvalidFinding, "missing required field Title"},
		{"numeric Id", []byte(strings.Replace(string(valid), `"Id":"hubtriage-test/valid/0"`, `"Id":7`, 1)),
			securityhub.CodeInvalidFinding, "Id must be a non-empty string"},
		{"over 240 KB", synthetic(t, "big", 1, 241*1024)[0], securityhub.CodeFindingTooLarge, "at most 245760 bytes (240 KB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shtest.New(t)
			c, _, _ := testClient(t, srv.AWSConfig(), nil)
			res, err := c.Import(context.Background(), [][]byte{valid, tt.raw})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			checkAccounted(t, res, 2)
			if res.Imported != 1 || len(res.Failed) != 1 {
				t.Fatalf("result %+v, want the valid finding imported and the other failed", res)
			}
			f := res.Failed[0]
			if f.Index != 1 || f.ErrorCode != tt.wantCode || !strings.Contains(f.ErrorMessage, tt.wantMsg) {
				t.Fatalf("failure %+v, want index 1, code %s, message containing %q", f, tt.wantCode, tt.wantMsg)
			}
			if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Findings != 1 {
				t.Fatalf("server saw %+v, want one request carrying only the valid finding", reqs)
			}
		})
	}
}

func TestImportRetriesWholeRequests(t *testing.T) {
	tests := []struct {
		name         string
		failures     int
		status       int
		code         string
		wantAttempts int // requests the server answered
		wantErr      bool
	}{
		{"throttled twice then accepted", 2, http.StatusTooManyRequests, "TooManyRequestsException", 3, false},
		{"LimitExceededException is throttling", 1, http.StatusTooManyRequests, "LimitExceededException", 2, false},
		{"internal error retried", 2, http.StatusInternalServerError, "InternalException", 3, false},
		{"throttling retried a bounded number of times", 10, http.StatusTooManyRequests, "TooManyRequestsException", 4, true},
		{"invalid input not retried", 1, http.StatusBadRequest, "InvalidInputException", 1, true},
		{"access denied not retried", 1, http.StatusForbidden, "AccessDeniedException", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := shtest.New(t)
			c, clock, backoff := testClient(t, srv.AWSConfig(), func(o *securityhub.Options) {
				o.MaxAttempts = 4
				o.ImportRate = securityhub.Rate{PerSecond: 10, Burst: 1}
			})
			srv.FailRequests(shtest.BatchImportFindings, tt.failures, tt.status, tt.code)
			fs := synthetic(t, "retry", 3, 0)
			res, err := c.Import(context.Background(), fs)
			checkAccounted(t, res, len(fs))
			if got := srv.Count(shtest.BatchImportFindings); got != tt.wantAttempts {
				t.Fatalf("server answered %d requests, want %d", got, tt.wantAttempts)
			}
			if len(backoff.calls()) != tt.wantAttempts-1 {
				t.Errorf("backoff asked %v times, want %d", backoff.calls(), tt.wantAttempts-1)
			}
			// Every attempt waits for the rate limit: burst 1 at 10/s.
			if want := time.Duration(tt.wantAttempts-1) * 100 * time.Millisecond; clock.elapsed() != want {
				t.Errorf("paced %v of virtual time, want %v", clock.elapsed(), want)
			}
			if !tt.wantErr {
				if err != nil || res.Imported != len(fs) {
					t.Fatalf("Import = %+v, %v; want all imported", res, err)
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Fatalf("Import error %v, want API error %s", err, tt.code)
			}
			for _, f := range res.Failed {
				if f.ErrorCode != tt.code || f.ID == "" {
					t.Fatalf("failure %+v, want code %s and the finding's Id", f, tt.code)
				}
			}
			if res.Imported != 0 {
				t.Fatalf("Imported %d after a failed request", res.Imported)
			}
		})
	}
}

func TestImportFailedFindings(t *testing.T) {
	srv := shtest.New(t)
	c, _, backoff := testClient(t, srv.AWSConfig(), func(o *securityhub.Options) { o.MaxAttempts = 3 })
	fs := synthetic(t, "ff", 5, 0)
	id := func(i int) string { return idOf(t, fs[i]) }
	srv.FailFinding(shtest.BatchImportFindings, id(1), "InternalFailure", "try later", 2)   // recovers on the 3rd send
	srv.FailFinding(shtest.BatchImportFindings, id(2), "InvalidInput", "bad Resources", -1) // never retried
	srv.FailFinding(shtest.BatchImportFindings, id(4), "ConcurrentUpdateError", "busy", -1) // retried until attempts run out

	res, err := c.Import(context.Background(), fs)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	checkAccounted(t, res, len(fs))
	want := []securityhub.FailedFinding{
		{Index: 2, ID: id(2), ProductArn: "arn:aws::securityhub:us-east-1::product/aws/guardduty", ErrorCode: "InvalidInput", ErrorMessage: "bad Resources"},
		{Index: 4, ID: id(4), ProductArn: "arn:aws::securityhub:us-east-1::product/aws/guardduty", ErrorCode: "ConcurrentUpdateError", ErrorMessage: "busy"},
	}
	if fmt.Sprintf("%+v", res.Failed) != fmt.Sprintf("%+v", want) {
		t.Fatalf("Failed = %+v\nwant     %+v", res.Failed, want)
	}
	if res.Imported != 3 {
		t.Fatalf("Imported %d, want 3", res.Imported)
	}
	if _, ok := srv.Finding("arn:aws::securityhub:us-east-1::product/aws/guardduty", id(1)); !ok {
		t.Fatal("finding 1 was retried but is not stored")
	}
	// Round 1 sends all 5, round 2 resends 1 and 4, round 3 resends 1 and 4.
	var sizes []int
	for _, r := range srv.FirstAttempts(shtest.BatchImportFindings) {
		sizes = append(sizes, r.Findings)
	}
	if fmt.Sprint(sizes) != "[5 2 2]" || res.Requests != 3 {
		t.Fatalf("request sizes %v (Requests %d), want [5 2 2]", sizes, res.Requests)
	}
	if fmt.Sprint(backoff.calls()) != "[1 2]" {
		t.Fatalf("backoff asked for retries %v, want [1 2]", backoff.calls())
	}
}

// cancelAfter is an aws.HTTPClient that cancels a context once n requests
// have completed.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
	next   *http.Client
}

func (c *cancelAfter) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return resp, err
}

func TestImportCancelledMidway(t *testing.T) {
	srv := shtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := srv.AWSConfig()
	cfg.HTTPClient = &cancelAfter{n: 1, cancel: cancel, next: http.DefaultClient}
	c, _, _ := testClient(t, cfg, nil)
	fs := synthetic(t, "cancel", 250, 0)

	res, err := c.Import(ctx, fs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Import error %v, want context.Canceled", err)
	}
	checkAccounted(t, res, len(fs))
	if res.Imported != 100 || len(res.Failed) != 150 {
		t.Fatalf("Imported %d, failed %d; want the first batch of 100 imported and 150 failed", res.Imported, len(res.Failed))
	}
	if f := res.Failed[0]; f.Index != 100 || f.ErrorCode != securityhub.CodeRequestFailed {
		t.Fatalf("first failure %+v, want index 100 with %s", f, securityhub.CodeRequestFailed)
	}
	if got := len(srv.Findings()); got != 100 {
		t.Fatalf("server stores %d findings, want 100", got)
	}
}

func TestImportNeverResendsAnOlderVersion(t *testing.T) {
	srv := shtest.New(t)
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	v1 := synthetic(t, "ver", 1, 0)[0]
	v2 := []byte(strings.Replace(string(v1), `"Title":"`, `"Title":"v2 `, 1))
	id := idOf(t, v1)
	// The first send of the Id (v1, batch 1) fails retryably; v2 (batch 2)
	// is accepted. Resending v1 would overwrite v2.
	srv.FailFinding(shtest.BatchImportFindings, id, "InternalFailure", "try later", 1)

	res, err := c.Import(context.Background(), [][]byte{v1, v2})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	checkAccounted(t, res, 2)
	if res.Imported != 1 || len(res.Failed) != 1 || res.Failed[0].Index != 0 ||
		!strings.Contains(res.Failed[0].ErrorMessage, "not resent: a later version") {
		t.Fatalf("result %+v, want v2 imported and v1 reported as not resent", res)
	}
	stored, _ := srv.Finding("arn:aws::securityhub:us-east-1::product/aws/guardduty", id)
	if !strings.Contains(string(stored), `"Title":"v2 `) {
		t.Fatalf("stored finding is not v2: %.200s", stored)
	}
	if res.Requests != 2 {
		t.Fatalf("%d requests, want 2 (one per version, no resend)", res.Requests)
	}
}
