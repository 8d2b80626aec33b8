package smtp_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/internal/smtptest"
	"hubtriage/notify"
	"hubtriage/notify/smtp"
)

const password = "pa55-w0rd!Sekr3t"

// notification is a GuardDuty-like finding whose text fields carry markup,
// non-ASCII text and a header-injection attempt.
func notification() notify.Notification {
	return notify.Notification{
		Finding: &asff.Finding{
			ID:           "arn:aws:guardduty:eu-central-1:111122223333:detector/d/finding/f",
			ProductArn:   "arn:aws:securityhub:eu-central-1::product/aws/guardduty",
			ProductName:  "GuardDuty",
			AwsAccountID: "111122223333",
			Region:       "eu-central-1",
			Severity:     asff.Severity{Label: "HIGH"},
			Title:        "Zugriff über <script>alert(1)</script>\r\nBcc: victim@example.com",
			Description:  "Grüße & <b>bold</b> claims\nsecond line",
			Resources: []asff.Resource{{Type: "AwsEc2Instance", ID: "i-0abc", Region: "eu-central-1",
				Tags: map[string]string{"Owner": "<img src=x onerror=alert(2)>"}}},
			FirstObservedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		},
		Rule:   "guardduty-high",
		Reason: notify.ReasonNew,
		Now:    time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC),
	}
}

// config points a channel at srv.
func config(srv *smtptest.Server, tlsMode string, to ...string) smtp.Config {
	if len(to) == 0 {
		to = []string{"secops@example.com"}
	}
	return smtp.Config{Host: srv.Host, Port: srv.Port, TLS: tlsMode,
		From: "Hub Triage <hubtriage@alerts.example.com>", To: to, Timeout: 5 * time.Second}
}

// newChannel builds a channel or fails the test.
func newChannel(t *testing.T, cfg smtp.Config) *smtp.Channel {
	t.Helper()
	ch, err := smtp.New("mail", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// newTrustingChannel is newChannel trusting tlsCfg's roots (a loopback
// server's certificate).
func newTrustingChannel(t *testing.T, cfg smtp.Config, tlsCfg *tls.Config) *smtp.Channel {
	t.Helper()
	ch, err := smtp.NewWithTLSConfig("mail", cfg, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// parsed is a received message taken apart.
type parsed struct {
	header mail.Header
	parts  map[string]string // content type -> decoded body, CRLF turned into LF
}

// parse decodes a raw multipart/alternative message.
func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, raw)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	p := parsed{header: msg.Header, parts: map[string]string{}}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.parts[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	return p
}

func TestDeliversOneMultipartMessageToAllRecipients(t *testing.T) {
	srv := smtptest.Start(t)
	to := []string{"secops@example.com", "Oncall <oncall@example.org>"}
	ch := newChannel(t, config(srv, smtp.TLSNone, to...))
	n := notification()
	if retry, err := ch.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: retry=%v err=%v", retry, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want exactly 1 for all recipients", len(msgs))
	}
	env := msgs[0]
	if env.From != "hubtriage@alerts.example.com" || !slices.Equal(env.To, []string{"secops@example.com", "oncall@example.org"}) {
		t.Errorf("envelope %s -> %v", env.From, env.To)
	}
	want, err := notify.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, env.Data)
	subject, err := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject"))
	if err != nil || subject != want.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, want.Subject)
	}
	if !strings.Contains(want.Subject, "über") {
		t.Fatalf("test premise: subject should carry non-ASCII, got %q", want.Subject)
	}
	if got.parts["text/plain"] != strings.ReplaceAll(want.Text, "\r\n", "\n") {
		t.Errorf("text part differs from the rendering:\n%s", got.parts["text/plain"])
	}
	if got.parts["text/html"] != want.HTML {
		t.Errorf("html part differs from the rendering:\n%s", got.parts["text/html"])
	}
	if id := got.header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@alerts.example.com>") {
		t.Errorf("Message-ID = %q, want <...@alerts.example.com>", id)
	}
	if _, err := got.header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if got.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got.header.Get("Auto-Submitted"))
	}
	if to, _ := got.header.AddressList("To"); len(to) != 2 {
		t.Errorf("To header lists %d recipients, want 2", len(to))
	}
}

