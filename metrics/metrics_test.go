package metrics_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hubtriage/metrics"
	"hubtriage/pipeline"
	"hubtriage/reconcile"
)

// value returns the value of the series name{labels} in reg (counter,
// gauge, or a histogram's sample count), failing when it does not exist.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue()
				case m.Gauge != nil:
					return m.Gauge.GetValue()
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount())
				}
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// hasLabels reports whether m carries every name=value pair of labels.
func hasLabels(m *dto.Metric, labels []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		if have[k] != v {
			return false
		}
	}
	return true
}

func TestDecisionsAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Rules: []string{"crit", "quiet"}, Channels: []string{"ops"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []pipeline.Decision{
		{FindingID: "a", Rule: "crit", Decision: pipeline.DecisionNotify},
		{FindingID: "b", Rule: "crit", Decision: pipeline.DecisionRecurrence},
		{FindingID: "a", Rule: "crit", Decision: pipeline.DecisionDuplicate},
		{FindingID: "c", Rule: "crit", Decision: pipeline.DecisionError},
		{FindingID: "d", Rule: "crit", Decision: pipeline.DecisionResolved},
		{FindingID: "e", Decision: pipeline.DecisionFiltered},
		{Decision: pipeline.DecisionError}, // did not decode
	} {
		m.Decided(d)
	}
	m.Delivered("ops", 30*time.Millisecond, nil)
	m.Delivered("ops", 2*time.Second, errors.New("421 try later"))
	m.Received(7)
	m.Reconciled(reconcile.Summary{Checked: 4, Active: 2, Resolved: 1, Errors: 1}, nil)

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hubtriage_findings_received_total", nil, 7},
		{"hubtriage_findings_matched_total", []string{"rule=crit"}, 4},
		{"hubtriage_findings_matched_total", []string{"rule=quiet"}, 0},
		{"hubtriage_notifications_total", []string{"rule=crit", "kind=notify"}, 1},
		{"hubtriage_notifications_total", []string{"rule=crit", "kind=recurrence"}, 1},
		{"hubtriage_notifications_total", []string{"rule=crit", "kind=renotify"}, 0},
		{"hubtriage_duplicates_total", []string{"rule=crit"}, 1},
		{"hubtriage_resolved_total", []string{"rule=crit"}, 1},
		{"hubtriage_findings_filtered_total", nil, 1},
		{"hubtriage_errors_total", []string{"stage=process"}, 1},
		{"hubtriage_errors_total", []string{"stage=decode"}, 1},
		{"hubtriage_errors_total", []string{"stage=reconcile"}, 1},
		{"hubtriage_channel_delivery_seconds", []string{"channel=ops", "result=ok"}, 1},
		{"hubtriage_channel_delivery_seconds", []string{"channel=ops", "result=error"}, 1},
		{"hubtriage_reconcile_findings_total", []string{"outcome=resolved"}, 1},
		{"hubtriage_reconcile_findings_total", []string{"outcome=active"}, 2},
	} {
		if got := value(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestOwnRegistryPerInstance(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
	if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{}); err != nil {
		t.Errorf("a second registry: %v", err)
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	m.Decided(pipeline.Decision{Decision: pipeline.DecisionNotify})
	m.Delivered("ops", time.Second, nil)
	m.Received(1)
	m.Polled(time.Now(), nil)
	m.Checkpointed(time.Now(), nil)
	m.Reconciled(reconcile.Summary{}, nil)
}

func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "hubtriage_build_info" {
			continue
		}
		if len(f.GetMetric()) != 1 || f.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Fatalf("hubtriage_build_info = %v; want one series of value 1", f.GetMetric())
		}
		got := map[string]string{}
		for _, l := range f.GetMetric()[0].GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if got["goversion"] != runtime.Version() || got["version"] == "" || got["revision"] == "" || len(got) != 3 {
			t.Errorf("labels %v; want version, revision and goversion=%s", got, runtime.Version())
		}
		return
	}
	t.Error("no hubtriage_build_info")
}
