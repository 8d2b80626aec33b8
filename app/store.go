package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hubtriage/config"
	"hubtriage/store"
	"hubtriage/store/bolt"
	"hubtriage/store/dynamo"
	"hubtriage/store/memstore"
)

// OpenStore opens the configured state backend; pathOverride, when set,
// replaces state.path for the embedded store, and now (nil: time.Now) is
// the backend's clock, so a replay with --now judges expiry by its clock.
func OpenStore(ctx context.Context, cfg *config.Config, pathOverride string, now func() time.Time) (store.Store, error) {
	return openBackend(ctx, cfg, pathOverride, now, false)
}

// OpenStoreReadOnly opens the configured state backend for a dry run,
// which reads it and never writes it: the embedded file is opened
// read-only, and one that does not exist is read as empty without being
// created.
func OpenStoreReadOnly(ctx context.Context, cfg *config.Config, pathOverride string, now func() time.Time) (store.Store, error) {
	return openBackend(ctx, cfg, pathOverride, now, true)
}

func openBackend(ctx context.Context, cfg *config.Config, pathOverride string, now func() time.Time, readOnly bool) (store.Store, error) {
	switch cfg.State.Backend {
	case "bolt":
		path := cfg.State.Path
		if pathOverride != "" {
			path = pathOverride
		}
		if _, err := os.Stat(path); readOnly && errors.Is(err, fs.ErrNotExist) {
			return memstore.New(), nil
		}
		st, err := bolt.Open(path, bolt.Options{Now: now, ReadOnly: readOnly})
		if err != nil {
			return nil, storeError("bolt", err)
		}
		return st, nil
	case "dynamodb":
		awsCfg, err := LoadAWS(ctx, cfg.State.DynamoDB.Region)
		if err != nil {
			return nil, storeError("dynamodb", err)
		}
		client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			if cfg.State.DynamoDB.Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.State.DynamoDB.Endpoint)
			}
		})
		return dynamo.New(client, cfg.State.DynamoDB.Table, dynamo.Options{Now: now}), nil
	}
	return nil, fmt.Errorf("%w %q", ErrStoreBackend, cfg.State.Backend)
}

// LoadAWS loads the default AWS configuration (environment, shared files,
// instance or Lambda role), in region when set.
func LoadAWS(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}
