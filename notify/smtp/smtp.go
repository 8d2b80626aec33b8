// Package smtp is the email channel that submits notifications to an SMTP
// server (a relay, a provider's submission port, or a local MTA).
package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"hubtriage/notify"
)

// TLS modes of Config.TLS.
const (
	TLSNone     = "none"     // plain text; credentials only to a loopback host
	TLSStartTLS = "starttls" // plain text upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
)

// DefaultTimeout bounds connecting and each SMTP command when Config.Timeout
// is zero.
const DefaultTimeout = 30 * time.Second

// Config says where and how to submit mail.
type Config struct {
	Host string
	Port int // 0 picks 25 (none), 587 (starttls) or 465 (tls)
	// Username and Password are the resolved credentials (the caller reads
	// them from the environment or a file). Both or neither must be set.
	// The channel never logs them and strips the password from its errors.
	Username string
	Password string
	TLS      string // TLSNone, TLSStartTLS (the default when empty) or TLSImplicit
	From     string // RFC 5322 address, e.g. "Security Hub <hubtriage@example.com>"
	To       []string
	Timeout  time.Duration // 0 means DefaultTimeout
}

// String describes the config without the password, so printing a Config
// with %v or %+v cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("smtp{host=%s port=%d tls=%s username=%q password=%s from=%q to=%q timeout=%s}",
		c.Host, c.Port, c.TLS, c.Username, redactedIfSet(c.Password), c.From, c.To, c.Timeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the password out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("tls", c.TLS),
		slog.String("username", c.Username), slog.String("password", redactedIfSet(c.Password)),
		slog.String("from", c.From), slog.Any("to", c.To))
}

// redactedIfSet stands in for a secret in descriptions.
func redactedIfSet(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// Channel sends each notification as one multipart/alternative email (plain
// text and HTML) to all recipients, over a new connection per message. It is
// safe for concurrent use.
type Channel struct {
	name    string
	addr    string
	from    string
	to      []string
	domain  string // of From, for Message-IDs
	client  *gomail.Client
	secrets []string
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and builds the channel. Nothing is sent or dialled yet.
// Servers' certificates are checked against the system's roots.
func New(name string, cfg Config) (*Channel, error) {
	return build(name, cfg, &tls.Config{MinVersion: tls.VersionTLS12})
}

// build is New with the TLS client configuration given (tests pass one
// trusting their loopback server's certificate). ServerName defaults to
// cfg.Host.
func build(name string, cfg Config, tlsCfg *tls.Config) (*Channel, error) {
	cfg, err := normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("smtp channel %q: %w", name, err)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp channel %q: from %q: %w", name, cfg.From, err)
	}
	for i, to := range cfg.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return nil, fmt.Errorf("smtp channel %q: to[%d] %q: %w", name, i, to, err)
		}
	}
	client, err := gomail.NewClient(cfg.Host, clientOptions(cfg, tlsCfg)...)
	if err != nil {
		return nil, fmt.Errorf("smtp channel %q: %w", name, err)
	}
	return &Channel{
		name:    name,
		addr:    net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		from:    cfg.From,
		to:      cfg.To,
		domain:  from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		client:  client,
		secrets: secretForms(cfg.Username, cfg.Password),
	}, nil
}

// normalize fills defaults and rejects configs that cannot work or would
// send the password in clear over the network.
func normalize(cfg Config) (Config, error) {
	if cfg.Host == "" {
		return cfg, errors.New("host is required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	defaultPort := map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[cfg.TLS]
	if defaultPort == 0 {
		return cfg, fmt.Errorf("tls must be none, starttls or tls (got %q)", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return cfg, fmt.Errorf("port must be 1-65535 (got %d)", cfg.Port)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return cfg, errors.New("username and password must be set together")
	}
	if cfg.Username != "" && cfg.TLS == TLSNone && !isLoopback(cfg.Host) {
		return cfg, fmt.Errorf("tls none would send the password in clear to %s; use starttls or tls", cfg.Host)
	}
	if len(cfg.To) == 0 {
		return cfg, errors.New("at least one recipient (to) is required")
	}
	if cfg.Timeout < 0 {
		return cfg, fmt.Errorf("timeout must not be negative (got %s)", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return cfg, nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientOptions translates the config into go-mail client options.
func clientOptions(cfg Config, tlsCfg *tls.Config) []gomail.Option {
	tlsCfg = tlsCfg.Clone()
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsCfg),
	}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if cfg.Username != "" {
		// PLAIN, else LOGIN, else the strongest mechanism the server offers.
		// go-mail refuses PLAIN and LOGIN over an unencrypted connection to
		// anything but a loopback host.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return opts
}

// Name is the channel's configured name.
func (c *Channel) Name() string { return c.name }

// Notify renders n and submits it. It returns nil once the server answered
// 250 to DATA (later errors, e.g. on QUIT, are ignored since the message is
// accepted). retry is true for 4xx replies, network errors and a cancelled
// context, false for 5xx replies, TLS certificate problems, unsupported
// authentication and notifications that cannot be rendered.
func (c *Channel) Notify(ctx context.Context, n notify.Notification) (retry bool, err error) {
	rendered, err := notify.Render(n)
	if err != nil {
		return false, fmt.Errorf("smtp channel %q: %w", c.name, err)
	}
	m, err := c.message(rendered)
	if err != nil {
		return false, c.wrap("build message", err)
	}
	return c.send(ctx, m)
}

// message builds the MIME message: text/plain with an text/html alternative.
func (c *Channel) message(r notify.Message) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.From(c.from); err != nil {
		return nil, err
	}
	if err := m.To(c.to...); err != nil {
		return nil, err
	}
	m.Subject(r.Subject)
	m.SetDate()
	m.SetMessageIDWithValue(messageID(c.domain))
	m.SetUserAgent("hubtriage")
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, r.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return m, nil
}

// messageID makes a unique Message-ID value (without angle brackets).
func messageID(domain string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + ".hubtriage@" + domain
}

// send delivers m over a fresh connection; the connection is closed if ctx
// ends mid-transaction.
func (c *Channel) send(ctx context.Context, m *gomail.Msg) (bool, error) {
	conn, err := c.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return c.fail(ctx, "connect", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	err = c.client.SendWithSMTPClient(conn, m)
	if m.IsDelivered() {
		_ = c.client.CloseWithSMTPClient(conn)
		return false, nil
	}
	_ = conn.Close()
	if err == nil {
		err = errors.New("server did not confirm delivery")
	}
	return c.fail(ctx, "send", err)
}

// fail classifies err and wraps it with the channel's context.
func (c *Channel) fail(ctx context.Context, op string, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return retryable(err), c.wrap(op, err)
}

// wrap adds the channel name, operation and server to err, and removes the
// password (in any form the SMTP exchange may have carried it) from the text.
// An error whose text had to be redacted loses its cause chain, so nothing
// can print the original.
func (c *Channel) wrap(op string, err error) error {
	wrapped := fmt.Errorf("smtp channel %q: %s via %s: %w", c.name, op, c.addr, err)
	text := wrapped.Error()
	clean := text
	for _, s := range c.secrets {
		clean = strings.ReplaceAll(clean, s, "[redacted]")
	}
	if clean != text {
		return errors.New(clean)
	}
	return wrapped
}
