// Package catcher is a tiny SMTP server for trying hubtriage locally: it
// accepts every message on a loopback address and reports it, and can
// save each as an .eml file to open in a mail client or browser.
package catcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Options configures Serve.
type Options struct {
	Addr string // listen address, e.g. 127.0.0.1:2525
	Dir  string // when set, each message is saved there as NNNN.eml
	Log  io.Writer
}

// Serve accepts messages until ctx is cancelled.
func Serve(ctx context.Context, opt Options) error {
	c := &backend{opt: opt}
	srv := smtp.NewServer(c)
	srv.Addr = opt.Addr
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(opt.Log, "catcher: listening on %s\n", opt.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, smtp.ErrServerClosed) && ctx.Err() == nil {
		return err
	}
	return nil
}

type backend struct {
	opt Options
	n   atomic.Int64
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b: b}, nil }

type session struct {
	b    *backend
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                      { s.from, s.to = "", nil }
func (s *session) Logout() error                               { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	n := s.b.n.Add(1)
	subject := ""
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		subject, _ = new(mimeDecoder).decode(m.Header.Get("Subject"))
	}
	fmt.Fprintf(s.b.opt.Log, "catcher: #%d from %s to %v: %s\n", n, s.from, s.to, subject)
	if s.b.opt.Dir == "" {
		return nil
	}
	return os.WriteFile(filepath.Join(s.b.opt.Dir, fmt.Sprintf("%04d.eml", n)), raw, 0o600)
}
