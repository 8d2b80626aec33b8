package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"hubtriage/internal/dynamotest"
	"hubtriage/internal/motoserver"
	"hubtriage/internal/smtptest"
	"hubtriage/securityhub"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// smtpPassword is the SMTP password the tests keep in Secrets Manager; no
// log line or error may contain it.
const smtpPassword = "s3cr3t-Pa55word-4-hubtriage"

// testNow is the clock of every pipeline in these tests.
var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixturesDir finds ../shared/fixtures/asff from the module root.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "fixtures", "asff")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer is a log sink safe for the pipeline's concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records parses the JSON log lines.
func (b *syncBuffer) records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// rig is a deployed-like environment: DynamoDB, SSM and Secrets Manager on
// moto_server, and an SMTP server that requires the password kept in
// Secrets Manager.
type rig struct {
	moto    *motoserver.Server
	awsCfg  aws.Config
	smtp    *smtptest.Server
	table   string
	secret  string // ARN of the JSON secret holding the SMTP password
	logs    *syncBuffer
	configY string // the config document
}

var rigSeq atomic.Int64

// newRig creates the table and the secret and sets the environment a
// deployment sets: HUBTRIAGE_SECRET_SMTP_PASSWORD and AWS credentials. The
// config is returned, not installed: each test picks file or SSM.
func newRig(t *testing.T) *rig {
	t.Helper()
	moto := motoserver.Start(t)
	moto.Reset(t) // tests in this package run one at a time: each gets an empty moto
	r := &rig{moto: moto, awsCfg: moto.AWSConfig(), logs: &syncBuffer{}}
	n := rigSeq.Add(1)
	r.table = fmt.Sprintf("hubtriage-lambda-%d-%d", os.Getpid(), n)
	ctx := context.Background()
	if err := dynamotest.CreateTable(ctx, dynamodb.NewFromConfig(r.awsCfg), r.table); err != nil {
		t.Fatal(err)
	}
	out, err := secretsmanager.NewFromConfig(r.awsCfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("hubtriage/smtp-%d-%d", os.Getpid(), n)),
		SecretString: aws.String(`{"username":"hubtriage","password":"` + smtpPassword + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.secret = *out.ARN
	r.smtp = smtptest.Start(t, smtptest.WithAuth("hubtriage", smtpPassword))
	setAWSEnv(t)
	unsetEnv(t, "SMTP_PASSWORD", EnvConfig, EnvConfigSSM)
	t.Setenv(EnvSecretPrefix+"SMTP_PASSWORD", r.secret+"#password")
	r.configY = fmt.Sprintf(`state:
  backend: dynamodb
  dynamodb: {table: %s, region: us-east-1, endpoint: %q}
channels:
  secops:
    email:
      smtp: {host: %s, port: %d, tls: none, username: hubtriage, password_env: SMTP_PASSWORD}
      from: hubtriage@example.com
      to: [secops@example.com]
securityhub: {region: us-east-1, endpoint: %q}
rules:
  - name: open-findings
    renotify_after: 30d
    channels: [secops]
`, r.table, moto.URL, r.smtp.Host, r.smtp.Port, moto.URL)
	return r
}

// setAWSEnv points the default credential chain (used by app.Open for the
// store) at moto's static test credentials and away from any real profile.
func setAWSEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", motoserver.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", motoserver.SecretKey)
	t.Setenv("AWS_REGION", motoserver.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	unsetEnv(t, "AWS_PROFILE", "AWS_SESSION_TOKEN")
}

// unsetEnv removes variables for the test, restoring them afterwards.
func unsetEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		t.Setenv(n, "")
		if err := os.Unsetenv(n); err != nil {
			t.Fatal(err)
		}
	}
}

// configFile writes the rig's config to a file and points EnvConfig at it.
func (r *rig) configFile(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	if err := os.WriteFile(path, []byte(r.configY), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvConfig, path)
}

// setup runs the cold start the way the bootstrap does.
func (r *rig) setup(t *testing.T) *Handler {
	t.Helper()
	h, err := Setup(context.Background(), SetupOptions{
		AWS:    &r.awsCfg,
		Logger: slog.New(slog.NewJSONHandler(r.logs, nil)),
		Now:    func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return h
}

// invoke calls the handler as the Lambda runtime would.
func invoke(t *testing.T, h *Handler, payload []byte) (Response, error) {
	t.Helper()
	return h.Invoke(context.Background(), json.RawMessage(payload))
}

// mustInvoke invokes and fails the test on an error.
func mustInvoke(t *testing.T, h *Handler, payload []byte) Response {
	t.Helper()
	resp, err := invoke(t, h, payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return resp
}

// hold imports the findings of the events into moto's Security Hub, with
// the top-level fields in set replaced, as the real Security Hub holds the
// findings it sends.
func (r *rig) hold(t *testing.T, set map[string]any, events ...[]byte) {
	t.Helper()
	var findings [][]byte
	for _, ev := range events {
		var doc struct {
			Detail struct {
				Findings []map[string]any `json:"findings"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(ev, &doc); err != nil {
			t.Fatal(err)
		}
		for _, f := range doc.Detail.Findings {
			for k, v := range set {
				f[k] = v
			}
			b, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			findings = append(findings, b)
		}
	}
	client, err := securityhub.New(r.awsCfg, securityhub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Import(context.Background(), findings)
	if err != nil || res.Imported != len(findings) {
		t.Fatalf("import into moto: %+v, %v", res, err)
	}
}

// scheduledEvent is what an EventBridge schedule rule sends.
func scheduledEvent() []byte {
	return []byte(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",` +
		`"source":"aws.events","account":"123456789012","time":"2026-03-02T09:00:00Z","region":"us-east-1",` +
		`"resources":["arn:aws:events:us-east-1:123456789012:rule/hubtriage-reconcile"],"detail":{}}`)
}
