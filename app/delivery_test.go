package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/config"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
	"hubtriage/pipeline"
)

// openEmail opens an app alerting every finding by SMTP to port, with 8
// workers.
func openEmail(t *testing.T, port int, extra string) *App {
	t.Helper()
	cfg, err := config.Parse([]byte(`
state: {path: ` + filepath.Join(t.TempDir(), "state.db") + `}
channels:
  secops:
    email:
      smtp: {host: 127.0.0.1, port: ` + itoa(port) + `, tls: none` + extra + `}
      from: hubtriage@example.com
      to: [secops@example.com]
rules: [{name: all, channels: [secops]}]
pipeline: {workers: 8}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// findings are n distinct copies of a real GuardDuty finding.
func findings(t *testing.T, n int) []*asff.Finding {
	var m map[string]any
	if err := json.Unmarshal(fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"), &m); err != nil {
		t.Fatal(err)
	}
	id := m["Id"].(string)
	out := make([]*asff.Finding, n)
	for i := range out {
		m["Id"] = fmt.Sprintf("%s/%d", id, i)
		b, _ := json.Marshal(m)
		f, err := asff.DecodeFinding(b)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

func runFindings(t *testing.T, a *App, fs []*asff.Finding) ([]pipeline.Decision, pipeline.Summary) {
	t.Helper()
	src := func(ctx context.Context, fn func(asff.Result) error) error {
		for _, f := range fs {
			if err := fn(asff.Result{Finding: f}); err != nil {
				return err
			}
		}
		return nil
	}
	var ds []pipeline.Decision
	sum, err := a.Pipeline.Run(context.Background(), src, func(d pipeline.Decision) error { ds = append(ds, d); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return ds, sum
}

// hungServer accepts connections and never answers; it counts them.
type hungServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startHung(t *testing.T) *hungServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	return h
}

func (h *hungServer) accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// TestHungChannelParksTheRest: an SMTP server that accepts connections and
// never answers costs a few timeouts, not one per message: after a few
// consecutive failures the channel's circuit opens and the rest of the
// run's 500 messages are parked at once, for the next run to retry.
func TestHungChannelParksTheRest(t *testing.T) {
	h := startHung(t)
	a := openEmail(t, h.ln.Addr().(*net.TCPAddr).Port, ", timeout: 1s")
	ds, sum := runFindings(t, a, findings(t, 500))
	if sum.Errors != 500 {
		t.Fatalf("summary %+v, want 500 errors", sum)
	}
	for _, d := range ds {
		if !strings.Contains(d.Reason, "kept pending, retried on the next run") {
			t.Fatalf("decision %+v: not parked", d)
		}
	}
	// Until the third timeout opens the circuit, a worker whose attempt
	// timed out may start another; once it is open, none.
	if n, most := h.accepted(), a.Config.Pipeline.Workers+3; n > most {
		t.Errorf("%d connection attempts for 500 messages, want at most %d (about one per worker)", n, most)
	}
	parked, err := a.Store.Entries(context.Background(), "pending", time.Now())
	if err != nil || len(parked) != 500 {
		t.Errorf("%d parked deliveries (%v), want 500", len(parked), err)
	}
}

// TestPermanentRejectionReportedOnce: a message the server refuses for
// good (SMTP 550) is an error once, with its reason, and is neither parked
// nor retried: the next run and the next occurrence do not send it again.
func TestPermanentRejectionReportedOnce(t *testing.T) {
	srv := smtptest.Start(t)
	srv.FailNext(1, 550)
	a := openEmail(t, srv.Port, "")
	f := findings(t, 1)
	ds, sum := runFindings(t, a, f)
	if sum.Errors != 1 || len(ds) != 1 || !strings.Contains(ds[0].Reason, "550") || !strings.Contains(ds[0].Reason, "refused for good") {
		t.Fatalf("first run: %+v %+v; want one error naming the 550 and saying it is not retried", ds, sum)
	}
	if ds, _ := runFindings(t, a, nil); len(ds) != 0 {
		t.Fatalf("the next run retried it: %+v", ds)
	}
	if ds, sum := runFindings(t, a, f); sum.Duplicates != 1 {
		t.Fatalf("next occurrence: %+v, want a duplicate", ds)
	}
	if srv.Attempts() != 1 || len(srv.Messages()) != 0 {
		t.Errorf("%d attempts, %d accepted; want 1 attempt, none accepted", srv.Attempts(), len(srv.Messages()))
	}
}
