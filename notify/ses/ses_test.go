package ses_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"hubtriage/asff"
	"hubtriage/internal/motoserver"
	"hubtriage/notify"
	"hubtriage/notify/ses"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

const sender = "hubtriage@example.com"

// notification is a finding with markup in its title.
func notification() notify.Notification {
	return notify.Notification{
		Finding: &asff.Finding{
			ID: "f-1", ProductArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty", ProductName: "GuardDuty",
			AwsAccountID: "111122223333", Region: "us-east-1", Severity: asff.Severity{Label: "CRITICAL"},
			Title: "Backdoor <script>x</script> on i-1", Description: "Grüße",
			FirstObservedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		},
		Reason: notify.ReasonNew,
		Now:    time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
	}
}

// motoConfig returns moto's AWS config without its endpoint, so that the
// channel's own Endpoint setting is what routes requests to moto.
func motoConfig(moto *motoserver.Server) aws.Config {
	cfg := moto.AWSConfig()
	cfg.BaseEndpoint = nil
	return cfg
}

// sesMessage is one message moto's SES backend accepted.
type sesMessage struct {
	Source       string              `json:"source"`
	Subject      string              `json:"subject"`
	Body         string              `json:"body"`
	Destinations map[string][]string `json:"destinations"`
}

// sentMessages lists what moto's SES accepted, from /moto-api/data.json.
func sentMessages(t *testing.T, moto *motoserver.Server) []sesMessage {
	t.Helper()
	var out []sesMessage
	for _, m := range moto.Models(t, "ses", "Message") {
		b, _ := json.Marshal(m)
		var msg sesMessage
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatal(err)
		}
		out = append(out, msg)
	}
	return out
}

func TestSendsToAllRecipientsThroughSES(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	admin := sesv2.NewFromConfig(moto.AWSConfig())
	if _, err := admin.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String(sender)}); err != nil {
		t.Fatalf("verify sender: %v", err)
	}
	to := []string{"secops@example.com", "oncall@example.org"}
	ch, err := ses.New("ses", ses.Config{From: "Hub Triage <" + sender + ">", To: to, Endpoint: moto.URL}, motoConfig(moto))
	if err != nil {
		t.Fatal(err)
	}
	n := notification()
	if retry, err := ch.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: retry=%v err=%v", retry, err)
	}
	want, _ := notify.Render(n)
	sent := sentMessages(t, moto)
	if len(sent) != 1 {
		t.Fatalf("moto accepted %d messages, want 1", len(sent))
	}
	got := sent[0]
	if got.Subject != want.Subject || got.Body != want.HTML || !strings.Contains(got.Source, sender) {
		t.Errorf("moto got source=%q subject=%q body equal=%v", got.Source, got.Subject, got.Body == want.HTML)
	}
	if !slices.Equal(got.Destinations["ToAddresses"], to) {
		t.Errorf("destinations = %v, want ToAddresses %v", got.Destinations, to)
	}
}

func TestUnverifiedSenderIsPermanent(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	ch, err := ses.New("ses", ses.Config{From: "nobody@unverified.example", To: []string{"secops@example.com"}, Endpoint: moto.URL},
		motoConfig(moto))
	if err != nil {
		t.Fatal(err)
	}
	retry, err := ch.Notify(context.Background(), notification())
	if err == nil {
		t.Fatal("SES accepted mail from an unverified sender")
	}
	if retry || !strings.Contains(err.Error(), `ses channel "ses"`) {
		t.Errorf("retry=%v err=%v, want a permanent error naming the channel", retry, err)
	}
	if n := len(sentMessages(t, moto)); n != 0 {
		t.Errorf("moto recorded %d messages", n)
	}
}

// fakeSES is a real HTTP server standing in for SES to answer with errors
// moto cannot produce, recording the requests it gets.
type fakeSES struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	auth string
	body map[string]any
}

// Requests returns the requests received so far.
func (f *fakeSES) Requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// startSES answers every request with status and body, setting
// X-Amzn-ErrorType to errType when it is not empty.
func startSES(t *testing.T, status int, errType, body string) *fakeSES {
	f := &fakeSES{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{auth: r.Header.Get("Authorization"), body: m})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if errType != "" {
			w.Header().Set("X-Amzn-ErrorType", errType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// testAWSConfig is a static-credential config without SDK retries.
func testAWSConfig() aws.Config {
	return aws.Config{Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}))}
}

