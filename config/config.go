// Package config reads and validates hubtriage's YAML configuration. Load
// applies defaults, decodes strictly (unknown keys are errors) and validates,
// returning every problem with its field path before any work starts.
package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"hubtriage/correlate"
	"hubtriage/filter"
	"hubtriage/ocsffilter"
	"hubtriage/strictyaml"
)

// Config is the whole configuration file.
type Config struct {
	State    State              `yaml:"state"`
	Channels map[string]Channel `yaml:"channels"`
	Rules    []Rule             `yaml:"rules"`
	Pipeline Pipeline           `yaml:"pipeline"`
	// Correlation configures the correlation engine (built-in rules are on
	// unless turned off).
	Correlation Correlation `yaml:"correlation"`
	// SecurityHub is the Security Hub API hubtriage imports into and reads from.
	SecurityHub SecurityHub `yaml:"securityhub"`

	// lines locates every value the file set, for errors found after decoding.
	lines strictyaml.Lines
	// lookupEnv resolves the variables *_env keys name (Options.LookupEnv).
	lookupEnv func(string) (string, bool)
}

// Options tunes LoadWith and ParseWith.
type Options struct {
	// LookupEnv resolves the environment variables that *_env keys (such
	// as smtp.password_env) name, for validation and when channels are
	// built; nil means os.LookupEnv. The Lambda passes one that serves the
	// secrets it read from Secrets Manager, so that they reach the channels
	// without ever being in the process environment.
	LookupEnv func(string) (string, bool)
}

// Correlation is the correlation section: built-ins on/off, user rules,
// and where correlated findings go.
type Correlation struct {
	// Enabled turns the whole engine off when false (default true).
	Enabled *bool `yaml:"enabled"`
	// Builtins turns individual built-in rules off: {name: false}.
	Builtins map[string]bool `yaml:"builtins"`
	// Rules are user-declared correlation rules.
	Rules []correlate.Spec `yaml:"rules"`
	// Import sends correlated findings to Security Hub with
	// BatchImportFindings (default false: they are decided and printed only).
	Import bool `yaml:"import"`
	// Account owns the correlated findings' product ARN
	// (product/<account>/default); default: the resource's account.
	Account string `yaml:"account"`
	// Relations configures where relations come from besides findings.
	Relations Relations `yaml:"relations"`
	// Compiled holds the compiled rules, set by Parse.
	Compiled []*correlate.Rule `yaml:"-"`
}

// Relations configures lookups of relations no finding carried.
type Relations struct {
	// EC2 asks EC2 DescribeInstances for an instance's security groups.
	EC2 EC2Relations `yaml:"ec2"`
}

// EC2Relations configures the EC2 DescribeInstances lookup (off by
// default), for rules with a condition via AwsEc2SecurityGroup.
type EC2Relations struct {
	Enabled bool `yaml:"enabled"`
	// RoleName is assumed in the instance's account
	// (arn:<partition>:iam::<account>:role/<role_name>); empty: the
	// process's own credentials, which see their own account only.
	RoleName string `yaml:"role_name"`
	// TTL is how long an answer is kept and counts (default 1h).
	TTL Duration `yaml:"ttl"`
	// Rate bounds DescribeInstances calls per second, all accounts
	// together (default 5).
	Rate int `yaml:"rate"`
	// Endpoint overrides the EC2 and STS endpoints (tests, VPC endpoints).
	Endpoint string `yaml:"endpoint"`
}

// On reports whether correlation runs.
func (c Correlation) On() bool { return c.Enabled == nil || *c.Enabled }

// SecurityHub locates the Security Hub API.
type SecurityHub struct {
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
}

// State selects and configures the state store.
type State struct {
	// Backend is "bolt" (embedded file, the default) or "dynamodb".
	Backend  string   `yaml:"backend"`
	Path     string   `yaml:"path"`
	DynamoDB DynamoDB `yaml:"dynamodb"`
	// Lease bounds how long a claimed notification may stay unconfirmed
	// before another worker may take it over (a crashed sender).
	Lease Duration `yaml:"lease"`
}

// DynamoDB configures the DynamoDB state backend.
type DynamoDB struct {
	Table    string `yaml:"table"`
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
}

// Channel is one named notification destination; exactly one kind is set.
type Channel struct {
	Email *Email `yaml:"email"`
	SES   *SES   `yaml:"ses"`
}

// Email sends through an SMTP server.
type Email struct {
	SMTP SMTP     `yaml:"smtp"`
	From string   `yaml:"from"`
	To   []string `yaml:"to"`
}

// SMTP is the SMTP server to submit to. Credentials come only from the
// environment or files, never from the config itself.
type SMTP struct {
	Host         string   `yaml:"host"`
	Port         int      `yaml:"port"`
	Username     string   `yaml:"username"`
	UsernameEnv  string   `yaml:"username_env"`
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	TLS          string   `yaml:"tls"`
	Timeout      Duration `yaml:"timeout"`
}

