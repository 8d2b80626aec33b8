package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"hubtriage/internal/motoserver"
	"hubtriage/internal/shtest"
	"hubtriage/reconcile"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// countingClient counts GetFindings requests.
type countingClient struct {
	gets atomic.Int64
	next *http.Client
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.URL.Path == "/findings" {
		c.gets.Add(1)
	}
	return c.next.Do(r)
}

// TestPagesThroughMoto: moto ignores GetFindings filters, so every lookup
// pages through all 250 findings it holds; reconcile must still see exactly
// the tracked ones, across batches and pages.
func TestPagesThroughMoto(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	st, ch := openBolt(t), &recorder{name: "ops"}

	// 45 tracked findings: 0-29 stay active, 30-39 are archived, 40-44
	// were never in Security Hub (or are gone); 205 more are untracked.
	var tracked, held [][]byte
	for i := range 250 {
		id := fmt.Sprintf("finding-%03d", i)
		if i < 45 {
			tracked = append(tracked, variant(t, id, nil))
		}
		switch {
		case i >= 30 && i < 40:
			held = append(held, variant(t, id, map[string]any{"RecordState": "ARCHIVED"}))
		case i < 40 || i >= 45:
			held = append(held, variant(t, id, nil))
		}
	}
	runPipeline(t, st, rules(t, ch), t0, tracked...)
	counter := &countingClient{next: &http.Client{}}
	cfg := moto.AWSConfig()
	cfg.HTTPClient = counter
	client := shtest.Client(t, cfg, 3)
	if res, err := client.Import(context.Background(), held); err != nil || res.Imported != len(held) {
		t.Fatalf("import into moto: %+v, %v", res, err)
	}

	sum, got := run(t, reconcile.Options{Store: st, Finder: client})
	if want := (reconcile.Summary{Checked: 45, Active: 30, Resolved: 10, NotFound: 5}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	for i, r := range got {
		wantID, wantDecision := fmt.Sprintf("finding-%03d", 30+i), "resolved"
		if i >= 10 {
			wantDecision = "not_found"
		}
		if r.FindingID != wantID || r.Decision != wantDecision {
			t.Errorf("resolution %d: %s %s, want %s %s", i, r.FindingID, r.Decision, wantID, wantDecision)
		}
	}
	// 3 batches of at most 20 ids, each paging through 250 findings.
	if n := counter.gets.Load(); n != 9 {
		t.Errorf("%d GetFindings requests, want 9 (3 batches x 3 pages)", n)
	}
}
