package pipeline

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/filter"
	"hubtriage/internal/filtertest"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/fixtures/asfftest"
	"hubtriage/notify"
	"hubtriage/store"
	"hubtriage/store/bolt"
)

func decode(t testing.TB, b []byte) *asff.Finding {
	t.Helper()
	f, err := asff.DecodeFinding(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return f
}

// withState returns the finding's JSON with RecordState replaced.
func withState(t testing.TB, b []byte, state string) *asff.Finding {
	f := decode(t, bytes.Replace(b, []byte(`"RecordState": "ACTIVE"`), []byte(`"RecordState": "`+state+`"`), 1))
	if f.RecordState != state {
		t.Fatalf("fixture RecordState not replaced (got %q)", f.RecordState)
	}
	return f
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// recorder is a channel that records what it was asked to send and fails
// while failures > 0.
type recorder struct {
	name     string
	mu       sync.Mutex
	sent     []notify.Notification
	failures atomic.Int32
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(_ context.Context, n notify.Notification) (bool, error) {
	if r.failures.Add(-1) >= 0 {
		return true, errors.New("451 try again later")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
	return false, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func mustFilter(t testing.TB, js string) *filter.Filters {
	t.Helper()
	f, err := filtertest.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// clock is a settable pipeline clock.
type clock struct{ now atomic.Pointer[time.Time] }

func (c *clock) set(t time.Time) { c.now.Store(&t) }
func (c *clock) Now() time.Time  { return *c.now.Load() }

func sliceSource(fs ...*asff.Finding) Source {
	return func(ctx context.Context, fn func(asff.Result) error) error {
		for _, f := range fs {
			if err := fn(asff.Result{Finding: f}); err != nil {
				return err
			}
		}
		return nil
	}
}

func runAll(t testing.TB, p *Pipeline, fs ...*asff.Finding) ([]Decision, Summary) {
	t.Helper()
	var out []Decision
	sum, err := p.Run(context.Background(), sliceSource(fs...), func(d Decision) error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out, sum
}

func decisions(ds []Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Decision)
	}
	return strings.Join(s, ",")
}

var day = 24 * time.Hour

func TestDecisionSequence(t *testing.T) {
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	active := decode(t, raw)
	archived := withState(t, raw, "ARCHIVED")
	ch := &recorder{name: "secops"}
	var c clock
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	c.set(t0)
	p, err := New(Options{
		Rules: []Rule{{Name: "medium-up", Filter: mustFilter(t, `{"SeverityLabel":[{"Value":"MEDIUM","Comparison":"EQUALS"}]}`),
			RenotifyAfter: 15 * day, Channels: []notify.Channel{ch}}},
		Store: openStore(t), Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at   time.Duration
		f    *asff.Finding
		want string
		sent int
	}{
		{0, active, DecisionNotify, 1},
		{1 * day, active, DecisionDuplicate, 1},
		{14 * day, active, DecisionDuplicate, 1},
		{15 * day, active, DecisionRenotify, 2},
		{16 * day, active, DecisionDuplicate, 2},
		{29 * day, active, DecisionDuplicate, 2},
		{30 * day, active, DecisionRenotify, 3},
		{31 * day, archived, DecisionResolved, 3},
		{32 * day, archived, DecisionFiltered, 3},
		{33 * day, active, DecisionRecurrence, 4},
		{34 * day, active, DecisionDuplicate, 4},
	}
	for i, s := range steps {
		c.set(t0.Add(s.at))
		ds, _ := runAll(t, p, s.f)
		if len(ds) != 1 || ds[0].Decision != s.want {
			t.Fatalf("step %d (day %d): decisions %s %+v, want %s", i, s.at/day, decisions(ds), ds, s.want)
		}
		if got := ch.count(); got != s.sent {
			t.Fatalf("step %d: %d notifications sent, want %d", i, got, s.sent)
		}
	}
	if got := ch.sent[1]; got.Reason != notify.ReasonRenotify || got.OpenSince.IsZero() {
		t.Errorf("renotify notification = %+v", got)
	}
	if got := ch.sent[3].Reason; got != notify.ReasonRecurrence {
		t.Errorf("recurrence reason = %s", got)
	}
}

func TestInactiveFindingsClearState(t *testing.T) {
	raw := fixtures.Read(t, "findings/control-consolidated-CloudTrail.2.json")
	passed := decode(t, bytes.Replace(raw, []byte(`"Status": "FAILED"`), []byte(`"Status": "PASSED"`), 1))
	resolved := decode(t, bytes.Replace(raw, []byte(`"Status": "NEW"`), []byte(`"Status": "RESOLVED"`), 1))
	suppressed := decode(t, bytes.Replace(raw, []byte(`"Status": "NEW"`), []byte(`"Status": "SUPPRESSED"`), 1))
	for name, inactive := range map[string]*asff.Finding{"compliance passed": passed, "workflow resolved": resolved, "workflow suppressed": suppressed} {
		t.Run(name, func(t *testing.T) {
			if inactive.Active() {
				t.Fatal("fixture edit did not make the finding inactive")
			}
			p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: openStore(t)})
			ds, _ := runAll(t, p, decode(t, raw), inactive, decode(t, raw))
			if got := decisions(ds); got != "notify,resolved,recurrence" {
				t.Errorf("decisions = %s", got)
			}
		})
	}
}

func TestControlFindingsAcrossStandardsAlertOnce(t *testing.T) {
	ch := &recorder{name: "secops"}
	p, _ := New(Options{Rules: []Rule{{Name: "controls", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}}, Store: openStore(t)})
	ds, _ := runAll(t, p,
		asfftest.Finding(t, "findings/control-consolidated-CloudTrail.2.json"),
		asfftest.Finding(t, "findings/control-fsbp-CloudTrail.2-legacy.json"),
		asfftest.Finding(t, "findings/control-cis-1.2.0-2.7-legacy.json"),
		asfftest.Finding(t, "findings/control-pci-dss-legacy.json"),
	)
	if got := decisions(ds); got != "notify,duplicate,duplicate,duplicate" {
		t.Errorf("decisions = %s", got)
	}
	if ch.count() != 1 {
		t.Errorf("sent %d emails, want 1", ch.count())
	}
}

// TestConcurrentOneNotification runs 50 goroutines, each with its own
// pipeline on one store, all delivering the same finding at once.
func TestConcurrentOneNotification(t *testing.T) {
	f := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	st := openStore(t)
	ch := &recorder{name: "secops"}
	var wg sync.WaitGroup
	var notified atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}}, Store: st})
			ds, _ := runAll(t, p, f, f)
			for _, d := range ds {
				// pending: another pipeline held the claim at that moment.
				if d.Decision == DecisionNotify {
					notified.Add(1)
				} else if d.Decision != DecisionDuplicate && d.Decision != DecisionPending {
					t.Errorf("unexpected decision %+v", d)
				}
			}
		}()
	}
	wg.Wait()
	if ch.count() != 1 || notified.Load() != 1 {
		t.Fatalf("sent %d, notify decisions %d; want exactly 1", ch.count(), notified.Load())
	}
}

