package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runtimeAPI is a Lambda Runtime API (2018-06-01) as documented at
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html: it hands
// out the given events in turn on GET .../invocation/next, records what the
// function posts to .../invocation/{id}/response or /error, and holds the
// next GET open once the events run out (as Lambda does between
// invocations).
type runtimeAPI struct {
	events  chan string
	results chan posted
}

// posted is one result the function reported.
type posted struct {
	RequestID string
	Kind      string // "response" or "error"
	Body      []byte
	ErrorType string // the Lambda-Runtime-Function-Error-Type header
}

func (a *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix+"next":
		select {
		case ev := <-a.events:
			id := "req-" + ev[:8]
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", "4102444800000")
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:hubtriage")
			io.WriteString(w, ev)
		case <-r.Context().Done():
		}
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, prefix):
		id, kind, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
		body, _ := io.ReadAll(r.Body)
		a.results <- posted{RequestID: id, Kind: kind, Body: body, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// TestUnsupportedEventHasAStableErrorType runs the built function against a
// Runtime API and checks the errorType operators see for an event of a
// detail type it does not process: a documented name, not Go's internal
// type name (it was "wrapError").
func TestUnsupportedEventHasAStableErrorType(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "hubtriage.yaml")
	if err := os.WriteFile(cfg, []byte("state: {path: "+filepath.Join(dir, "state.db")+"}\nrules: [{name: all}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	api := &runtimeAPI{events: make(chan string, 1), results: make(chan posted, 1)}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	// An EC2 event, as a misrouted EventBridge rule would deliver (example
	// from the EventBridge user guide's "EC2 Instance State-change Notification").
	api.events <- `{"version":"0","id":"6f1d2c3b-aaaa-bbbb-cccc-000000000001","detail-type":"EC2 Instance State-change Notification",` +
		`"source":"aws.ec2","account":"123456789012","time":"2026-03-02T09:00:00Z","region":"us-east-1",` +
		`"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-abcd1111","state":"pending"}}`

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"),
		"HUBTRIAGE_CONFIG=" + cfg, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "HOME=" + dir,
	}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	var got posted
	select {
	case got = <-api.results:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the function reported nothing; its output:\n%s", logs.String())
	}
	var body struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("error body %q: %v", got.Body, err)
	}
	if got.Kind != "error" || body.ErrorType != "UnsupportedEvent" {
		t.Errorf("posted %s with errorType %q (%s), want error with errorType UnsupportedEvent", got.Kind, body.ErrorType, got.Body)
	}
	if !strings.Contains(body.ErrorMessage, `detail-type "EC2 Instance State-change Notification"`) {
		t.Errorf("errorMessage %q does not name the detail type", body.ErrorMessage)
	}
}
