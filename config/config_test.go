package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidConfig(t *testing.T) {
	cfg, err := Load("testdata/config/valid.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := len(cfg.Rules); got != 2 {
		t.Fatalf("rules = %d, want 2", got)
	}
	r := cfg.Rules[0]
	if r.Name != "critical-and-high" || time.Duration(r.RenotifyAfter) != 15*24*time.Hour {
		t.Errorf("rule 0 = %q renotify %v", r.Name, r.RenotifyAfter)
	}
	if r.Filter == nil || cfg.Rules[1].Filter == nil {
		t.Fatal("filters not compiled")
	}
	if got := cfg.Channels["secops"].Email.To; len(got) != 2 {
		t.Errorf("secops recipients = %v", got)
	}
	if cfg.State.Backend != "bolt" || cfg.State.Path != "./hubtriage.db" || cfg.Pipeline.Workers != 64 {
		t.Errorf("defaults not applied: %+v %+v", cfg.State, cfg.Pipeline)
	}
	if len(cfg.Rules[1].Channels) != 0 {
		t.Errorf("report-only rule has channels %v", cfg.Rules[1].Channels)
	}
	if e := cfg.Correlation.Relations.EC2; !e.Enabled || e.RoleName != "hubtriage-describe-instances" || e.Rate != 10 || time.Duration(e.TTL) != time.Hour {
		t.Errorf("correlation.relations.ec2 = %+v, want enabled with the role, rate 10 and the default ttl 1h", e)
	}
}

// TestConfigErrors checks every testdata/config/<case>.yaml against the
// errors listed in <case>.err: each line must be (part of) one reported
// problem, and the number of problems must match the number of lines.
func TestConfigErrors(t *testing.T) {
	cases, _ := filepath.Glob("testdata/config/*.err")
	if len(cases) == 0 {
		t.Fatal("no config error cases")
	}
	for _, errFile := range cases {
		name := strings.TrimSuffix(filepath.Base(errFile), ".err")
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(errFile)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(strings.TrimSuffix(errFile, ".err") + ".yaml")
			if err == nil {
				t.Fatal("config accepted, want errors")
			}
			got := strings.Split(err.Error(), "\n")[1:] // first line names the file
			if !strings.Contains(err.Error(), name+".yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if !containsLine(got, line) {
					t.Errorf("missing problem %q in:\n%s", line, strings.Join(got, "\n"))
				}
			}
			if wantN := len(strings.Split(strings.TrimSpace(string(want)), "\n")); len(got) != wantN {
				t.Errorf("got %d problems, want %d:\n%s", len(got), wantN, strings.Join(got, "\n"))
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, want) || strings.Contains(l, want) {
			return true
		}
	}
	return false
}

func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	t.Setenv("HUBTRIAGE_TEST_PASSWORD", secret)
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"password_env: HUBTRIAGE_TEST_PASSWORD", "password_file: " + file} {
		doc := `
channels:
  secops:
    email:
      smtp: {host: 127.0.0.1, port: 99999, ` + pw + `}
      from: nobody
      to: [secops@example.com]
rules: [{name: a, channels: [secops], renotify_after: soon}]
`
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatal("bad config accepted")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("secret leaked into error: %v", err)
		}
		var cfg Config
		if got, _ := cfg.Secret("HUBTRIAGE_TEST_PASSWORD", ""); got != secret {
			t.Errorf("Secret(env) = %q", got)
		}
		if got, _ := cfg.Secret("", file); got != secret {
			t.Errorf("Secret(file) = %q", got)
		}
	}
}

// TestSecretsFromLookupEnv checks that a *_env secret can come from
// Options.LookupEnv instead of the process environment (the Lambda's
// Secrets Manager values), for validation and for building channels.
func TestSecretsFromLookupEnv(t *testing.T) {
	doc := `channels:
  secops:
    email:
      smtp: {host: smtp.example.com, port: 587, username_env: SMTP_USER_FROM_SM, password_env: SMTP_PASS_FROM_SM}
      from: hubtriage@example.com
      to: [secops@example.com]
rules: [{name: a, channels: [secops]}]
`
	if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), "SMTP_PASS_FROM_SM is not set") {
		t.Fatalf("without the lookup: %v, want the variable reported missing", err)
	}
	served := map[string]string{"SMTP_USER_FROM_SM": "hubtriage", "SMTP_PASS_FROM_SM": "s3cret-from-sm"}
	cfg, err := ParseWith([]byte(doc), Options{LookupEnv: func(k string) (string, bool) { v, ok := served[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	smtp := cfg.Channels["secops"].Email.SMTP
	if got, err := cfg.Secret(smtp.PasswordEnv, smtp.PasswordFile); err != nil || got != "s3cret-from-sm" {
		t.Errorf("Secret = %q, %v", got, err)
	}
	if _, set := os.LookupEnv("SMTP_PASS_FROM_SM"); set {
		t.Error("the secret was put into the process environment")
	}
}

// TestDurationsInConfig checks the units Prometheus and Alertmanager users
// write (w, y, combinations) wherever the config takes a duration.
func TestDurationsInConfig(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"15d": 15 * day, "2w": 14 * day, "1y": 365 * day, "1d12h": 36 * time.Hour, "1w2d": 9 * day, "90m": 90 * time.Minute,
	} {
		doc := "state: {lease: " + in + "}\n" +
			"rules: [{name: a, renotify_after: " + in + "}]\n" +
			"correlation: {rules: [{name: r, join: AwsEc2Instance, window: " + in + ", conditions: {a: {filter: {ProductName: [{Value: GuardDuty, Comparison: EQUALS}]}}}}]}\n"
		cfg, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var window time.Duration
		for _, r := range cfg.Correlation.Compiled {
			if r.Name == "r" {
				window = r.Window
			}
		}
		if time.Duration(cfg.Rules[0].RenotifyAfter) != want || time.Duration(cfg.State.Lease) != want || window != want {
			t.Errorf("%s: renotify_after %v, lease %v, window %v; want %v", in, cfg.Rules[0].RenotifyAfter, cfg.State.Lease, window, want)
		}
	}
	for _, bad := range []string{"fifteen", "d", "-3d", "5x", "12h1d"} {
		_, err := Parse([]byte("rules: [{name: a, renotify_after: " + bad + "}]\n"))
		if err == nil || !strings.Contains(err.Error(), "rules[0].renotify_after: must be a duration like 15d, 2w or 36h") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
