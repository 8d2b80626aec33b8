package daemon

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// health is what /healthz reports.
type health struct {
	mu         sync.Mutex
	lastPoll   time.Time // end of the last poll that finished
	checkpoint time.Time
	lastErr    string // error of that poll, "" when it succeeded
	polls      int
	stopping   bool
}

func (h *health) polled(at, checkpoint time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polls++
	h.lastPoll, h.checkpoint, h.lastErr = at, checkpoint, ""
	if err != nil {
		h.lastErr = err.Error()
	}
}

func (h *health) setStopping() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopping = true
}

// HealthStatus is the JSON body of /healthz.
type HealthStatus struct {
	// Status is "ok", "starting" (no poll finished yet), "failing" (the
	// last poll failed) or "stopping" (shutdown in progress).
	Status     string    `json:"status"`
	Polls      int       `json:"polls"`
	LastPoll   time.Time `json:"last_poll,omitzero"`
	Checkpoint time.Time `json:"checkpoint,omitzero"`
	Error      string    `json:"error,omitempty"`
}

// status says whether the daemon is healthy and why.
func (h *health) status() (HealthStatus, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := HealthStatus{Status: "ok", Polls: h.polls, LastPoll: h.lastPoll, Checkpoint: h.checkpoint, Error: h.lastErr}
	switch {
	case h.stopping:
		s.Status = "stopping"
	case h.lastErr != "":
		s.Status = "failing"
	case h.polls == 0:
		s.Status = "starting"
	}
	return s, s.Status == "ok" || s.Status == "starting"
}

// Handler serves /metrics (Options.Metrics) and /healthz: 200 while the
// daemon is starting or its last poll succeeded, 503 when that poll failed
// or the daemon is shutting down, with a HealthStatus body either way.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	if d.opt.Metrics != nil {
		mux.Handle("GET /metrics", d.opt.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		s, ok := d.health.status()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}
