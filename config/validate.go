package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"hubtriage/strictyaml"
)

// DefaultSMTPTimeout bounds connecting and each SMTP command when
// channels.<name>.email.smtp.timeout is not set.
const DefaultSMTPTimeout = 30 * time.Second

// SendTimeout is how long one SMTP command may take: the configured
// timeout, or DefaultSMTPTimeout.
func (s SMTP) SendTimeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return DefaultSMTPTimeout
}

// Validate checks the decoded config for semantic problems and returns every
// one found, each naming its field path and, where the file set the value
// (or its parent), its line.
func (c *Config) Validate() []error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, strictyaml.Errorf(path, c.lines.Line(path), format, args...))
	}
	c.validateState(add)
	for _, name := range sortedKeys(c.Channels) {
		c.Channels[name].validate("channels."+name, add, c.Secret)
		c.validateLease("channels."+name, c.Channels[name], add)
	}
	c.validateRules(add)
	validateEndpoint("securityhub.endpoint", c.SecurityHub.Endpoint, add)
	validateEndpoint("state.dynamodb.endpoint", c.State.DynamoDB.Endpoint, add)
	c.Correlation.Relations.EC2.validate("correlation.relations.ec2", add)
	if c.Pipeline.Workers < 1 || c.Pipeline.Workers > 1024 {
		add("pipeline.workers", "must be between 1 and 1024 (got %d)", c.Pipeline.Workers)
	}
	return errs
}

type addFunc func(path, format string, args ...any)

// roleNameRE is IAM's RoleName pattern.
var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func (e EC2Relations) validate(path string, add addFunc) {
	if e.RoleName != "" && !roleNameRE.MatchString(e.RoleName) {
		add(path+".role_name", "must be an IAM role name (letters, digits and +=,.@_-, at most 64; got %q)", e.RoleName)
	}
	if e.TTL < Duration(time.Minute) || e.TTL > Duration(30*24*time.Hour) {
		add(path+".ttl", "must be a duration between 1m and 30d like 1h (got %s)", e.TTL)
	}
	if e.Rate < 1 || e.Rate > 100 {
		add(path+".rate", "must be between 1 and 100 requests per second (got %d)", e.Rate)
	}
	validateEndpoint(path+".endpoint", e.Endpoint, add)
}

func (c *Config) validateState(add addFunc) {
	switch c.State.Backend {
	case "bolt":
		if c.State.Path == "" {
			add("state.path", "must name the embedded store file")
		}
	case "dynamodb":
		if c.State.DynamoDB.Table == "" {
			add("state.dynamodb.table", "must name the DynamoDB table when state.backend is dynamodb")
		}
	default:
		add("state.backend", "must be bolt or dynamodb (got %q)", c.State.Backend)
	}
	if c.State.Lease <= 0 {
		add("state.lease", "must be a positive duration like 5m (got %s)", c.State.Lease)
	}
}

// validateLease checks that a claim outlives one send through ch: a lease
// that expires while the message is still being submitted lets another
// worker take the claim over and send it twice.
func (c *Config) validateLease(path string, ch Channel, add addFunc) {
	if ch.Email == nil || c.State.Lease <= 0 {
		return
	}
	if t := ch.Email.SMTP.SendTimeout(); time.Duration(c.State.Lease) <= t {
		add("state.lease", "must be longer than %s.email.smtp.timeout (%s), or a slow send could be taken over and sent twice (got %s)",
			path, Duration(t), c.State.Lease)
	}
}

func (c *Config) validateRules(add addFunc) {
	if len(c.Rules) == 0 {
		add("rules", "must list at least one rule")
	}
	seen := map[string]int{}
	for i, r := range c.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "":
			add(path+".name", "must be set")
		case strings.ContainsAny(r.Name, "|\n\r"):
			add(path+".name", "must not contain '|' or line breaks (got %q)", r.Name)
		default:
			if j, dup := seen[r.Name]; dup {
				add(path+".name", "duplicates rules[%d].name %q", j, r.Name)
			}
			seen[r.Name] = i
		}
		if r.RenotifyAfter < 0 {
			add(path+".renotify_after", "must not be negative")
		}
		for j, ch := range r.Channels {
			if _, ok := c.Channels[ch]; !ok {
				add(fmt.Sprintf("%s.channels[%d]", path, j), "no channel named %q under channels (have: %s)", ch, strings.Join(sortedKeys(c.Channels), ", "))
			}
		}
	}
}

