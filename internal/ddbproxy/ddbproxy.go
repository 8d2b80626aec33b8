// Package ddbproxy is a loopback HTTP proxy in front of moto_server's
// DynamoDB for tests: it serialises requests (restoring DynamoDB's per-item
// atomicity, which moto lacks), can fail or lose chosen requests to
// exercise retries, and hands every request with its answer to a hook, so a
// test can count and price what a code path sends.
package ddbproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Fault is what the proxy does with one request: Pass, LoseResponse, or any
// other value, a DynamoDB error code to answer with HTTP 400 without
// forwarding the request (e.g. "ThrottlingException").
type Fault string

const (
	Pass         Fault = ""     // forward to moto and return its answer
	LoseResponse Fault = "lose" // forward to moto, then answer 500 as if its answer was lost
)

// Request is one request that reached the proxy, with moto's answer.
type Request struct {
	// Op is the DynamoDB operation (GetItem, UpdateItem, Query, ...).
	Op string
	// Body and Response are the JSON request and response bodies.
	Body, Response []byte
	// Status is the HTTP status answered.
	Status int
}

// ErrorType returns the DynamoDB error type of a failed request (e.g.
// "ConditionalCheckFailedException"), or "".
func (r Request) ErrorType() string {
	if r.Status < 400 {
		return ""
	}
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(r.Response, &e)
	return e.Type[strings.LastIndexByte(e.Type, '#')+1:]
}

// Proxy forwards requests to moto one at a time.
type Proxy struct {
	URL string

	mu    sync.Mutex
	moto  *httputil.ReverseProxy
	fault func(op string, n int) Fault // n counts requests of op, from 1
	calls map[string]int
	after func(Request)
}

// Start starts a proxy in front of motoURL, closed when t ends.
func Start(t testing.TB, motoURL string) *Proxy {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{moto: httputil.NewSingleHostReverseProxy(target), calls: map[string]int{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetFault installs f for the requests from now on and restarts the counts.
func (p *Proxy) SetFault(f func(op string, n int) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
	p.calls = map[string]int{}
}

// Count returns how many requests of op reached the proxy since SetFault.
func (p *Proxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// After installs fn, called with each forwarded request once moto has
// answered and before the next request is forwarded (so fn may read the
// table directly from moto, seeing exactly the request's effect).
func (p *Proxy) After(fn func(Request)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = fn
}

// ServeHTTP forwards r to moto under the lock, applying the fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	p.calls[op]++
	f := Pass
	if p.fault != nil {
		f = p.fault(op, p.calls[op])
	}
	rec := httptest.NewRecorder()
	switch f {
	case Pass:
		p.moto.ServeHTTP(rec, r)
	case LoseResponse:
		p.moto.ServeHTTP(httptest.NewRecorder(), r)
		awsError(rec, http.StatusInternalServerError, "InternalServerError")
	default:
		awsError(rec, http.StatusBadRequest, string(f))
	}
	if p.after != nil && f == Pass {
		p.after(Request{Op: op, Body: body, Response: rec.Body.Bytes(), Status: rec.Code})
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// awsError writes a DynamoDB JSON error of type code.
func awsError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#` + code + `","message":"injected by the test proxy"}`))
}
