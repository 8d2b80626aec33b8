package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/internal/shtest"
)

// waitFor calls check until it reports true; the deadline only guards
// against a hang, it asserts nothing about speed.
func waitFor(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var addrLog = regexp.MustCompile(`"addr":"([^"]+)"`)

func TestServeCommand(t *testing.T) {
	srv, cfg := hubEnv(t)
	updated := time.Now().Add(-time.Hour)
	if err := srv.Load(hubFinding(t, "a", updated, nil), hubFinding(t, "b", updated, nil)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- executeCmd(ctx, newServe(), &stdout, &stderr, "--config", cfg, "--listen", "127.0.0.1:0", "--poll-interval", "20ms")
	}()

	var addr string
	waitFor(t, "the listen address in the log", func() bool {
		m := addrLog.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = "http://" + m[1]
		}
		return m != nil
	})
	waitFor(t, "two polls", func() bool {
		_, body := get(t, addr+"/healthz")
		var s struct {
			Status string
			Polls  int
		}
		return json.Unmarshal([]byte(body), &s) == nil && s.Status == "ok" && s.Polls >= 2
	})
	if status, body := get(t, addr+"/metrics"); status != http.StatusOK ||
		!strings.Contains(body, `hubtriage_notifications_total{kind="notify",rule="all"} 2`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics %d lacks 2 notifications or Go runtime metrics:\n%s", status, body)
	}
	cancel()
	if c := <-code; c != exitOK {
		t.Errorf("serve exited %d after cancellation, want 0\n%s", c, stderr.String())
	}
	var notified []string
	for _, d := range stdout.lines(t) {
		notified = append(notified, d["finding_id"].(string)+" "+d["decision"].(string))
	}
	if strings.Join(notified, ",") != "a notify,b notify" {
		t.Errorf("stdout decisions %v, want a and b notified once (duplicates are not printed)", notified)
	}
}

func TestServeUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no config":     {},
		"zero interval": {"--config", "x.yaml", "--poll-interval", "0s"},
		"no file":       {"--config", "missing.yaml"},
	} {
		var stdout, stderr syncBuffer
		if code := executeCmd(context.Background(), newServe(), &stdout, &stderr, args...); code != exitUsage {
			t.Errorf("%s: exit %d, want 2\n%s", name, code, stderr.String())
		}
	}
}

// TestServeFindingsV2 runs serve --findings-v2 against the fake's
// GetFindingsV2: the OCSF findings are notified once, and CSPM's
// GetFindings is never called.
func TestServeFindingsV2(t *testing.T) {
	srv, cfg := hubEnv(t)
	modified := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	var ids []string
	for _, id := range []string{"v2-a", "v2-b"} {
		path := variant(t, filepath.Join("..", "..", "asff", "testdata", "ocsf", "guardduty-backdoor-ec2.ocsf.json"), func(f map[string]any) {
			fi := f["finding_info"].(map[string]any)
			fi["uid"], fi["modified_time_dt"] = "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/"+id, modified
		})
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.LoadOCSF(b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/"+id+" notify")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- executeCmd(ctx, newServe(), &stdout, &stderr, "--config", cfg, "--listen", "127.0.0.1:0",
			"--poll-interval", "20ms", "--reconcile-interval", "0", "--findings-v2")
	}()
	waitFor(t, "two GetFindingsV2 polls", func() bool { return srv.Count(shtest.GetFindingsV2) >= 2 })
	cancel()
	if c := <-code; c != exitOK {
		t.Fatalf("serve exited %d, want 0\n%s", c, stderr.String())
	}
	var notified []string
	for _, d := range stdout.lines(t) {
		notified = append(notified, d["finding_id"].(string)+" "+d["decision"].(string))
	}
	if !slices.Equal(notified, ids) || srv.Count(shtest.GetFindings) != 0 {
		t.Errorf("decisions %v, want %v; GetFindings calls %d, want 0", notified, ids, srv.Count(shtest.GetFindings))
	}
}
