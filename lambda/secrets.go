package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsAPI is what ResolveSecrets needs; *secretsmanager.Client
// satisfies it.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// ErrSecret is wrapped by every ResolveSecrets error.
var ErrSecret = errors.New("resolve secret")

// ResolveSecrets fetches the Secrets Manager secrets named by environment
// variables and returns their values by the name the config knows them
// under, for config.Options.LookupEnv: they reach the channels without
// ever being put into the process environment (where any child process,
// crash dump or debugging endpoint would see them).
//
// For each variable HUBTRIAGE_SECRET_<NAME>=<ref> in environ, ref is a
// secret ARN or name, optionally followed by #<key> to pick one string field
// of a JSON secret (ARNs and names cannot contain '#'). The secret's current
// value is returned as secrets[<NAME>], so a config saying
// `password_env: SMTP_PASSWORD` is served by
// HUBTRIAGE_SECRET_SMTP_PASSWORD=arn:aws:secretsmanager:...:secret:smtp#password.
//
// It fails, naming the variable but never the value, when <NAME> is
// already set (two sources for one secret), when a secret cannot be read,
// is binary, or lacks the key. Variables are processed in name order.
func ResolveSecrets(ctx context.Context, api SecretsAPI, environ []string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var names []string
	for k := range env {
		if strings.HasPrefix(k, EnvSecretPrefix) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	secrets := make(map[string]string, len(names))
	for _, name := range names {
		target := strings.TrimPrefix(name, EnvSecretPrefix)
		value, err := resolveOne(ctx, api, env, name, target)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrSecret, name, err)
		}
		secrets[target] = value
	}
	return secrets, nil
}

func resolveOne(ctx context.Context, api SecretsAPI, env map[string]string, name, target string) (string, error) {
	if !validEnvName(target) {
		return "", fmt.Errorf("%q is not a valid environment variable name", target)
	}
	if env[target] != "" {
		return "", fmt.Errorf("%s is already set; set either %s or %s", target, target, name)
	}
	id, key, _ := strings.Cut(env[name], "#")
	if id == "" {
		return "", errors.New("must name a secret: <arn or name>[#<json key>]")
	}
	return fetch(ctx, api, id, key)
}

// secretsFirst looks a name up in secrets, then with lookup.
func secretsFirst(secrets map[string]string, lookup func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := secrets[name]; ok {
			return v, true
		}
		return lookup(name)
	}
}

// fetch reads the secret's current string value, or one field of it.
func fetch(ctx context.Context, api SecretsAPI, id, key string) (string, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("get secret value of %s: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s holds binary data; store the value as a string", id)
	}
	if key == "" {
		return *out.SecretString, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil {
		// The JSON error could quote the secret: don't wrap it.
		return "", fmt.Errorf("secret %s is not a JSON object, so it has no key %q", id, key)
	}
	raw, ok := fields[key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %q", id, key)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("secret %s: key %q is not a string", id, key)
	}
	return s, nil
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