func TestEscapingSurvivesMIMEEncoding(t *testing.T) {
	srv := smtptest.Start(t)
	ch := newChannel(t, config(srv, smtp.TLSNone))
	if _, err := ch.Notify(context.Background(), notification()); err != nil {
		t.Fatal(err)
	}
	raw := srv.Messages()[0].Data
	got := parse(t, raw)
	if len(got.header["Bcc"]) != 0 || strings.Contains(string(raw), "\r\nBcc:") {
		t.Errorf("the finding's title injected a Bcc header:\n%s", raw)
	}
	html := got.parts["text/html"]
	for _, bad := range []string{"<script", "<img", "<b>"} {
		if strings.Contains(html, bad) {
			t.Errorf("html part contains live markup %q", bad)
		}
	}
	for _, want := range []string{"Zugriff über &lt;script&gt;alert(1)&lt;/script&gt;", "Grüße &amp; &lt;b&gt;bold&lt;/b&gt;",
		"&lt;img src=x onerror=alert(2)&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("html part lacks %q", want)
		}
	}
	if text := got.parts["text/plain"]; !strings.Contains(text, "Grüße & <b>bold</b> claims\nsecond line") {
		t.Errorf("text part should carry the description verbatim:\n%s", text)
	}
}

func TestAuthPlain(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithAuth("alice", password))
	cfg := config(srv, smtp.TLSNone)
	cfg.Username, cfg.Password = "alice", password
	if _, err := newChannel(t, cfg).Notify(context.Background(), notification()); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].Username != "alice" {
		t.Fatalf("messages = %+v, want one sent as alice", m)
	}
}

func TestRetryMapping(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*smtptest.Server)
		wantRetry bool
		wantCode  string
	}{
		{"451 is temporary", func(s *smtptest.Server) { s.FailNext(1, 451) }, true, "451"},
		{"421 is temporary", func(s *smtptest.Server) { s.FailNext(1, 421) }, true, "421"},
		{"550 is permanent", func(s *smtptest.Server) { s.FailNext(1, 550) }, false, "550"},
		{"554 is permanent", func(s *smtptest.Server) { s.FailNext(1, 554) }, false, "554"},
		{"refused connection is temporary", func(s *smtptest.Server) { s.Refuse() }, true, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			ch := newChannel(t, config(srv, smtp.TLSNone))
			tt.setup(srv)
			retry, err := ch.Notify(context.Background(), notification())
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			if !strings.Contains(err.Error(), tt.wantCode) || !strings.Contains(err.Error(), `"mail"`) {
				t.Errorf("error %q should name the channel and carry %q", err, tt.wantCode)
			}
			if len(srv.Messages()) != 0 {
				t.Errorf("a failed delivery was recorded as delivered")
			}
			if err := srv.Accept(); err != nil {
				t.Fatal(err)
			}
			if _, err := ch.Notify(context.Background(), notification()); err != nil {
				t.Fatalf("next delivery should succeed: %v", err)
			}
		})
	}
}

func TestCancelledContextIsRetryable(t *testing.T) {
	srv := smtptest.Start(t)
	ch := newChannel(t, config(srv, smtp.TLSNone))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := ch.Notify(ctx, notification())
	if err == nil || !retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("retry=%v err=%v, want retryable context.Canceled", retry, err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message delivered despite cancelled context")
	}
}

func TestTLSModes(t *testing.T) {
	for _, mode := range []string{smtp.TLSStartTLS, smtp.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.WithTLS(mode), smtptest.WithAuth("alice", password))
			cfg := config(srv, mode)
			cfg.Username, cfg.Password = "alice", password
			ch := newTrustingChannel(t, cfg, srv.ClientTLSConfig())
			if _, err := ch.Notify(context.Background(), notification()); err != nil {
				t.Fatal(err)
			}
			if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].Username != "alice" {
				t.Fatalf("messages = %+v, want one authenticated over TLS", m)
			}
		})
	}
}

