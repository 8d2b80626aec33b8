package catcher

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/notify"
	"hubtriage/notify/smtp"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCatcher runs Serve on a free port until the test ends and returns
// the port and the log.
func startCatcher(t *testing.T, dir string) (int, *syncBuffer) {
	t.Helper()
	port := freePort(t)
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, Log: slog.New(slog.NewTextHandler(&log, nil))})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(log.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatalf("catcher did not start:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return port, &log
}

func send(t *testing.T, port int, title string) {
	t.Helper()
	ch, err := smtp.New("local", smtp.Config{Host: "127.0.0.1", Port: port, TLS: "none", From: "hubtriage@example.com", To: []string{"secops@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &asff.Finding{ID: "x", ProductArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty", ProductName: "GuardDuty",
		Title: title, AwsAccountID: "111111111111", Region: "us-east-1", Severity: asff.Severity{Label: "HIGH"}}
	if _, err := ch.Notify(context.Background(), notify.Notification{Finding: f, Rule: "r", Reason: notify.ReasonNew, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestCatcherReceivesAndSaves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail", "new") // does not exist yet
	port, log := startCatcher(t, dir)
	send(t, port, "Backdoor on i-0123")
	if !strings.Contains(log.String(), "[HIGH] GuardDuty: Backdoor on i-0123") {
		t.Errorf("log does not report the subject:\n%s", log.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "0001.eml"))
	if err != nil || !bytes.Contains(b, []byte("text/html")) {
		t.Errorf("saved message: %v", err)
	}
}

// TestRestartedCatcherKeepsEarlierMessages: a second catcher on the same
// folder numbers on instead of overwriting 0001.eml.
func TestRestartedCatcherKeepsEarlierMessages(t *testing.T) {
	dir := t.TempDir()
	for _, title := range []string{"first run", "second run"} {
		t.Run(title, func(t *testing.T) {
			port, _ := startCatcher(t, dir)
			send(t, port, title)
		})
	}
	for name, want := range map[string]string{"0001.eml": "first run", "0002.eml": "second run"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not hold the %s's message (%v)", name, want, err)
		}
	}
}

func TestCatcherRefusesAFolderItCannotCreate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := Serve(context.Background(), Options{Addr: "127.0.0.1:0", Dir: filepath.Join(file, "mail"), Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "--dir") {
		t.Fatalf("Serve = %v, want a --dir error before listening", err)
	}
}
