package catcher

import (
	"bytes"
	"context"
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

func TestCatcherReceivesAndSaves(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	var log syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Serve(ctx, Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, Log: &log}) }()
	for !strings.Contains(log.String(), "listening") {
		time.Sleep(10 * time.Millisecond)
	}
	ch, err := smtp.New("local", smtp.Config{Host: "127.0.0.1", Port: port, TLS: "none", From: "hubtriage@example.com", To: []string{"secops@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &asff.Finding{ID: "x", ProductArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty", ProductName: "GuardDuty",
		Title: "Backdoor on i-0123", AwsAccountID: "111111111111", Region: "us-east-1", Severity: asff.Severity{Label: "HIGH"}}
	if _, err := ch.Notify(ctx, notify.Notification{Finding: f, Rule: "r", Reason: notify.ReasonNew, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(log.String(), "[HIGH] GuardDuty: Backdoor on i-0123") {
		t.Errorf("log does not report the subject:\n%s", log.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "0001.eml"))
	if err != nil || !bytes.Contains(b, []byte("text/html")) {
		t.Errorf("saved message: %v", err)
	}
}
