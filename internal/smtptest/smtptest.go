// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port for tests: it records every message it accepts, can require
// AUTH PLAIN, can speak STARTTLS or implicit TLS with a throw-away
// certificate, and can be told to fail deliveries or refuse connections.
//
//	srv := smtptest.Start(t, smtptest.WithAuth("user", "secret"))
//	// point the code under test at srv.Host, srv.Port
//	srv.FailNext(1, 451) // next delivery: "451 4.3.0 ..."
//	...
//	msgs := srv.Messages()
//
// A message is recorded only once the server has answered 250 to its DATA,
// which happens before the client's send returns, so tests need not wait.
package smtptest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Envelope is one message the server accepted.
type Envelope struct {
	From     string   // MAIL FROM address
	To       []string // RCPT TO addresses, in order
	Data     []byte   // the raw message as received (headers and body, CRLF line ends)
	Username string   // the AUTH PLAIN user, "" when the client did not authenticate
	TLS      bool     // whether the connection was encrypted (STARTTLS or implicit TLS)
}

// TLS modes of the server.
const (
	TLSNone     = "none"     // plain text, no STARTTLS offered
	TLSStartTLS = "starttls" // plain text with STARTTLS offered
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS)
)

// Option configures Start.
type Option func(*Server)

// WithAuth makes the server offer AUTH PLAIN (also over plain text) and
// require it, with exactly this username and password, before MAIL FROM.
func WithAuth(username, password string) Option {
	return func(s *Server) { s.username, s.password = username, password }
}

// WithTLS sets the server's TLS mode: TLSNone (the default), TLSStartTLS or
// TLSImplicit. ClientTLSConfig trusts the certificate it uses.
func WithTLS(mode string) Option {
	return func(s *Server) { s.tlsMode = mode }
}

// Server is a running test SMTP server. Its methods are safe for concurrent
// use.
type Server struct {
	Addr string // "127.0.0.1:port"
	Host string // "127.0.0.1"
	Port int

	username, password string
	tlsMode            string
	serverTLS          *tls.Config
	clientTLS          *tls.Config
	srv                *smtp.Server

	mu       sync.Mutex
	listener net.Listener // nil while refusing
	messages []Envelope
	attempts int
	failures []failure
	arrived  chan struct{} // closed (and replaced) when a message is accepted
}

// failure is a pending forced reply to DATA.
type failure struct {
	code  int
	count int
}

// Start runs a server on a free loopback port and stops it when the test
// ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{tlsMode: TLSNone, arrived: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if err := s.setupTLS(); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "smtptest.localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	if s.tlsMode == TLSStartTLS {
		s.srv.TLSConfig = s.serverTLS
	}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// setupTLS creates the certificate when the mode needs one.
func (s *Server) setupTLS() error {
	switch s.tlsMode {
	case TLSNone:
		return nil
	case TLSStartTLS, TLSImplicit:
		var err error
		s.serverTLS, s.clientTLS, err = selfSigned()
		return err
	}
	return fmt.Errorf("unknown TLS mode %q", s.tlsMode)
}

// listen binds addr and serves it in the background.
func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	tcp := l.Addr().(*net.TCPAddr)
	s.Addr, s.Host, s.Port = tcp.String(), tcp.IP.String(), tcp.Port
	if s.tlsMode == TLSImplicit {
		l = tls.NewListener(l, s.serverTLS)
	}
	s.mu.Lock()
	s.listener = l
	s.mu.Unlock()
	go func() { _ = s.srv.Serve(l) }()
	return nil
}

// ClientTLSConfig returns a client configuration that trusts the server's
// certificate (nil in TLSNone mode). The certificate is valid for 127.0.0.1
// and localhost.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, len(s.messages))
	copy(out, s.messages)
	return out
}

// WaitMessages blocks until the server has accepted at least n messages
// (true), or until done is closed (false).
func (s *Server) WaitMessages(n int, done <-chan struct{}) bool {
	for {
		s.mu.Lock()
		got, arrived := len(s.messages), s.arrived
		s.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-arrived:
		case <-done:
			return false
		}
	}
}

// Attempts is the number of messages whose DATA the server received,
// accepted or failed.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// FailNext makes the next n deliveries answer DATA with code (e.g. 451 for
// a temporary, 550 for a permanent failure) instead of accepting them.
// Calls queue up: FailNext(1, 451); FailNext(1, 550) fails one delivery
// with each code in that order. A code below 400 queues acceptances, so
// FailNext(1, 250); FailNext(1, 451) accepts one delivery, then fails one.
func (s *Server) FailNext(n, code int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{code: code, count: n})
}

// Refuse stops listening: new connections are refused until Accept.
// Connections already open are not affected.
func (s *Server) Refuse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		_ = s.listener.Close()
		s.listener = nil
	}
}

// Accept listens again on the same address after Refuse.
func (s *Server) Accept() error {
	s.mu.Lock()
	refusing := s.listener == nil
	s.mu.Unlock()
	if !refusing {
		return nil
	}
	return s.listen(net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
}

// nextFailure consumes and returns the forced reply for this delivery, or
// nil to accept it.
func (s *Server) nextFailure() *smtp.SMTPError {
	if len(s.failures) == 0 {
		return nil
	}
	f := &s.failures[0]
	f.count--
	code := f.code
	if f.count == 0 {
		s.failures = s.failures[1:]
	}
	if code < 400 {
		return nil
	}
	class := code / 100
	return &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{class, 0, 0},
		Message:      fmt.Sprintf("smtptest forced failure %d", code),
	}
}

// newSession starts the state of one client connection.
func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

// session is one SMTP connection's state.
type session struct {
	srv  *Server
	conn *smtp.Conn
	user string
	auth bool
	from string
	to   []string
}

// AuthMechanisms offers PLAIN when the server requires credentials.
func (ss *session) AuthMechanisms() []string {
	if ss.srv.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.srv.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != ss.srv.username || password != ss.srv.password {
			return smtp.ErrAuthFailed
		}
		ss.user, ss.auth = username, true
		return nil
	}), nil
}

// Mail starts a message, insisting on AUTH when credentials are configured.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.username != "" && !ss.auth {
		return smtp.ErrAuthRequired
	}
	ss.from, ss.to = from, nil
	return nil
}

// Rcpt adds a recipient.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the message and records it, or answers a forced failure.
func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if f := s.nextFailure(); f != nil {
		return f
	}
	s.messages = append(s.messages, Envelope{From: ss.from, To: ss.to, Data: data, Username: ss.user, TLS: isTLS})
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

// Reset forgets the message in progress.
func (ss *session) Reset() { ss.from, ss.to = "", nil }

// Logout ends the session.
func (ss *session) Logout() error { return nil }
