package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"hubtriage/internal/motoserver"
)

// awsEnv points the AWS SDK of a child process at moto's static
// credentials and nothing of the machine's.
func awsEnv(t *testing.T) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{
		"AWS_ACCESS_KEY_ID=" + motoserver.AccessKey, "AWS_SECRET_ACCESS_KEY=" + motoserver.SecretKey, "AWS_SESSION_TOKEN=",
		"AWS_REGION=" + motoserver.Region, "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
	}
}

// started is a long-running hubtriage process of a test.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan error
}

// start runs the built binary in the background until it is stopped or
// the test ends.
func start(t *testing.T, dir string, env []string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(binary(t), args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Dir, s.cmd.Env = dir, append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *started) stop(t *testing.T) int {
	if s.cmd.ProcessState != nil {
		return s.cmd.ProcessState.ExitCode()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("%s did not stop on SIGTERM", s.cmd.Args[1])
	}
	return s.cmd.ProcessState.ExitCode()
}

var (
	catcherAddr = regexp.MustCompile(`msg=listening addr=(\S+)`)
	pollsDone   = regexp.MustCompile(`"polls":(\d+)`)
)

// TestTryTheDaemonRecipe follows docs/try-the-daemon.md with the built
// binary: Security Hub on moto_server, the bundled findings imported with
// `hubtriage import`, `hubtriage smtp-catcher`, then `hubtriage serve` with
// examples/try-the-daemon.yaml; the emails it sends land as .eml files.
func TestTryTheDaemonRecipe(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	ctx := context.Background()
	// 1. Enable Security Hub (the recipe uses the AWS CLI: the same call).
	if _, err := securityhub.NewFromConfig(moto.AWSConfig()).EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatalf("EnableSecurityHub: %v", err)
	}
	dir, env := t.TempDir(), awsEnv(t)
	mail := filepath.Join(dir, "mail")
	// 2. The catcher, on a port of its choosing.
	catcher := start(t, dir, nil, "smtp-catcher", "--listen", "127.0.0.1:0", "--dir", mail)
	var addr string
	waitFor(t, "the catcher to listen", func() bool {
		m := catcherAddr.FindStringSubmatch(catcher.stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	cfg := recipeConfig(t, dir, moto.URL, addr)
	// 3. Import the bundled findings.
	r := runBinary(t, dir, "", env, "import", "--config", cfg, abs(t, "../../examples/findings"))
	if r.code != 0 || !strings.Contains(r.stderr, "failed 0") {
		t.Fatalf("import: exit %d\n%s", r.code, r.stderr)
	}
	// 4. The daemon, reading back far enough for the bundled (old) findings.
	serve := start(t, dir, env, "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--poll-interval", "1s", "--initial-lookback", "10y")
	var health string
	waitFor(t, "two polls", func() bool {
		m := addrLog.FindStringSubmatch(serve.stderr.String())
		if m == nil {
			return false
		}
		_, health = get(t, "http://"+m[1]+"/healthz")
		p := pollsDone.FindStringSubmatch(health)
		return p != nil && p[1] != "0" && p[1] != "1"
	})
	if code := serve.stop(t); code != 0 {
		t.Errorf("serve exited %d on SIGTERM\n%s", code, serve.stderr.String())
	}
	notified := 0
	for _, d := range serve.stdout.lines(t) {
		if d["decision"] == "notify" {
			notified++
		}
	}
	emls, _ := filepath.Glob(filepath.Join(mail, "*.eml"))
	if notified == 0 || len(emls) != notified {
		t.Fatalf("%d notify decisions, %d emails caught; want the same, at least one\nserve: %s\ncatcher: %s",
			notified, len(emls), serve.stderr.String(), catcher.stderr.String())
	}
	t.Logf("%s; serve alerted %d findings, the catcher saved %d emails", strings.TrimSpace(r.stderr), notified, len(emls))
}

// recipeConfig is examples/try-the-daemon.yaml with moto's URL, the
// catcher's address and a state file in dir.
func recipeConfig(t *testing.T, dir, motoURL, smtpAddr string) string {
	b, err := os.ReadFile(abs(t, "../../examples/try-the-daemon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(smtpAddr, ":")
	s := strings.NewReplacer(
		"endpoint: http://127.0.0.1:5000", "endpoint: "+motoURL,
		"{host: 127.0.0.1, port: 2525,", "{host: "+host+", port: "+port+",",
		"path: ./hubtriage-daemon.db", "path: "+filepath.Join(dir, "state.db"),
	).Replace(string(b))
	if s == string(b) || !strings.Contains(s, motoURL) || !strings.Contains(s, "port: "+port) {
		t.Fatal("examples/try-the-daemon.yaml no longer has the values this test replaces")
	}
	path := filepath.Join(dir, "hubtriage.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
