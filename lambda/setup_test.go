package lambda

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"hubtriage/config"
	"hubtriage/internal/motoserver"
)

func putParameter(t *testing.T, cfg aws.Config, name, value string) {
	t.Helper()
	_, err := ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfigFromSSMParameter(t *testing.T) {
	r := newRig(t)
	name := fmt.Sprintf("/hubtriage/%d/config", os.Getpid())
	putParameter(t, r.awsCfg, name, r.configY)
	t.Setenv(EnvConfigSSM, name)
	h := r.setup(t)
	resp := mustInvoke(t, h, readFixture(t, "events/imported-fsbp-ec2.7.json"))
	if resp.Notified != 1 || len(r.smtp.Messages()) != 1 {
		t.Errorf("response %+v with %d emails, want one notification sent with the SSM config", resp, len(r.smtp.Messages()))
	}
}

func TestLoadConfigSources(t *testing.T) {
	moto := motoserver.Start(t)
	cfg := moto.AWSConfig()
	valid := "state: {backend: dynamodb, dynamodb: {table: t, region: eu-west-1}}\nrules: [{name: all}]\n"
	embedded := filepath.Join(t.TempDir(), "embedded.yaml")
	if err := os.WriteFile(embedded, []byte("state: {path: /tmp/x.db}\nrules: [{name: all}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "hubtriage.yaml")
	if err := os.WriteFile(good, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	// Configs `replay` refused after `check-config` accepted them: the
	// Lambda validates through the same path.
	shortLease := filepath.Join(t.TempDir(), "short-lease.yaml")
	if err := os.WriteFile(shortLease, []byte("state: {backend: dynamodb, dynamodb: {table: t}, lease: 10s}\n"+
		"channels: {c: {email: {smtp: {host: smtp.example.com, port: 587, username: u}, from: a@example.com, to: [b@example.com]}}}\n"+
		"rules: [{name: all, channels: [c]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	param := fmt.Sprintf("/hubtriage/%d/sources", os.Getpid())
	putParameter(t, cfg, param, valid)
	badParam := param + "-bad"
	putParameter(t, cfg, badParam, "state: {backend: dynamodb}\nrules: [{name: all}]\n")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" for success
	}{
		{"file", map[string]string{EnvConfig: good}, ""},
		{"ssm", map[string]string{EnvConfigSSM: param}, ""},
		{"ssm with empty file variable", map[string]string{EnvConfigSSM: param, EnvConfig: ""}, ""},
		{"both", map[string]string{EnvConfigSSM: param, EnvConfig: good}, ErrConfigSource.Error()},
		{"missing parameter", map[string]string{EnvConfigSSM: param + "-missing"}, "read config from SSM parameter " + param + "-missing"},
		{"invalid config in parameter", map[string]string{EnvConfigSSM: badParam}, "state.dynamodb.table"},
		{"missing file", map[string]string{EnvConfig: good + ".missing"}, "read config"},
		{"lease shorter than the SMTP timeout", map[string]string{EnvConfig: shortLease}, "state.lease: must be longer than channels.c.email.smtp.timeout (30s)"},
		{"username without a password", map[string]string{EnvConfig: shortLease}, "channels.c.email.smtp.password_env: a username needs a password: set password_env or password_file (line 2)"},
		{"default path", map[string]string{}, DefaultConfigPath},
		{"table from the template", map[string]string{EnvConfig: good, EnvTable: "stack-table"}, ""},
		{"table turns an embedded-store config to dynamodb", map[string]string{EnvConfig: embedded, EnvTable: "stack-table"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			c, err := LoadConfig(context.Background(), ssm.NewFromConfig(cfg), lookup, config.Options{})
			if tt.wantErr == "" {
				wantTable := "t"
				if tt.env[EnvTable] != "" {
					wantTable = tt.env[EnvTable]
				}
				if err != nil || c.State.Backend != "dynamodb" || c.State.DynamoDB.Table != wantTable {
					t.Fatalf("LoadConfig = %+v, %v; want the dynamodb backend on table %s", c, err, wantTable)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolveSecrets(t *testing.T) {
	moto := motoserver.Start(t)
	api := secretsmanager.NewFromConfig(moto.AWSConfig())
	const value = "hunter2-Value-Of-The-Secret"
	prefix := fmt.Sprintf("hubtriage/%d/", os.Getpid())
	create := func(name string, in *secretsmanager.CreateSecretInput) string {
		in.Name = aws.String(prefix + name)
		out, err := api.CreateSecret(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return *out.ARN
	}
	plain := create("plain", &secretsmanager.CreateSecretInput{SecretString: aws.String(value)})
	js := create("json", &secretsmanager.CreateSecretInput{SecretString: aws.String(`{"password":"` + value + `","port":25}`)})
	binary := create("binary", &secretsmanager.CreateSecretInput{SecretBinary: []byte(value)})

	tests := []struct {
		name    string
		environ []string
		want    map[string]string // secrets returned
		wantErr string
	}{
		{"plain by ARN", []string{"HUBTRIAGE_SECRET_SMTP_PASSWORD=" + plain}, map[string]string{"SMTP_PASSWORD": value}, ""},
		{"plain by name", []string{"HUBTRIAGE_SECRET_PW=" + prefix + "plain"}, map[string]string{"PW": value}, ""},
		{"json key", []string{"HUBTRIAGE_SECRET_PW=" + js + "#password"}, map[string]string{"PW": value}, ""},
		{"two secrets", []string{"HUBTRIAGE_SECRET_B=" + plain, "HUBTRIAGE_SECRET_A=" + js + "#password", "OTHER=x"},
			map[string]string{"A": value, "B": value}, ""},
		{"no secret variables", []string{"PATH=/bin", "SMTP_PASSWORD=x"}, map[string]string{}, ""},
		{"missing key", []string{"HUBTRIAGE_SECRET_PW=" + js + "#user"}, nil, `has no key "user"`},
		{"key not a string", []string{"HUBTRIAGE_SECRET_PW=" + js + "#port"}, nil, `key "port" is not a string`},
		{"key of a plain secret", []string{"HUBTRIAGE_SECRET_PW=" + plain + "#password"}, nil, "is not a JSON object"},
		{"binary secret", []string{"HUBTRIAGE_SECRET_PW=" + binary}, nil, "binary data"},
		{"unknown secret", []string{"HUBTRIAGE_SECRET_PW=" + prefix + "nope"}, nil, "get secret value of " + prefix + "nope"},
		{"already set", []string{"HUBTRIAGE_SECRET_PW=" + plain, "PW=other"}, nil, "PW is already set"},
		{"bad target name", []string{"HUBTRIAGE_SECRET_1PW=" + plain}, nil, "not a valid environment variable name"},
		{"empty reference", []string{"HUBTRIAGE_SECRET_PW=#password"}, nil, "must name a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveSecrets(context.Background(), api, tt.environ)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrSecret) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrSecret mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), value) {
					t.Errorf("error %q contains the secret value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("set %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSetupFailsWithoutTheSecret(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	unsetEnv(t, EnvSecretPrefix+"SMTP_PASSWORD")
	_, err := Setup(context.Background(), SetupOptions{AWS: &r.awsCfg})
	if err == nil || !strings.Contains(err.Error(), "SMTP_PASSWORD") {
		t.Fatalf("err = %v, want the config's complaint about SMTP_PASSWORD", err)
	}
}

// TestSecretReachesTheChannelNotTheEnvironment runs the cold start against
// moto's Secrets Manager: the SMTP server, which requires the password kept
// there, accepts the alert, and the process environment holds neither the
// variable the config names nor the value.
func TestSecretReachesTheChannelNotTheEnvironment(t *testing.T) {
	r := newRig(t)
	r.configFile(t)
	h := r.setup(t)
	resp := mustInvoke(t, h, readFixture(t, "events/imported-fsbp-ec2.7.json"))
	if resp.Notified != 1 || len(r.smtp.Messages()) != 1 {
		t.Fatalf("response %+v with %d emails; want the alert accepted by the SMTP server that requires the secret", resp, len(r.smtp.Messages()))
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SMTP_PASSWORD=") || strings.Contains(kv, smtpPassword) {
			t.Errorf("the secret is in the process environment: %s=...", strings.SplitN(kv, "=", 2)[0])
		}
	}
}
