package dynamo_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fault is what the proxy does with one request: pass, loseResponse, or
// any other value, a DynamoDB error code to answer with HTTP 400 without
// forwarding the request (e.g. "ThrottlingException").
type fault string

const (
	pass         fault = ""     // forward to moto and return its answer
	loseResponse fault = "lose" // forward to moto, then answer 500 as if its answer was lost
)

// proxy is a loopback HTTP server in front of moto_server that forwards one
// request at a time. moto checks a conditional write's condition and
// applies the write without a lock, so two concurrent requests can both
// pass the same condition, which DynamoDB never allows on one item.
// Serialising the requests restores DynamoDB's per-item atomicity while the
// clients still race each other. fault, when set, may fail a request (as
// a throttle) or lose moto's answer to it, to exercise the store's retries.
type proxy struct {
	URL string

	mu    sync.Mutex
	moto  *httputil.ReverseProxy
	fault func(op string, n int) fault // n counts requests of op, from 1
	calls map[string]int
}

// newProxy starts a proxy in front of motoURL, closed when t ends.
func newProxy(t *testing.T, motoURL string) *proxy {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{moto: httputil.NewSingleHostReverseProxy(target), calls: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// setFault installs f for the requests from now on.
func (p *proxy) setFault(f func(op string, n int) fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	p.calls = map[string]int{}
}

// count returns how many requests of op reached the proxy since setFault.
func (p *proxy) count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// ServeHTTP forwards r to moto under the lock, applying the fault.
func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	p.calls[op]++
	f := pass
	if p.fault != nil {
		f = p.fault(op, p.calls[op])
	}
	switch f {
	case pass:
		p.moto.ServeHTTP(w, r)
	case loseResponse:
		p.moto.ServeHTTP(httptest.NewRecorder(), r)
		awsError(w, http.StatusInternalServerError, "InternalServerError")
	default:
		awsError(w, http.StatusBadRequest, string(f))
	}
}

// awsError writes a DynamoDB JSON error of type code.
func awsError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#` + code + `","message":"injected by the test proxy"}`))
}