func TestTLSFailuresDoNotFallBackToPlainText(t *testing.T) {
	tests := []struct {
		name      string
		server    string
		client    string
		trust     bool
		wantRetry bool
	}{
		{"starttls required but not offered", smtptest.TLSNone, smtp.TLSStartTLS, true, true},
		{"untrusted certificate", smtptest.TLSStartTLS, smtp.TLSStartTLS, false, false},
		{"implicit tls against plain server", smtptest.TLSNone, smtp.TLSImplicit, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.WithTLS(tt.server))
			ch := newChannel(t, config(srv, tt.client))
			if tt.trust && srv.ClientTLSConfig() != nil {
				ch = newTrustingChannel(t, config(srv, tt.client), srv.ClientTLSConfig())
			}
			retry, err := ch.Notify(context.Background(), notification())
			if err == nil {
				t.Fatal("Notify succeeded without the required TLS")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("message delivered without TLS")
			}
		})
	}
}

// secretForms are the ways a password could leak into text.
func secretForms(user string) []string {
	b64 := base64.StdEncoding.EncodeToString
	return []string{password, b64([]byte(password)), b64([]byte("\x00" + user + "\x00" + password))}
}

func TestPasswordNeverInErrors(t *testing.T) {
	tests := []struct {
		name      string
		serverPwd string
		setup     func(*smtptest.Server)
		wantRetry bool
	}{
		{"wrong password", "other", func(*smtptest.Server) {}, false},
		{"451 after auth", password, func(s *smtptest.Server) { s.FailNext(1, 451) }, true},
		{"550 after auth", password, func(s *smtptest.Server) { s.FailNext(1, 550) }, false},
		{"refused", password, func(s *smtptest.Server) { s.Refuse() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.WithAuth("alice", tt.serverPwd))
			cfg := config(srv, smtp.TLSNone)
			cfg.Username, cfg.Password = "alice", password
			tt.setup(srv)
			retry, err := newChannel(t, cfg).Notify(context.Background(), notification())
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			for _, s := range secretForms("alice") {
				for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(text, s) {
						t.Fatalf("error text contains the password (form %q): %s", s, text)
					}
				}
			}
		})
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	cfg := smtp.Config{Host: "smtp.example.com", Username: "alice", Password: password, From: "a@example.com", To: []string{"b@example.com"}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, password) || !strings.Contains(s, "smtp.example.com") {
			t.Errorf("fmt %s of Config = %s", verb, s)
		}
	}
}

func TestNewRejectsUnusableConfig(t *testing.T) {
	base := smtp.Config{Host: "smtp.example.com", Port: 587, From: "hubtriage@example.com", To: []string{"secops@example.com"}}
	tests := []struct {
		name   string
		change func(*smtp.Config)
		want   string
	}{
		{"no host", func(c *smtp.Config) { c.Host = "" }, "host is required"},
		{"bad tls", func(c *smtp.Config) { c.TLS = "ssl" }, `tls must be none, starttls or tls (got "ssl")`},
		{"bad port", func(c *smtp.Config) { c.Port = 70000 }, "port must be 1-65535 (got 70000)"},
		{"password without username", func(c *smtp.Config) { c.Password = password }, "username and password must be set together"},
		{"clear-text password to remote host", func(c *smtp.Config) {
			c.TLS, c.Username, c.Password = smtp.TLSNone, "alice", password
		}, "tls none would send the password in clear to smtp.example.com"},
		{"no recipients", func(c *smtp.Config) { c.To = nil }, "at least one recipient"},
		{"bad from", func(c *smtp.Config) { c.From = "not an address" }, `from "not an address"`},
		{"bad to", func(c *smtp.Config) { c.To = []string{"ok@example.com", "@@"} }, `to[1] "@@"`},
		{"negative timeout", func(c *smtp.Config) { c.Timeout = -time.Second }, "timeout must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.To = slices.Clone(base.To)
			tt.change(&cfg)
			_, err := smtp.New("mail", cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("error contains the password: %v", err)
			}
		})
	}
	if _, err := smtp.New("local", smtp.Config{Host: "127.0.0.1", TLS: smtp.TLSNone, Username: "a", Password: "b",
		From: "a@example.com", To: []string{"b@example.com"}}); err != nil {
		t.Errorf("credentials over tls none to loopback should be allowed: %v", err)
	}
}
