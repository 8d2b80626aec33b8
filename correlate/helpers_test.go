package correlate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/store"
	"hubtriage/store/bolt"
	"hubtriage/store/memstore"
)

// Ids of the fixture findings under testdata/findings.
const (
	instA       = "i-0a1b2c3d4e5f60718"
	sgA         = "sg-0c0ffee0ddba11c0f"
	bucket      = "acme-customer-exports"
	fBackdoor   = "guardduty-backdoor-ec2.json"
	fCVE1       = "inspector2-ec2-cve-2021-44228.json"
	fCVE1b      = "inspector2-ec2-cve-2021-44228-log4j-api.json"
	fCVE2       = "inspector2-ec2-cve-2022-22965.json"
	fCVE3       = "inspector2-ec2-cve-2023-38545.json"
	fMacie      = "macie-sensitive-data-personal.json"
	fExfil      = "guardduty-s3-exfiltration-anomalous.json"
	fEC29       = "control-ec2.9-consolidated.json"
	fEC218      = "control-ec2.18-legacy-sg.json"
	fPortUnused = "guardduty-network-port-unusual.json"
	fSSH        = "guardduty-ssh-bruteforce-target.json"
	// GuardDuty's own EventBridge events, twins of fPortUnused and fSSH.
	fEventPort = "guardduty-event-network-port-unusual.json"
	fEventSSH  = "guardduty-event-ssh-bruteforce-target.json"
)

// fixture loads testdata/findings/name, replacing the top-level fields in
// set, and decodes it.
//
// A GuardDuty event file (guardduty-event-*) is decoded from its detail;
// set then names GuardDuty's fields, not ASFF's.
func fixture(t testing.TB, name string, set map[string]any) *asff.Finding {
	t.Helper()
	if strings.HasPrefix(name, "guardduty-event-") {
		return eventFixture(t, name, set)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "findings", name))
	if err != nil {
		t.Fatal(err)
	}
	return decodeWith(t, b, set)
}

func decodeWith(t testing.TB, b []byte, set map[string]any) *asff.Finding {
	t.Helper()
	if len(set) > 0 {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range set {
			m[k] = v
		}
		var err error
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	f, err := asff.DecodeFinding(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// twin is the Security Hub (ASFF) copy of a GuardDuty event fixture: the
// same finding, so the same identity.
func twin(name string) string {
	return map[string]string{fEventPort: fPortUnused, fEventSSH: fSSH}[name]
}

// asffCopy is name, or its Security Hub twin for a GuardDuty event (whose
// fields the ASFF overrides of a test do not name).
func asffCopy(name string) string {
	if t := twin(name); t != "" {
		return t
	}
	return name
}

// eventFixture loads the GuardDuty EventBridge event testdata/findings/name
// and decodes its finding, replacing the finding's (GuardDuty) top-level
// fields in set.
func eventFixture(t testing.TB, name string, set ...map[string]any) *asff.Finding {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "findings", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return decodeWith(t, ev.Detail, with(set...))
}

// eventAt loads the GuardDuty event testdata/findings/name with its
// finding re-timed as first and last observed at ts.
func eventAt(t testing.TB, name string, ts time.Time) *asff.Finding {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "findings", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	s := ts.UTC().Format(time.RFC3339)
	svc := ev.Detail["service"].(map[string]any)
	svc["eventFirstSeen"], svc["eventLastSeen"] = s, s
	ev.Detail["createdAt"], ev.Detail["updatedAt"] = s, s
	if b, err = json.Marshal(ev.Detail); err != nil {
		t.Fatal(err)
	}
	return decodeWith(t, b, nil)
}

// at re-times a finding as first and last observed at ts.
func at(ts time.Time) map[string]any {
	s := ts.UTC().Format(time.RFC3339)
	return map[string]any{"FirstObservedAt": s, "LastObservedAt": s, "CreatedAt": s, "UpdatedAt": s}
}

// with merges override maps.
func with(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func instanceOn(id string) map[string]any {
	return map[string]any{"Resources": []any{map[string]any{"Type": "AwsEc2Instance", "Id": id}}}
}

var (
	archived = map[string]any{"RecordState": "ARCHIVED"}
	resolved = map[string]any{"Workflow": map[string]any{"Status": "RESOLVED"}}
)

// builtins compiles the built-in rules.
func builtins(t testing.TB) []*Rule {
	t.Helper()
	rules, errs := Compile(Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rules
}

// backend is a store.Index implementation the engine tests run against.
type backend struct {
	name string
	open func(t testing.TB) store.Index
}

// backends are the in-memory index and the real embedded bbolt store.
var backends = []backend{
	{"memstore", func(testing.TB) store.Index { return memstore.New() }},
	{"bolt", func(t testing.TB) store.Index {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

// observeAll observes each finding in order and returns every result.
func observeAll(t testing.TB, e *Engine, fs ...*asff.Finding) []Result {
	t.Helper()
	var out []Result
	for _, f := range fs {
		rs, err := e.Observe(context.Background(), f)
		if err != nil {
			t.Fatalf("Observe %s: %v", f.ID, err)
		}
		out = append(out, rs...)
	}
	return out
}

// ids lists a result's contributing finding ids, sorted.
func ids(r Result) []string {
	var out []string
	for _, c := range r.Contributing {
		out = append(out, c.ID)
	}
	sort.Strings(out)
	return out
}

// spy is a store.Index that records which partitions were touched and how
// many bytes were written.
type spy struct {
	store.Index
	mu      sync.Mutex
	parts   map[string]bool
	written int
	read    int // entries returned by Entries and GetEntry
}

func (s *spy) resetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written, s.read = 0, 0
}

func newSpy(idx store.Index) *spy { return &spy{Index: idx, parts: map[string]bool{}} }

func (s *spy) touch(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts[p] = true
}

func (s *spy) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts = map[string]bool{}
}

func (s *spy) touched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for p := range s.parts {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (s *spy) Put(ctx context.Context, e store.Entry) error {
	s.touch(e.Partition)
	s.mu.Lock()
	s.written += len(e.Value) + len(e.Sort)
	s.mu.Unlock()
	return s.Index.Put(ctx, e)
}

func (s *spy) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	s.touch(e.Partition)
	return s.Index.PutIf(ctx, e, prev)
}

func (s *spy) GetEntry(ctx context.Context, p, k string, now time.Time) (store.Entry, error) {
	s.touch(p)
	e, err := s.Index.GetEntry(ctx, p, k, now)
	if err == nil {
		s.mu.Lock()
		s.read++
		s.mu.Unlock()
	}
	return e, err
}

func (s *spy) Entries(ctx context.Context, p string, now time.Time) ([]store.Entry, error) {
	s.touch(p)
	es, err := s.Index.Entries(ctx, p, now)
	s.mu.Lock()
	s.read += len(es)
	s.mu.Unlock()
	return es, err
}

func (s *spy) Delete(ctx context.Context, p, k string) error {
	s.touch(p)
	return s.Index.Delete(ctx, p, k)
}

// fixed returns a clock stuck at t.
func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }
