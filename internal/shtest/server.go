// Package shtest is an in-process Security Hub for tests: an httptest server
// speaking the REST-JSON protocol of GetFindings (POST /findings),
// GetFindingsV2 (POST /findingsv2, over OCSF findings; see LoadOCSF),
// BatchImportFindings (POST /findings/import) and BatchUpdateFindings
// (PATCH /findings/batchupdate), reachable with the real SDK through
// AWSConfig.
//
// Unlike moto_server it honours GetFindings Filters (the string, date and
// SortCriteria fields listed in SupportedFilters; any other field is
// rejected with InvalidInputException rather than silently ignored), checks
// every request's SigV4 signature against the body it carries, applies the
// documented rules for re-imported findings, and can inject failures:
// whole requests (throttling) and single findings (FailedFindings /
// UnprocessedFindings).
//
// Findings are kept as JSON in import order; GetFindings returns them in that
// order unless SortCriteria say otherwise. NextToken is an offset into the
// matching list, so modifying the store while paging may skip or repeat.
package shtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Static values of the config AWSConfig returns; requests must be signed
// with these credentials.
const (
	Region    = "us-east-1"
	AccessKey = "shtest-access-key"
	SecretKey = "shtest-secret-key"
)

// Operation names a Security Hub API operation the server implements.
type Operation string

// Implemented operations.
const (
	GetFindings         Operation = "GetFindings"
	BatchImportFindings Operation = "BatchImportFindings"
	BatchUpdateFindings Operation = "BatchUpdateFindings"
)

// Request is the record of one request the server answered.
type Request struct {
	Op Operation
	// Status is the HTTP status of the answer.
	Status int
	// Bytes is the size of the request body.
	Bytes int
	// Findings is the number of findings the request carried
	// (BatchImportFindings) or identified (BatchUpdateFindings).
	Findings int
	// Filters is the raw Filters object of a GetFindings request.
	Filters json.RawMessage
	// Attempt is the SDK's attempt number from the amz-sdk-request header
	// (1 for a first attempt, 0 when the header is absent). A retry can
	// follow a 200 whose body the client failed to read (a connection
	// closed under load), so tests that count the requests a client chose
	// to make count first attempts.
	Attempt int
}

// Server is a running fake Security Hub. Its methods are safe for concurrent
// use with requests in flight.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:40123.
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	findings []*finding
	index    map[key]int
	ocsf     []ocsfFinding
	faults   map[Operation][]requestFault
	itemFail map[Operation]map[string]*itemFault
	log      []Request
	now      func() time.Time
}

// key is a finding's identity in Security Hub.
type key struct{ productArn, id string }

// requestFault is one injected failure of a whole request.
type requestFault struct {
	status int
	code   string
}

// itemFault fails one finding in FailedFindings/UnprocessedFindings.
type itemFault struct {
	code, message string
	remaining     int // < 0: forever
}

// New starts a server and stops it when tb's test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		index:    map[key]int{},
		faults:   map[Operation][]requestFault{},
		itemFail: map[Operation]map[string]*itemFault{},
		now:      time.Now,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// AWSConfig returns a config whose clients talk to this server: static
// credentials AccessKey/SecretKey, region Region and BaseEndpoint URL.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		BaseEndpoint: aws.String(s.URL),
	}
}

// SetNow replaces the server's clock (used for DateFilter DateRange and
// Note.UpdatedAt).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Load stores findings as BatchImportFindings would, without a request and
// without injected faults. It fails on the first finding that is not a JSON
// object with a string Id and ProductArn.
func (s *Server) Load(findings ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, raw := range findings {
		f, err := parseFinding(raw)
		if err != nil {
			return fmt.Errorf("load finding %d: %w", i, err)
		}
		s.put(f)
	}
	return nil
}

// Findings returns every stored finding as JSON, in import order.
func (s *Server) Findings() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.findings))
	for i, f := range s.findings {
		out[i] = f.json()
	}
	return out
}

// Finding returns the stored finding (ProductArn, Id) as JSON.
func (s *Server) Finding(productArn, id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[key{productArn, id}]
	if !ok {
		return nil, false
	}
	return s.findings[i].json(), true
}

// FailRequests makes the next n requests of op fail with HTTP status and
// the error code (sent as X-Amzn-ErrorType and in the body).
func (s *Server) FailRequests(op Operation, n, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], requestFault{status: status, code: code})
	}
}

