package app

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"hubtriage/asff"
	"hubtriage/config"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/smtptest"
	"hubtriage/pipeline"
)

// TestFiftyGoroutinesOneEmail: 50 goroutines deliver the same finding at
// once through the real SMTP channel and the embedded store; exactly one
// email arrives, and no goroutine claims it was sent when it was not.
func TestFiftyGoroutinesOneEmail(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := config.Parse([]byte(`
state: {path: ` + filepath.Join(t.TempDir(), "state.db") + `}
channels:
  secops:
    email:
      smtp: {host: 127.0.0.1, port: ` + itoa(srv.Port) + `, tls: none}
      from: hubtriage@example.com
      to: [secops@example.com]
rules: [{name: all, channels: [secops]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := asff.DecodeFinding(raw)
			if err != nil {
				t.Error(err)
				return
			}
			src := func(ctx context.Context, fn func(asff.Result) error) error { return fn(asff.Result{Finding: f}) }
			_, err = a.Pipeline.Run(context.Background(), src, func(d pipeline.Decision) error {
				mu.Lock()
				counts[d.Decision]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The others met the claim in flight (pending: this run sent nothing
	// and cannot tell whether that worker will) or its record (duplicate).
	if got := len(srv.Messages()); got != 1 || counts["notify"] != 1 || counts["duplicate"]+counts["pending"] != 49 {
		t.Fatalf("%d emails, decisions %v; want 1 email, 1 notify, 49 pending or duplicates", got, counts)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
