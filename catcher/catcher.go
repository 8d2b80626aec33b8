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
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Options configures Serve.
type Options struct {
	Addr string // listen address, e.g. 127.0.0.1:2525
	// Dir, when set, receives each message as an .eml file; it is created
	// if missing, and files already there are never overwritten (a
	// restarted catcher numbers on from the highest it finds).
	Dir string
	Log *slog.Logger
}

// Serve accepts messages until ctx is cancelled. A Dir that cannot be
// created or written, or an address that cannot be listened on, is an error
// before any message is accepted.
func Serve(ctx context.Context, opt Options) error {
	b := &backend{opt: opt}
	if opt.Dir != "" {
		if err := b.prepareDir(); err != nil {
			return err
		}
	}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	l, err := net.Listen("tcp", opt.Addr)
	if err != nil {
		return fmt.Errorf("smtp-catcher: %w", err)
	}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	opt.Log.Info("listening", "addr", l.Addr().String(), "dir", opt.Dir)
	if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && ctx.Err() == nil {
		return err
	}
	return nil
}

type backend struct {
	opt Options
	n   atomic.Int64
}

// prepareDir creates Dir, checks that it is writable, and starts numbering
// after the highest NNNN.eml already there.
func (b *backend) prepareDir() error {
	if err := os.MkdirAll(b.opt.Dir, 0o700); err != nil {
		return fmt.Errorf("smtp-catcher --dir: %w", err)
	}
	probe, err := os.CreateTemp(b.opt.Dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("smtp-catcher --dir %s is not writable: %w", b.opt.Dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	entries, err := os.ReadDir(b.opt.Dir)
	if err != nil {
		return fmt.Errorf("smtp-catcher --dir: %w", err)
	}
	for _, e := range entries {
		var n int64
		if _, err := fmt.Sscanf(e.Name(), "%d.eml", &n); err == nil && n > b.n.Load() {
			b.n.Store(n)
		}
	}
	return nil
}

// save writes raw as the next free NNNN.eml, never replacing a file.
func (b *backend) save(raw []byte) (string, error) {
	for {
		name := filepath.Join(b.opt.Dir, fmt.Sprintf("%04d.eml", b.n.Add(1)))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(raw); err != nil {
			f.Close()
			return "", err
		}
		return name, f.Close()
	}
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

// Data reports the message and saves it; the subject is sender-controlled
// text, which the logger quotes.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	subject := ""
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		subject, _ = new(mimeDecoder).decode(m.Header.Get("Subject"))
	}
	file := ""
	if s.b.opt.Dir != "" {
		if file, err = s.b.save(raw); err != nil {
			s.b.opt.Log.Error("save message", "err", err)
			return err
		}
	}
	s.b.opt.Log.Info("caught message", "from", s.from, "to", s.to, "subject", subject, "file", file)
	return nil
}
