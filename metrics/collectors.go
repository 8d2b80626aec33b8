package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"hubtriage/internal/buildinfo"
)

// namespace prefixes every metric name.
const namespace = "hubtriage"

// deliveryBuckets spans a fast local relay (ms) to a slow SMTP server or
// throttled API with retries (tens of seconds).
var deliveryBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// build creates the collectors, unregistered.
func build() *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}
	return &Metrics{
		received:   counter("findings_received_total", "Findings read from Security Hub."),
		matched:    counterVec("findings_matched_total", "Findings matched by a rule (one per finding and rule).", "rule"),
		notified:   counterVec("notifications_total", "Notifications sent, by rule and kind (notify, renotify, recurrence).", "rule", "kind"),
		duplicates: counterVec("duplicates_total", "Matched findings suppressed as already notified.", "rule"),
		resolved:   counterVec("resolved_total", "Notified findings whose state was cleared because they went inactive.", "rule"),
		filtered:   counter("findings_filtered_total", "Findings matched by no rule (or inactive and untracked)."),
		correlated: counterVec("correlations_total", "Correlation decisions.", "rule"),
		errors:     counterVec("errors_total", "Failures, by stage (decode, process, poll, checkpoint, reconcile).", "stage"),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "channel_delivery_seconds",
			Help:    "Time a channel took to accept (or refuse) one notification.",
			Buckets: deliveryBuckets,
		}, []string{"channel", "result"}),
		polls:      counterVec("polls_total", "Polls of Security Hub, by result.", "result"),
		checkpoint: gauge("poll_checkpoint_timestamp_seconds", "UpdatedAt up to which every finding has been processed."),
		lastPoll:   gauge("last_successful_poll_timestamp_seconds", "When the last successful poll ended."),
		reconciled: counterVec("reconcile_findings_total", "Tracked findings checked by reconcile, by outcome.", "outcome"),
		buildInfo:  buildInfoGauge(buildinfo.Read()),
	}
}

// buildInfoGauge is hubtriage_build_info: always 1, its labels say which
// build is running (join on it to annotate dashboards and alerts).
func buildInfoGauge(info buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels name the running build (module version, VCS revision, Go version).",
		ConstLabels: prometheus.Labels{"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion},
	})
	g.Set(1)
	return g
}
