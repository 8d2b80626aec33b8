package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
)

// distinctFindings writes n distinct active findings (a real GuardDuty
// finding, each with its own Id and a Title naming it "crash-NNNNN") as
// NDJSON, and returns the file.
func distinctFindings(t *testing.T, n int) string {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"), &f); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for i := range n {
		f["Id"] = fmt.Sprintf("%s/crash-%05d", f["Id"], i)
		f["Title"] = fmt.Sprintf("crash-%05d", i)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(append(b, '\n'))
		f["Id"] = strings.TrimSuffix(f["Id"].(string), fmt.Sprintf("/crash-%05d", i))
	}
	path := filepath.Join(t.TempDir(), "findings.ndjson")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// emailConfig is a config alerting every finding to srv.
func emailConfig(t *testing.T, srv *smtptest.Server, workers int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubtriage.yaml")
	cfg := fmt.Sprintf(`
state: {path: %s}
pipeline: {workers: %d}
channels:
  secops:
    email:
      smtp: {host: 127.0.0.1, port: %d, tls: none}
      from: hubtriage@example.com
      to: [secops@example.com]
rules: [{name: all, channels: [secops]}]
`, filepath.Join(t.TempDir(), "state.db"), workers, srv.Port)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var crashToken = regexp.MustCompile(`crash-\d{5}`)

// emailed counts, per finding, the messages srv accepted about it.
func emailed(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		seen := map[string]bool{}
		for _, tok := range crashToken.FindAll(m.Data, -1) {
			seen[string(tok)] = true
		}
		for tok := range seen {
			got[tok]++
		}
	}
	return got
}

// exitCode is cmd's exit status, or -1 when a signal killed it.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -2
	}
	return 0
}

// TestKillNineLosesNoAlert kills replay with SIGKILL at random points
// (once the SMTP server has accepted a random number of further
// messages), reruns it on the same state each time, and then lets it
// finish: every finding is emailed at least once, and a finding is
// emailed twice only when a kill caught its claim in flight (at most the
// workers' claims per kill).
func TestKillNineLosesNoAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const findings, kills, workers = 1500, 20, 8
	bin := binary(t)
	srv := smtptest.Start(t)
	cfg, input := emailConfig(t, srv, workers), distinctFindings(t, findings)
	rng := rand.New(rand.NewPCG(8, 8))
	killed := 0
	for killed < kills {
		target := len(srv.Messages()) + 1 + rng.IntN(50)
		cmd := exec.Command(bin, "replay", "--config", cfg, input)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var werr error
		go func() { werr = cmd.Wait(); close(done) }()
		if !srv.WaitMessages(target, done) {
			t.Fatalf("run %d ended (exit %d) before being killed, after %d of %d emails:\n%s",
				killed+1, exitCode(werr), len(srv.Messages()), findings, stderr.String())
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-done
		killed++
	}
	final := exec.Command(bin, "replay", "--config", cfg, input)
	out, err := final.CombinedOutput()
	if code := exitCode(err); code != 0 {
		t.Fatalf("final run exited %d:\n%s", code, lastLines(out, 5))
	}
	got := emailed(srv)
	lost, doubles := 0, 0
	for i := range findings {
		switch n := got[fmt.Sprintf("crash-%05d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			doubles += n - 1
		}
	}
	t.Logf("%d kills, %d emails for %d findings: %d lost, %d doubles", killed, len(srv.Messages()), findings, lost, doubles)
	if lost != 0 {
		t.Errorf("%d findings never emailed", lost)
	}
	if doubles > killed*workers {
		t.Errorf("%d doubles, more than the %d claims %d kills can catch in flight", doubles, killed*workers, killed)
	}
}

// TestInterruptedReplaySaysSo: SIGINT or SIGTERM during a replay finishes
// what is in flight, prints the summary with how far it read, and exits
// 130 or 143.
func TestInterruptedReplaySaysSo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := binary(t)
	input := distinctFindings(t, 3000)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			srv := smtptest.Start(t)
			cmd := exec.Command(bin, "replay", "--config", emailConfig(t, srv, 4), input)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			var werr error
			go func() { werr = cmd.Wait(); close(done) }()
			if !srv.WaitMessages(20, done) {
				t.Fatalf("replay ended before the signal:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			<-done
			if code := exitCode(werr); code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, stderr.String())
			}
			m := regexp.MustCompile(`interrupted after (\d+) of the input`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("summary does not say it was interrupted:\n%s", stderr.String())
			}
			var n int
			fmt.Sscan(m[1], &n)
			if n <= 0 || n >= 3000 {
				t.Errorf("interrupted after %d of 3000 findings", n)
			}
			if sent := len(emailed(srv)); sent > n {
				t.Errorf("%d findings emailed, more than the %d read", sent, n)
			}
		})
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