func TestChannelFailureThenRecovery(t *testing.T) {
	f := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	ch := &recorder{name: "secops"}
	ch.failures.Store(1)
	p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}}, Store: openStore(t)})

	ds, sum := runAll(t, p, f)
	if got := decisions(ds); got != "error" || sum.Errors != 1 {
		t.Fatalf("first run: %s %+v", got, sum)
	}
	if !strings.Contains(ds[0].Reason, "451") || !strings.Contains(ds[0].Reason, "pending") {
		t.Errorf("error reason = %q", ds[0].Reason)
	}
	// The next run retries the parked finding even without new input.
	ds, _ = runAll(t, p)
	if got := decisions(ds); got != "notify" {
		t.Fatalf("retry run: %s", got)
	}
	ds, _ = runAll(t, p, f)
	if got := decisions(ds); got != "duplicate" {
		t.Fatalf("after recovery: %s", got)
	}
	if ds, _ = runAll(t, p); len(ds) != 0 {
		t.Fatalf("pending not cleared: %+v", ds)
	}
	if ch.count() != 1 {
		t.Fatalf("alerted %d times, want once", ch.count())
	}
}

// countingObserver counts the decisions the pipeline reports to its
// observer (the daemon's metrics), by kind.
type countingObserver struct {
	mu      sync.Mutex
	decided map[string]int
}

func (o *countingObserver) Decided(d Decision) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.decided[d.Decision]++
}

func (o *countingObserver) Delivered(string, time.Duration, error) {}

// TestRetriedDeliveryIsObserved: a parked delivery that succeeds on a later
// run is a notify the metrics count, not only the summary.
func TestRetriedDeliveryIsObserved(t *testing.T) {
	f := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	ch := &recorder{name: "secops"}
	ch.failures.Store(1)
	obs := &countingObserver{decided: map[string]int{}}
	p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}},
		Store: openStore(t), Observer: obs})
	runAll(t, p, f)
	ds, sum := runAll(t, p)
	if got := decisions(ds); got != "notify" || sum.Notified != 1 {
		t.Fatalf("retry run: %s %+v", got, sum)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.decided[DecisionError] != 1 || obs.decided[DecisionNotify] != 1 {
		t.Fatalf("observer saw %v, want the first run's error and the retry's notify", obs.decided)
	}
}

