package daemon_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"hubtriage/daemon"
	"hubtriage/internal/shtest"
	"hubtriage/metrics"
	"hubtriage/reconcile"
)

// served is a daemon running Serve on a loopback port.
type served struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	before []func()
}

// serve starts d.Serve on ln and stops it (waiting for it) when t ends;
// before run first at stop (to release hooks the daemon may wait in).
func serve(t *testing.T, d *daemon.Daemon, ln net.Listener, before ...func()) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{addr: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1), before: before}
	go func() { s.done <- d.Serve(ctx) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels Serve and waits for it to return; a second call is a no-op.
func (s *served) stop(t *testing.T) {
	t.Helper()
	for _, f := range s.before {
		f()
	}
	s.cancel()
	if err, ok := <-s.done; ok {
		if err != nil {
			t.Errorf("Serve returned %v after cancellation, want nil", err)
		}
		close(s.done)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// scrape fetches /metrics and parses the text exposition.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// sample returns the value of name{labels...} ("k=v" pairs): a counter's or
// gauge's value, or a histogram's sample count; -1 when absent.
func sample(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func healthz(t *testing.T, addr string) (int, daemon.HealthStatus) {
	t.Helper()
	resp, err := http.Get(addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s daemon.HealthStatus
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode /healthz: %v", err)
	}
	return resp.StatusCode, s
}

// stepper makes AfterPoll hand each poll to the test and wait until the
// test lets the daemon go on, so the test looks at a still daemon.
type stepper struct {
	polls chan polled
	next  chan struct{}
	quit  chan struct{}
}

type polled struct {
	res daemon.PollResult
	err error
}

func newStepper() *stepper {
	return &stepper{polls: make(chan polled), next: make(chan struct{}), quit: make(chan struct{})}
}

func (s *stepper) afterPoll(res daemon.PollResult, err error) {
	select {
	case s.polls <- polled{res, err}:
	case <-s.quit:
		return
	}
	select {
	case <-s.next:
	case <-s.quit:
	}
}

// wait returns the next poll's result and error; the daemon stays paused.
func (s *stepper) wait(t *testing.T) (daemon.PollResult, error) {
	t.Helper()
	select {
	case p := <-s.polls:
		return p.res, p.err
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("no poll within a minute")
		return daemon.PollResult{}, nil
	}
}

func (s *stepper) resume() { s.next <- struct{}{} }

// release lets the daemon run freely from now on (before stopping it).
func (s *stepper) release() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
}

func newMetrics(t *testing.T, rules ...string) (*metrics.Metrics, http.Handler) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Rules: rules, Channels: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	return m, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func TestServeMetricsHealthzAndStop(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-2*time.Hour), nil), finding(t, "b", now.Add(-time.Hour), nil))
	m, h := newMetrics(t, "rulea")
	step := newStepper()
	ln := listen(t)
	d, _ := e.open(t, daemon.Options{Recorder: m, Metrics: h, Listener: ln, AfterPoll: step.afterPoll})
	s := serve(t, d, ln, step.release)

	if _, err := step.wait(t); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, s.addr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hubtriage_findings_received_total", nil, 2},
		{"hubtriage_findings_matched_total", []string{"rule", "rulea"}, 2},
		{"hubtriage_notifications_total", []string{"rule", "rulea", "kind", "notify"}, 2},
		{"hubtriage_duplicates_total", []string{"rule", "rulea"}, 0},
		{"hubtriage_errors_total", []string{"stage", "process"}, 0},
		{"hubtriage_channel_delivery_seconds", []string{"channel", "ops", "result", "ok"}, 2},
		{"hubtriage_polls_total", []string{"result", "ok"}, 1},
		{"hubtriage_poll_checkpoint_timestamp_seconds", nil, float64(now.Add(-time.Hour).Unix())},
		{"hubtriage_build_info", []string{"goversion", runtime.Version()}, 1},
	} {
		if got := sample(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	code, st := healthz(t, s.addr)
	if code != http.StatusOK || st.Status != "ok" || st.Polls != 1 || !st.Checkpoint.Equal(now.Add(-time.Hour)) {
		t.Errorf("/healthz %d %+v; want 200 ok after one poll, checkpoint at b", code, st)
	}

	// The second poll re-reads b inside the overlap: a duplicate.
	step.resume()
	if _, err := step.wait(t); err != nil {
		t.Fatal(err)
	}
	fams = scrape(t, s.addr)
	if got := sample(fams, "hubtriage_duplicates_total", "rule", "rulea"); got != 1 {
		t.Errorf("duplicates after the second poll = %v, want 1", got)
	}
	s.stop(t)
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the metrics port still accepts connections after Serve returned")
	}
	if got := e.ch.notifications(); len(got) != 2 {
		t.Errorf("notifications %v, want a and b once", got)
	}
}

