// Package motoserver runs moto_server, the AWS API emulator from the Python
// moto project, for tests that talk to DynamoDB, SES, SNS, SSM or Secrets
// Manager over loopback instead of through mocks.
//
// One moto_server process is shared by every test of a test binary. The
// recommended pattern is a TestMain that stops it when the binary is done:
//
//	func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		moto := motoserver.Start(t)
//		moto.Reset(t) // only if the test needs an empty backend
//		client := dynamodb.NewFromConfig(moto.AWSConfig())
//		...
//	}
//
// Without Main, Start counts the tests using the process (through
// t.Cleanup) and stops it when the last one finishes; sequential tests then
// each pay moto's start-up time of a few seconds. Either way the process is
// also killed if the test binary dies (Linux parent-death signal).
//
// When moto_server is not installed the test is skipped with a message saying
// how to install it, unless the environment variable CI is set or
// HUBTRIAGE_REQUIRE_MOTO=1, in which case the test fails.
package motoserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Static values every client built from AWSConfig uses.
const (
	Region    = "us-east-1"
	AccessKey = "testing"
	SecretKey = "testing"
)

// NotFoundMessage is the skip (or failure) message when moto_server is missing.
const NotFoundMessage = "moto_server not found: pip install 'moto[server]'"

// Start-up limits: moto imports every service backend before answering, which
// takes a few seconds on a loaded machine.
const (
	startTimeout  = 60 * time.Second
	startAttempts = 3
	pollInterval  = 100 * time.Millisecond
	outputTail    = 16 << 10
)

// Server is a running moto_server. Its methods are safe for concurrent use;
// note that Reset empties the backends of every test sharing the process.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:40123.
	URL string

	cmd    *exec.Cmd
	output *tailBuffer
	done   chan struct{} // closed when the process has exited
	client *http.Client
}

// shared is the one process of this test binary. A test helper that shares a
// process across tests cannot avoid package state; it is confined here.
var shared struct {
	mu      sync.Mutex
	srv     *Server
	users   int
	managed bool // Main owns the lifetime
}

// Main runs the tests of m and then stops the shared moto_server, if any test
// started it. Use it from TestMain: os.Exit(motoserver.Main(m)).
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.managed = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.stop()
		shared.srv = nil
	}
	return code
}

// Start returns the test binary's shared moto_server, starting it on a free
// loopback port on first use. It skips t when moto_server is not installed
// (fails instead under CI or HUBTRIAGE_REQUIRE_MOTO=1) and fails t when the
// server does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil || shared.srv.exited() {
		path, err := findExecutable()
		if err != nil {
			missing(t)
		}
		srv, err := startWithRetry(path)
		if err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		shared.srv = srv
	}
	srv := shared.srv
	if !shared.managed {
		shared.users++
		t.Cleanup(release)
	}
	return srv
}

// release drops one user of the shared server and stops it after the last.
func release() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.users--
	if shared.users == 0 && !shared.managed && shared.srv != nil {
		shared.srv.stop()
		shared.srv = nil
	}
}

// missing skips or fails t because moto_server is not installed.
func missing(t testing.TB) {
	t.Helper()
	if os.Getenv("CI") != "" || os.Getenv("HUBTRIAGE_REQUIRE_MOTO") == "1" {
		t.Fatal(NotFoundMessage)
	}
	t.Skip(NotFoundMessage)
}

// findExecutable looks for moto_server on PATH, then asks pyenv.
func findExecutable() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	out, err := exec.Command("pyenv", "which", "moto_server").Output()
	if err != nil {
		return "", fmt.Errorf("moto_server not on PATH and pyenv which failed: %w", err)
	}
	p := strings.TrimSpace(string(out))
	if p == "" {
		return "", errors.New("moto_server not on PATH and pyenv which printed nothing")
	}
	return p, nil
}

// startWithRetry starts moto_server, trying another port if the first one
// was taken between choosing and binding it.
func startWithRetry(path string) (*Server, error) {
	var errs []error
	for range startAttempts {
		srv, err := start(path)
		if err == nil {
			return srv, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// start runs one moto_server process and waits until it answers HTTP.
func start(path string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	srv := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		output: &tailBuffer{max: outputTail},
		done:   make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	srv.cmd = exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	srv.cmd.Stdout = srv.output
	srv.cmd.Stderr = srv.output
	srv.cmd.SysProcAttr = sysProcAttr()
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", path, err)
	}
	go func() { _ = srv.cmd.Wait(); close(srv.done) }()
	if err := srv.waitReady(); err != nil {
		srv.stop()
		return nil, fmt.Errorf("%s on port %d: %w; output:\n%s", path, port, err, srv.output)
	}
	return srv, nil
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the server until it answers or the process exits.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("exited before answering")
		case <-time.After(pollInterval):
		}
		resp, err := s.client.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("no answer within %s", startTimeout)
}

// exited reports whether the process has ended (it crashed or was stopped).
func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop kills the process group and waits for the process to exit.
func (s *Server) stop() {
	if s.cmd.Process == nil {
		return
	}
	killGroup(s.cmd.Process.Pid)
	<-s.done
}

// Reset empties every moto backend (POST /moto-api/reset). It affects all
// tests sharing the process, so tests that reset must not run in parallel
// with other tests of the same binary using moto.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	resp, err := s.client.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto_server: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset moto_server: HTTP %s", resp.Status)
	}
}

// AWSConfig returns a config whose clients talk to this server: static
// credentials testing/testing, region us-east-1 and BaseEndpoint set to URL
// (a client may still override BaseEndpoint in its own options).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// Get fetches path (e.g. "/moto-api/data.json") from the server and returns
// the body, failing t on any error or non-200 answer.
func (s *Server) Get(t testing.TB, path string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatalf("moto GET %s: %v", path, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("moto GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("moto GET %s: read body: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto GET %s: HTTP %s: %s", path, resp.Status, body.Bytes())
	}
	return body.Bytes()
}

// Models returns moto's tracked instances of one model class of one service,
// as GET /moto-api/data.json reports them: each instance is a map of its
// JSON-serialisable attributes. For example Models(t, "ses", "Message") lists
// the emails SES (v1 or v2) accepted, with "source", "subject", "body" and
// "destinations"; Models(t, "ses", "EmailIdentity") the verified identities.
func (s *Server) Models(t testing.TB, service, model string) []map[string]any {
	t.Helper()
	var data map[string]map[string][]map[string]any
	if err := json.Unmarshal(s.Get(t, "/moto-api/data.json"), &data); err != nil {
		t.Fatalf("decode moto data.json: %v", err)
	}
	return data[service][model]
}

// tailBuffer keeps the last max bytes written to it, so a long test run's
// request log does not grow without bound but start-up errors stay visible.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write appends p, dropping the oldest bytes beyond max.
func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// String returns the buffered output.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