// secretFunc resolves a secret named by an environment variable or a file.
type secretFunc func(env, file string) (string, error)

func (ch Channel) validate(path string, add addFunc, secret secretFunc) {
	n := 0
	if ch.Email != nil {
		n++
		ch.Email.validate(path+".email", add, secret)
	}
	if ch.SES != nil {
		n++
		ch.SES.validate(path+".ses", add)
	}
	if n != 1 {
		add(path, "must configure exactly one of email, ses (got %d)", n)
	}
}

func (e *Email) validate(path string, add addFunc, secret secretFunc) {
	s := e.SMTP
	if s.Host == "" {
		add(path+".smtp.host", "must be set")
	}
	if s.Port < 1 || s.Port > 65535 {
		add(path+".smtp.port", "must be a TCP port 1-65535 (got %d)", s.Port)
	}
	switch s.TLS {
	case "", "none", "starttls", "tls":
	default:
		add(path+".smtp.tls", "must be none, starttls or tls (got %q)", s.TLS)
	}
	if s.Username != "" && s.UsernameEnv != "" {
		add(path+".smtp.username_env", "set either username or username_env, not both")
	}
	if s.PasswordEnv != "" && s.PasswordFile != "" {
		add(path+".smtp.password_file", "set either password_env or password_file, not both")
	}
	validateCredentials(path+".smtp", s, add)
	if s.Timeout < 0 {
		add(path+".smtp.timeout", "must not be negative")
	}
	if _, err := secret(s.UsernameEnv, ""); err != nil {
		add(path+".smtp.username_env", "%v", err)
	}
	if _, err := secret(s.PasswordEnv, s.PasswordFile); err != nil {
		field := ".smtp.password_env"
		if s.PasswordFile != "" {
			field = ".smtp.password_file"
		}
		add(path+field, "%v", err)
	}
	validateAddresses(path, e.From, e.To, add)
}

// validateCredentials requires a username and a password together, and
// refuses to send them in clear over the network.
func validateCredentials(path string, s SMTP, add addFunc) {
	user := s.Username != "" || s.UsernameEnv != ""
	pass := s.PasswordEnv != "" || s.PasswordFile != ""
	switch {
	case user && !pass:
		add(path+".password_env", "a username needs a password: set password_env or password_file")
	case pass && !user:
		add(path+".username", "a password needs a username: set username or username_env")
	case user && s.TLS == "none" && !isLoopback(s.Host):
		add(path+".tls", "none would send the password in clear to %s; use starttls or tls (none is for a loopback relay)", s.Host)
	}
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateEndpoint requires an endpoint override, when set, to be an
// absolute http(s) URL: the SDK would only fail at the first request.
func validateEndpoint(path, endpoint string, add addFunc) {
	if endpoint == "" {
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add(path, "must be an absolute http(s) URL like http://127.0.0.1:5000 (got %q)", endpoint)
	}
}

func (s *SES) validate(path string, add addFunc) {
	if s.Region == "" {
		add(path+".region", "must be set (e.g. eu-west-1)")
	}
	validateEndpoint(path+".endpoint", s.Endpoint, add)
	validateAddresses(path, s.From, s.To, add)
}

func validateAddresses(path, from string, to []string, add addFunc) {
	if _, err := mail.ParseAddress(from); err != nil {
		add(path+".from", "must be an email address (got %q)", from)
	}
	if len(to) == 0 {
		add(path+".to", "must list at least one recipient")
	}
	for i, addr := range to {
		if _, err := mail.ParseAddress(addr); err != nil {
			add(fmt.Sprintf("%s.to[%d]", path, i), "must be an email address (got %q)", addr)
		}
	}
}

// Secret resolves a secret named by an environment variable (looked up
// with Options.LookupEnv) or a file, or returns "" when neither is set.
// Errors never contain the secret.
func (c *Config) Secret(env, file string) (string, error) {
	switch {
	case env != "":
		lookup := c.lookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