// Throttle makes the next n requests of op fail as Security Hub throttles:
// HTTP 429 TooManyRequestsException.
func (s *Server) Throttle(op Operation, n int) {
	s.FailRequests(op, n, http.StatusTooManyRequests, "TooManyRequestsException")
}

// FailFinding makes the next times requests of op (BatchImportFindings or
// BatchUpdateFindings) that carry finding id report it as failed with code
// and message instead of storing or updating it; times < 0 fails it always.
func (s *Server) FailFinding(op Operation, id, code, message string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.itemFail[op] == nil {
		s.itemFail[op] = map[string]*itemFault{}
	}
	s.itemFail[op][id] = &itemFault{code: code, message: message, remaining: times}
}

// Requests returns the log of answered requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count returns how many requests of op the server answered, failed ones
// included.
func (s *Server) Count(op Operation) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op {
			n++
		}
	}
	return n
}

// route maps method and path to the operation.
func route(r *http.Request) (Operation, bool) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/findings":
		return GetFindings, true
	case r.Method == http.MethodPost && r.URL.Path == "/findingsv2":
		return GetFindingsV2, true
	case r.Method == http.MethodPost && r.URL.Path == "/findings/import":
		return BatchImportFindings, true
	case r.Method == http.MethodPatch && r.URL.Path == "/findings/batchupdate":
		return BatchUpdateFindings, true
	}
	return "", false
}

// serveHTTP authenticates, applies injected request faults, then runs the
// operation.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := route(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, Request{Op: op}, http.StatusBadRequest, "InvalidInputException", "read body: "+err.Error())
		return
	}
	rec := Request{Op: op, Bytes: len(body), Attempt: attempt(r)}
	if !ok {
		s.fail(w, rec, http.StatusNotFound, "UnknownOperationException", "shtest does not implement "+r.Method+" "+r.URL.Path)
		return
	}
	if err := verifySignature(r, body); err != nil {
		s.fail(w, rec, http.StatusForbidden, "InvalidSignatureException", err.Error())
		return
	}
	if f, ok := s.takeFault(op); ok {
		s.fail(w, rec, f.status, f.code, "shtest: injected failure")
		return
	}
	var resp any
	switch op {
	case GetFindings:
		resp, rec.Filters, err = s.getFindings(body)
	case GetFindingsV2:
		resp, rec.Filters, err = s.getFindingsV2(body)
	case BatchImportFindings:
		resp, rec.Findings, err = s.batchImport(body)
	case BatchUpdateFindings:
		resp, rec.Findings, err = s.batchUpdate(body)
	}
	if err != nil {
		code := "InvalidInputException"
		if op == GetFindingsV2 {
			code = "ValidationException" // the V2 operations' error for bad input
		}
		s.fail(w, rec, http.StatusBadRequest, code, err.Error())
		return
	}
	s.reply(w, rec, http.StatusOK, resp)
}

// attempt reads the attempt number of the SDK's amz-sdk-request header
// ("attempt=2; max=5").
func attempt(r *http.Request) int {
	for _, part := range strings.Split(r.Header.Get("amz-sdk-request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// FirstAttempts returns the logged requests of op that were first attempts:
// the requests the client chose to make, without the SDK's retries.
func (s *Server) FirstAttempts(op Operation) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Op == op && r.Attempt == 1 {
			out = append(out, r)
		}
	}
	return out
}

// takeFault pops the next injected failure of op.
func (s *Server) takeFault(op Operation) (requestFault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return requestFault{}, false
	}
	s.faults[op] = q[1:]
	return q[0], true
}

// takeItemFault reports whether finding id must fail in this request of op.
// The caller holds s.mu.
func (s *Server) takeItemFault(op Operation, id string) (*itemFault, bool) {
	f, ok := s.itemFail[op][id]
	if !ok || f.remaining == 0 {
		return nil, false
	}
	if f.remaining > 0 {
		f.remaining--
	}
	return f, true
}

// fail answers with a REST-JSON error.
func (s *Server) fail(w http.ResponseWriter, rec Request, status int, code, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	s.reply(w, rec, status, map[string]string{"Code": code, "Message": message})
}

// reply writes v as JSON and logs the request.
func (s *Server) reply(w http.ResponseWriter, rec Request, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		fmt.Fprintf(&b, `{"Code":"InternalException","Message":%q}`, err.Error())
	}
	rec.Status = status
	s.mu.Lock()
	s.log = append(s.log, rec)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