func TestRequestCarriesBothPartsRecipientsAndOverrides(t *testing.T) {
	f := startSES(t, 200, "", `{"MessageId":"m-1"}`)
	cfg := ses.Config{Region: "eu-west-1", From: sender, To: []string{"a@example.com", "b@example.com"},
		ConfigurationSet: "hubtriage-events", Endpoint: f.URL}
	ch, err := ses.New("ses", cfg, testAWSConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Notify(context.Background(), notification()); err != nil {
		t.Fatal(err)
	}
	want, _ := notify.Render(notification())
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if !strings.Contains(req.auth, "/eu-west-1/ses/aws4_request") {
		t.Errorf("request not signed for the configured region: %s", req.auth)
	}
	var body struct {
		FromEmailAddress     string
		ConfigurationSetName string
		Destination          struct{ ToAddresses []string }
		Content              struct {
			Simple struct {
				Subject struct{ Data, Charset string }
				Body    struct {
					Text, Html struct{ Data, Charset string }
				}
				Headers []struct{ Name, Value string }
			}
		}
	}
	b, _ := json.Marshal(req.body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	s := body.Content.Simple
	switch {
	case body.FromEmailAddress != sender, body.ConfigurationSetName != "hubtriage-events":
		t.Errorf("from=%q configuration set=%q", body.FromEmailAddress, body.ConfigurationSetName)
	case !slices.Equal(body.Destination.ToAddresses, cfg.To):
		t.Errorf("to = %v, want %v", body.Destination.ToAddresses, cfg.To)
	case s.Subject.Data != want.Subject, s.Body.Text.Data != want.Text, s.Body.Html.Data != want.HTML:
		t.Errorf("content differs from the rendering: %+v", s)
	case s.Body.Html.Charset != "UTF-8", s.Body.Text.Charset != "UTF-8", s.Subject.Charset != "UTF-8":
		t.Errorf("charsets: %+v", s)
	case len(s.Headers) != 1 || s.Headers[0].Name != "Auto-Submitted":
		t.Errorf("headers = %+v, want Auto-Submitted", s.Headers)
	}
}

func TestRetryMapping(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		errType string
		want    bool
	}{
		{"throttled", 429, "TooManyRequestsException", true},
		{"daily quota", 400, "LimitExceededException", true},
		{"internal error", 500, "InternalServiceErrorException", true},
		{"unavailable without a type", 503, "", true},
		{"bad request", 400, "BadRequestException", false},
		{"rejected", 400, "MessageRejected", false},
		{"sending paused", 400, "SendingPausedException", false},
		{"configuration set missing", 404, "NotFoundException", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startSES(t, tt.status, tt.errType, `{"message":"nope"}`)
			ch, err := ses.New("ses", ses.Config{From: sender, To: []string{"a@example.com"}, Endpoint: f.URL}, testAWSConfig())
			if err != nil {
				t.Fatal(err)
			}
			retry, err := ch.Notify(context.Background(), notification())
			if err == nil {
				t.Fatal("Notify succeeded on an error response")
			}
			if retry != tt.want {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.want, err)
			}
		})
	}
}

func TestUnreachableEndpointIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ch, err := ses.New("ses", ses.Config{From: sender, To: []string{"a@example.com"}, Endpoint: "http://" + addr}, testAWSConfig())
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := ch.Notify(context.Background(), notification()); err == nil || !retry {
		t.Fatalf("retry=%v err=%v, want a retryable error", retry, err)
	}
}

func TestNewRejectsBadAddresses(t *testing.T) {
	tests := []struct {
		name string
		cfg  ses.Config
		want string
	}{
		{"bad from", ses.Config{From: "nope", To: []string{"a@example.com"}}, `from "nope"`},
		{"no recipients", ses.Config{From: sender}, "at least one recipient"},
		{"bad recipient", ses.Config{From: sender, To: []string{"a@example.com", "b@"}}, `to[1] "b@"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ses.New("ses", tt.cfg, testAWSConfig()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
