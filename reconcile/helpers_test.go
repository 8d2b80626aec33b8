package reconcile_test

import (
	"context"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/filter"
	"hubtriage/internal/filtertest"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/shtest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/securityhub"
	"hubtriage/store/bolt"
)

// variant returns the real GuardDuty fixture finding with Id id and the
// top-level members of set replaced (a nil value removes the member).
func variant(t *testing.T, id string, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{"Id": id}
	maps.Copy(m, set)
	return fixtures.Variant(t, "findings/guardduty-ssh-bruteforce.json", m)
}

// productOf is the ProductArn of every variant.
func productOf(t *testing.T) string {
	f, err := asff.DecodeFinding(variant(t, "x", nil))
	if err != nil {
		t.Fatal(err)
	}
	return f.ProductArn
}

// recorder is a channel that records what it is asked to send and fails
// when fail says so.
type recorder struct {
	name string
	fail func(notify.Notification) error

	mu   sync.Mutex
	sent []notify.Notification
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(_ context.Context, n notify.Notification) (bool, error) {
	if r.fail != nil {
		if err := r.fail(n); err != nil {
			return true, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
	return false, nil
}

// reasons returns "finding-id reason" for every notification sent.
func (r *recorder) reasons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.sent {
		out = append(out, n.Finding.ID+" "+string(n.Reason))
	}
	return out
}

// openBolt opens a fresh embedded store.
func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rules are two rules over one channel: every finding, and MEDIUM findings
// (the GuardDuty fixture is MEDIUM), so each finding has two records.
func rules(t *testing.T, ch notify.Channel) []pipeline.Rule {
	t.Helper()
	medium, err := filtertest.Parse([]byte(`{"SeverityLabel": [{"Value": "MEDIUM", "Comparison": "EQUALS"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return []pipeline.Rule{
		{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}},
		{Name: "medium", Filter: medium, Channels: []notify.Channel{ch}},
	}
}

// runPipeline runs findings through a pipeline on st and returns the
// decisions as "finding-id rule decision".
func runPipeline(t *testing.T, st *bolt.Store, rs []pipeline.Rule, now time.Time, findings ...[]byte) []string {
	t.Helper()
	p, err := pipeline.New(pipeline.Options{Rules: rs, Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	src := func(ctx context.Context, fn func(asff.Result) error) error {
		for _, raw := range findings {
			f, err := asff.DecodeFinding(raw)
			if err := fn(asff.Result{Finding: f, Err: err}); err != nil {
				return err
			}
		}
		return nil
	}
	var out []string
	if _, err := p.Run(context.Background(), src, func(d pipeline.Decision) error {
		out = append(out, d.FindingID+" "+d.Rule+" "+d.Decision)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// shFinder is a Security Hub client for srv that neither paces nor backs
// off, trying each request at most shtest.Attempts times.
func shFinder(t *testing.T, srv *shtest.Server) *securityhub.Client {
	return shtest.Client(t, srv.AWSConfig(), shtest.Attempts)
}
