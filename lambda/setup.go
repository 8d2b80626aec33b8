package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"hubtriage/app"
	"hubtriage/config"
)

// Environment variables Setup reads.
const (
	// EnvConfig is the path of a config file bundled in the deployment
	// package; DefaultConfigPath when unset.
	EnvConfig = "HUBTRIAGE_CONFIG"
	// EnvConfigSSM names an SSM parameter (String or SecureString) holding
	// the config document. It excludes EnvConfig.
	EnvConfigSSM = "HUBTRIAGE_CONFIG_SSM"
	// EnvSecretPrefix starts the variables that name Secrets Manager
	// secrets: HUBTRIAGE_SECRET_<NAME>=<secret ARN or name>[#<json key>]
	// serves the secret's value to the config's *_env keys naming <NAME>,
	// without putting it into the environment (see ResolveSecrets).
	EnvSecretPrefix = "HUBTRIAGE_SECRET_"
	// EnvTable names the DynamoDB table the deployment template created.
	// When set, it selects the dynamodb state backend with that table
	// (region and endpoint stay as configured), so the config need not
	// repeat the stack's table name.
	EnvTable = "HUBTRIAGE_DYNAMODB_TABLE"
)

// DefaultConfigPath is where the deployment package puts hubtriage.yaml
// (Lambda unpacks the zip under /var/task).
const DefaultConfigPath = "/var/task/hubtriage.yaml"

// SetupOptions are the parts of Setup a test replaces.
type SetupOptions struct {
	// AWS is the configuration of the SSM and Secrets Manager clients; nil
	// loads the default one (the function's role and region). The store
	// and the channels are configured by the config file, as for replay.
	AWS *aws.Config
	// Logger receives the decisions; nil discards.
	Logger *slog.Logger
	// Now is the pipeline's clock; nil means time.Now.
	Now func() time.Time
	// Reconcile, when set, replaces the reconcile pass Setup would build.
	Reconcile Reconciler
}

// Setup does the cold-start work once per Lambda process: it reads the
// secrets, reads the config (whose *_env keys are served the secrets
// first), opens the store and the channels through app.Open, and returns
// the Handler. A problem here is a configuration problem; the caller
// should exit so Lambda reports an init error (the invocation is then
// retried, and dead-lettered if it persists).
func Setup(ctx context.Context, opt SetupOptions) (*Handler, error) {
	awsCfg, err := awsConfig(ctx, opt.AWS)
	if err != nil {
		return nil, err
	}
	secrets, err := ResolveSecrets(ctx, secretsmanager.NewFromConfig(awsCfg), os.Environ())
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(ctx, ssm.NewFromConfig(awsCfg), os.LookupEnv, config.Options{LookupEnv: secretsFirst(secrets, os.LookupEnv)})
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, cfg, app.Options{Now: opt.Now, Logger: opt.Logger})
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rec := opt.Reconcile
	if rec == nil {
		if rec, err = reconcilerFor(ctx, a, opt.Now, log); err != nil {
			a.Close()
			return nil, err
		}
	}
	// The store stays open for the life of the process: the Lambda
	// runtime freezes and ends it without a shutdown call, and every
	// invocation's Run flushes what it wrote.
	return New(a.Pipeline, Options{Logger: log, Reconcile: rec}), nil
}

func awsConfig(ctx context.Context, given *aws.Config) (aws.Config, error) {
	if given != nil {
		return *given, nil
	}
	return app.LoadAWS(ctx, "")
}

// SSMAPI is what LoadConfig needs; *ssm.Client satisfies it.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// ErrConfigSource is returned when both config sources are set.
var ErrConfigSource = errors.New("set either " + EnvConfig + " or " + EnvConfigSSM + ", not both")

// LoadConfig reads the config from the SSM parameter EnvConfigSSM names
// (decrypted), or else from the file EnvConfig names (DefaultConfigPath
// when unset), validates it like `hubtriage check-config` (with opt), and
// applies EnvTable. lookup reads the function's environment.
func LoadConfig(ctx context.Context, api SSMAPI, lookup func(string) (string, bool), opt config.Options) (*config.Config, error) {
	cfg, err := loadConfig(ctx, api, lookup, opt)
	if err != nil {
		return nil, err
	}
	if table, _ := lookup(EnvTable); table != "" {
		cfg.State.Backend = "dynamodb"
		cfg.State.DynamoDB.Table = table
	}
	return cfg, nil
}

func loadConfig(ctx context.Context, api SSMAPI, lookup func(string) (string, bool), opt config.Options) (*config.Config, error) {
	param, fromSSM := lookup(EnvConfigSSM)
	path, fromFile := lookup(EnvConfig)
	switch {
	case fromSSM && param != "" && fromFile && path != "":
		return nil, ErrConfigSource
	case fromSSM && param != "":
		return loadSSM(ctx, api, param, opt)
	case path == "":
		path = DefaultConfigPath
	}
	return config.LoadWith(path, opt)
}

func loadSSM(ctx context.Context, api SSMAPI, name string, opt config.Options) (*config.Config, error) {
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read config from SSM parameter %s: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return nil, fmt.Errorf("read config from SSM parameter %s: no value", name)
	}
	cfg, err := config.ParseWith([]byte(*out.Parameter.Value), opt)
	if err != nil {
		return nil, fmt.Errorf("config from SSM parameter %s:\n%w", name, err)
	}
	return cfg, nil
}