// SES sends through Amazon SES v2.
type SES struct {
	Region           string   `yaml:"region"`
	From             string   `yaml:"from"`
	To               []string `yaml:"to"`
	ConfigurationSet string   `yaml:"configuration_set"`
	Endpoint         string   `yaml:"endpoint"`
}

// Rule selects findings with a filter and routes them to channels.
type Rule struct {
	Name string `yaml:"name"`
	// FilterNode is the raw AwsSecurityFindingFilters; Filter is its
	// compiled form, set by Load.
	FilterNode yaml.Node       `yaml:"filter"`
	Filter     *filter.Filters `yaml:"-"`
	// OCSFFilterNode is the raw OcsfFindingFilters (GetFindingsV2's filter
	// language); OCSFFilter is its compiled form, nil when the rule has
	// none. A rule gives filter or ocsf_filter, not both.
	OCSFFilterNode yaml.Node          `yaml:"ocsf_filter"`
	OCSFFilter     *ocsffilter.Filter `yaml:"-"`
	RenotifyAfter  Duration           `yaml:"renotify_after"`
	Channels       []string           `yaml:"channels"`
}

// Pipeline tunes the processing pipeline.
type Pipeline struct {
	// Workers is how many findings are de-duplicated and sent at once.
	Workers int `yaml:"workers"`
}

// Default returns the configuration used for every key the file omits.
func Default() Config {
	return Config{
		State:    State{Backend: "bolt", Path: "./hubtriage.db", Lease: Duration(5 * time.Minute)},
		Pipeline: Pipeline{Workers: 64},
		Correlation: Correlation{Relations: Relations{EC2: EC2Relations{
			TTL: Duration(correlate.DefaultGroupsTTL), Rate: 5}}},
	}
}

// Load reads, decodes and validates the file at path. The returned error
// joins every problem found, each a *FieldError where it concerns a field.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options.
func LoadWith(path string, opt Options) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseWith(b, opt)
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a configuration document. It is the one
// validation path: check-config, replay, serve, reconcile and the Lambda
// all load their config through it (the Lambda with ParseWith), so a
// config one accepts, all accept.
func Parse(b []byte) (*Config, error) { return ParseWith(b, Options{}) }

// ParseWith is Parse with options.
func ParseWith(b []byte, opt Options) (*Config, error) {
	cfg := Default()
	lines, errs := strictyaml.Unmarshal(b, &cfg)
	if lines == nil { // not YAML, or empty: nothing to validate
		return nil, errors.Join(errs...)
	}
	cfg.lookupEnv = opt.LookupEnv
	cfg.lines = lines
	errs = append(errs, cfg.compileFilters()...)
	errs = append(errs, cfg.compileCorrelation()...)
	errs = append(errs, cfg.Validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &cfg, nil
}

func (c *Config) compileFilters() []error {
	var errs []error
	for i := range c.Rules {
		r := &c.Rules[i]
		errs = append(errs, r.compileOCSFFilter(i)...)
		if r.FilterNode.Kind == 0 {
			r.Filter = &filter.Filters{}
			continue
		}
		f, ferrs := filter.FromYAML(&r.FilterNode)
		for _, e := range ferrs {
			errs = append(errs, placeError(fmt.Sprintf("rules[%d].filter", i), e))
		}
		r.Filter = f
	}
	return errs
}

// compileOCSFFilter compiles the rule's ocsf_filter, if any.
func (r *Rule) compileOCSFFilter(i int) []error {
	if r.OCSFFilterNode.Kind == 0 {
		return nil
	}
	path := fmt.Sprintf("rules[%d].ocsf_filter", i)
	if r.FilterNode.Kind != 0 {
		return []error{&FieldError{Path: path, Line: r.OCSFFilterNode.Line, Msg: "give filter (ASFF) or ocsf_filter (OCSF), not both"}}
	}
	f, ferrs := ocsffilter.FromYAML(&r.OCSFFilterNode)
	errs := make([]error, len(ferrs))
	for j, e := range ferrs {
		errs[j] = placeError(path, e)
	}
	r.OCSFFilter = f
	return errs
}

// placeError puts a problem found in a part of the document (a filter) under
// that part's field path.
func placeError(prefix string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Prefixed(prefix)
	}
	return &FieldError{Path: prefix, Msg: err.Error()}
}

func (c *Config) compileCorrelation() []error {
	if !c.Correlation.On() {
		return nil
	}
	rules, errs := correlate.Compile(correlate.Config{Builtins: c.Correlation.Builtins, Rules: c.Correlation.Rules})
	c.Correlation.Compiled = rules
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) && fe.Line == 0 {
			fe.Line = c.lines.Line(fe.Path)
		}
	}
	return errs
}