func TestPartialChannelFailureRetriesOnlyFailedChannel(t *testing.T) {
	f := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	good, bad := &recorder{name: "mail"}, &recorder{name: "ses"}
	bad.failures.Store(1)
	p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{good, bad}}}, Store: openStore(t)})
	ds, _ := runAll(t, p, f)
	if ds[0].Decision != DecisionError || strings.Join(ds[0].Channels, ",") != "mail" {
		t.Fatalf("first: %+v", ds[0])
	}
	ds, _ = runAll(t, p, f)
	if ds[0].Decision != DecisionNotify || strings.Join(ds[0].Channels, ",") != "ses" {
		t.Fatalf("second: %+v", ds[0])
	}
	if good.count() != 1 || bad.count() != 1 {
		t.Fatalf("mail %d, ses %d; want 1 each", good.count(), bad.count())
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	f := decode(t, raw)
	st := openStore(t)
	ch := &recorder{name: "secops"}
	rules := []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}}
	dry := func() *Pipeline {
		p, _ := New(DryRun(Options{Rules: rules, Store: st}))
		return p
	}
	// Within one dry run, later copies see what earlier ones would have done.
	ds, _ := runAll(t, dry(), f, f, withState(t, raw, "ARCHIVED"), f)
	if got := decisions(ds); got != "notify,duplicate,resolved,recurrence" {
		t.Fatalf("dry run: %s", got)
	}
	if ch.count() != 0 {
		t.Fatal("dry run sent")
	}
	if _, err := st.Get(context.Background(), dedupKey("all", "secops", f)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dry run recorded state: %v", err)
	}
	if ds, _ := runAll(t, dry(), f); decisions(ds) != "notify" {
		t.Fatalf("second dry run: %s", decisions(ds))
	}
	real, _ := New(Options{Rules: rules, Store: st})
	runAll(t, real, f)
	if ds, _ := runAll(t, dry(), f); decisions(ds) != "duplicate" {
		t.Fatalf("dry run after real run: %s", decisions(ds))
	}
}

func TestRuleWithoutChannelsIsRecorded(t *testing.T) {
	f := asfftest.Finding(t, "findings/guardduty-ssh-bruteforce.json")
	p, _ := New(Options{Rules: []Rule{
		{Name: "report", Filter: &filter.Filters{}},
		{Name: "high-only", Filter: mustFilter(t, `{"SeverityLabel":[{"Value":"HIGH","Comparison":"EQUALS"}]}`)},
	}, Store: openStore(t)})
	ds, sum := runAll(t, p, f, f)
	if got := decisions(ds); got != "notify,duplicate" {
		t.Fatalf("decisions = %s", got)
	}
	if ds[0].Rule != "report" || sum.Read != 2 || sum.Matched != 2 {
		t.Fatalf("decisions %+v summary %+v", ds, sum)
	}
}

func TestOutputKeepsInputOrder(t *testing.T) {
	var fs []*asff.Finding
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	for i := range 2000 {
		b := bytes.Replace(raw, []byte(`"Id": "arn:aws::guardduty`), []byte(`"Id": "`+strings.Repeat("x", i%7)+string(rune('a'+i%26))+`-`+strconv.Itoa(i)+`-arn:aws::guardduty`), 1)
		fs = append(fs, decode(t, b))
	}
	p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: openStore(t), Workers: 8})
	ds, sum := runAll(t, p, fs...)
	if len(ds) != len(fs) || sum.Notified != int64(len(fs)) {
		t.Fatalf("%d decisions, summary %+v", len(ds), sum)
	}
	for i, d := range ds {
		if d.FindingID != fs[i].ID {
			t.Fatalf("decision %d is for %s, want %s", i, d.FindingID, fs[i].ID)
		}
	}
}

// TestResolvedFindingIsNotRetried: a delivery that failed is parked, but if
// the finding goes inactive before the retry, it is dropped, not alerted.
func TestResolvedFindingIsNotRetried(t *testing.T) {
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	ch := &recorder{name: "secops"}
	ch.failures.Store(1)
	p, _ := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}}}, Store: openStore(t)})
	if ds, _ := runAll(t, p, decode(t, raw)); decisions(ds) != "error" {
		t.Fatalf("first run: %s", decisions(ds))
	}
	if ds, _ := runAll(t, p, withState(t, raw, "ARCHIVED")); decisions(ds) != "filtered" {
		t.Fatalf("archived: %s", decisions(ds))
	}
	if ds, _ := runAll(t, p); len(ds) != 0 || ch.count() != 0 {
		t.Fatalf("parked delivery of a resolved finding was retried: %+v, %d sent", ds, ch.count())
	}
}
