package daemon_test

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"hubtriage/daemon"
	"hubtriage/filter"
	"hubtriage/internal/filtertest"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/shtest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/store/bolt"
)

// now is the daemon's clock in these tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// finding returns the real GuardDuty fixture (MEDIUM) with Id id, UpdatedAt
// updated and the top-level members of set replaced (a nil value removes
// the member).
func finding(t *testing.T, id string, updated time.Time, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{"Id": id, "UpdatedAt": updated.UTC().Format(time.RFC3339Nano)}
	maps.Copy(m, set)
	return fixtures.Variant(t, "findings/guardduty-ssh-bruteforce.json", m)
}

// recorder is a channel that records what it sends; block, when set, is
// called before each send and may hold it.
type recorder struct {
	block func()
	fail  func(notify.Notification) error

	mu   sync.Mutex
	sent []string // "finding-id reason"
}

func (r *recorder) Name() string { return "ops" }

func (r *recorder) Notify(_ context.Context, n notify.Notification) (bool, error) {
	if r.block != nil {
		r.block()
	}
	if r.fail != nil {
		if err := r.fail(n); err != nil {
			return true, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n.Finding.ID+" "+string(n.Reason))
	return false, nil
}

// notifications returns what was sent, sorted (workers send concurrently).
func (r *recorder) notifications() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.sent...)
	slices.Sort(out)
	return out
}

// env is one daemon's world: a Security Hub, a store file and a channel.
type env struct {
	srv   *shtest.Server
	path  string
	ch    *recorder
	rules []pipeline.Rule
}

func newEnv(t *testing.T, filters ...string) *env {
	t.Helper()
	e := &env{srv: shtest.New(t), path: filepath.Join(t.TempDir(), "state.db"), ch: &recorder{}}
	if len(filters) == 0 {
		filters = []string{""}
	}
	for i, src := range filters {
		f := &filter.Filters{}
		if src != "" {
			var err error
			if f, err = filtertest.Parse([]byte(src)); err != nil {
				t.Fatal(err)
			}
		}
		e.rules = append(e.rules, pipeline.Rule{Name: "rule" + string(rune('a'+i)), Filter: f, Channels: []notify.Channel{e.ch}})
	}
	return e
}

func (e *env) load(t *testing.T, findings ...[]byte) {
	t.Helper()
	if err := e.srv.Load(findings...); err != nil {
		t.Fatal(err)
	}
}

// open opens the store and builds a daemon on it; the store closes with t.
func (e *env) open(t *testing.T, opt daemon.Options) (*daemon.Daemon, *bolt.Store) {
	t.Helper()
	st, err := bolt.Open(e.path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return e.daemon(t, st, opt), st
}

// daemon builds a daemon on st with opt's zero fields filled for tests.
func (e *env) daemon(t *testing.T, st *bolt.Store, opt daemon.Options) *daemon.Daemon {
	t.Helper()
	if opt.Pipeline == nil {
		obs, _ := opt.Recorder.(pipeline.Observer)
		p, err := pipeline.New(pipeline.Options{Rules: e.rules, Store: st, Observer: obs})
		if err != nil {
			t.Fatal(err)
		}
		opt.Pipeline = p
	}
	for _, r := range e.rules {
		opt.Filters = append(opt.Filters, r.Filter)
	}
	opt.Index, opt.Getter = st, shtest.Client(t, e.srv.AWSConfig(), shtest.Attempts)
	if opt.Now == nil {
		opt.Now = func() time.Time { return now }
	}
	if opt.PollInterval == 0 {
		opt.PollInterval = time.Millisecond
	}
	d, err := daemon.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// updatedStarts returns the UpdatedAt Start of every GetFindings request.
func updatedStarts(t *testing.T, srv *shtest.Server) []string {
	t.Helper()
	var out []string
	for _, r := range srv.Requests() {
		if r.Op != shtest.GetFindings {
			continue
		}
		var f struct{ UpdatedAt []struct{ Start string } }
		if err := json.Unmarshal(r.Filters, &f); err != nil {
			t.Fatal(err)
		}
		start := ""
		if len(f.UpdatedAt) > 0 {
			start = f.UpdatedAt[0].Start
		}
		out = append(out, start)
	}
	return out
}
