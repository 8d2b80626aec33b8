package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"hubtriage/internal/smtptest"
)

// send delivers body from a@example.com to the recipients with net/smtp,
// optionally upgrading with STARTTLS and authenticating with PLAIN.
func send(srv *smtptest.Server, tlsCfg *tls.Config, auth smtp.Auth, to ...string) error {
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if tlsCfg != nil {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// code is the SMTP reply code of err, or 0.
func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestRecordsEnvelopesAndData(t *testing.T) {
	srv := smtptest.Start(t)
	if err := send(srv, nil, nil, "x@example.com", "y@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "a@example.com" || strings.Join(m.To, ",") != "x@example.com,y@example.com" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if !strings.Contains(string(m.Data), "Subject: hi\r\n") || m.TLS || m.Username != "" {
		t.Errorf("message = %+v", m)
	}
}

func TestFailNextQueuesRepliesThenAccepts(t *testing.T) {
	srv := smtptest.Start(t)
	srv.FailNext(2, 451)
	srv.FailNext(1, 550)
	for i, want := range []int{451, 451, 550, 0} {
		if got := code(send(srv, nil, nil, "x@example.com")); got != want {
			t.Fatalf("delivery %d: reply code %d, want %d", i, got, want)
		}
	}
	if n, a := len(srv.Messages()), srv.Attempts(); n != 1 || a != 4 {
		t.Fatalf("messages=%d attempts=%d, want 1 and 4", n, a)
	}
}

func TestRefuseAndAccept(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Refuse()
	if err := send(srv, nil, nil, "x@example.com"); err == nil || code(err) != 0 {
		t.Fatalf("while refusing: err = %v, want a connection error", err)
	}
	if err := srv.Accept(); err != nil {
		t.Fatal(err)
	}
	if err := send(srv, nil, nil, "x@example.com"); err != nil {
		t.Fatalf("after Accept: %v", err)
	}
}

func TestAuthIsRequiredAndChecked(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("user", "s3cret"))
	if err := send(srv, nil, nil, "x@example.com"); code(err)/100 != 5 {
		t.Fatalf("without auth: err = %v, want a 5xx", err)
	}
	if err := send(srv, nil, smtp.PlainAuth("", "user", "wrong", "127.0.0.1"), "x@example.com"); code(err) != 535 {
		t.Fatalf("bad password: err = %v, want 535", err)
	}
	if err := send(srv, nil, smtp.PlainAuth("", "user", "s3cret", "127.0.0.1"), "x@example.com"); err != nil {
		t.Fatalf("good password: %v", err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].Username != "user" {
		t.Fatalf("messages = %+v, want one from user", m)
	}
}

func TestStartTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithTLS(smtptest.TLSStartTLS))
	if err := send(srv, srv.ClientTLSConfig(), nil, "x@example.com"); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("messages = %+v, want one over TLS", m)
	}
}