func TestHealthzFollowsTheLastPoll(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-time.Hour), nil))
	e.srv.FailRequests(shtest.GetFindings, shtest.Attempts, http.StatusInternalServerError, "InternalException")
	m, h := newMetrics(t, "rulea")
	step := newStepper()
	ln := listen(t)
	d, _ := e.open(t, daemon.Options{Recorder: m, Metrics: h, Listener: ln, AfterPoll: step.afterPoll})
	s := serve(t, d, ln, step.release)

	if _, err := step.wait(t); err == nil {
		t.Fatal("first poll succeeded despite the injected failures")
	}
	if code, st := healthz(t, s.addr); code != http.StatusServiceUnavailable || st.Status != "failing" || st.Error == "" {
		t.Errorf("/healthz after a failed poll: %d %+v; want 503 failing with the error", code, st)
	}
	if got := sample(scrape(t, s.addr), "hubtriage_errors_total", "stage", "poll"); got != 1 {
		t.Errorf("poll errors = %v, want 1", got)
	}
	step.resume()
	if _, err := step.wait(t); err != nil {
		t.Fatal(err)
	}
	if code, st := healthz(t, s.addr); code != http.StatusOK || st.Status != "ok" {
		t.Errorf("/healthz after recovery: %d %+v; want 200 ok", code, st)
	}
}

// TestServeReconcilesOnSchedule: a finding archived without a new UpdatedAt
// is invisible to the poller; the scheduled reconcile resolves it.
func TestServeReconcilesOnSchedule(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), nil), finding(t, "b", now.Add(-time.Hour), nil))
	d0, st := e.open(t, daemon.Options{})
	if _, err := d0.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), map[string]any{"RecordState": "ARCHIVED"}))

	rec, err := reconcile.New(reconcile.Options{Store: st, Finder: shtest.Client(t, e.srv.AWSConfig(), shtest.Attempts)})
	if err != nil {
		t.Fatal(err)
	}
	m, h := newMetrics(t, "rulea")
	passes := make(chan reconcile.Summary, 1)
	ln := listen(t)
	d := e.daemon(t, st, daemon.Options{Recorder: m, Metrics: h, Listener: ln, Reconciler: rec,
		ReconcileInterval: time.Hour, PollInterval: time.Hour,
		AfterReconcile: func(s reconcile.Summary, err error) {
			if err == nil {
				passes <- s
			}
		}})
	s := serve(t, d, ln)
	var sum reconcile.Summary
	select {
	case sum = <-passes:
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("no reconcile pass within a minute")
	}
	if want := (reconcile.Summary{Checked: 2, Active: 1, Resolved: 1}); sum != want {
		t.Errorf("reconcile pass %+v, want %+v", sum, want)
	}
	if got := sample(scrape(t, s.addr), "hubtriage_reconcile_findings_total", "outcome", "resolved"); got != 1 {
		t.Errorf("reconcile resolved metric = %v, want 1", got)
	}
	s.stop(t)
}
