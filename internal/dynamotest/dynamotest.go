// Package dynamotest creates DynamoDB tables with the layout store/dynamo
// expects, for tests (deployments get the table from their template,
// which deploy/table_test.go holds to this same layout).
package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hubtriage/store/dynamo"
)

// TableAPI is what CreateTable needs; *dynamodb.Client satisfies it.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ TableAPI = (*dynamodb.Client)(nil)

// TableWait bounds how long CreateTable waits for a new table to be ACTIVE.
const TableWait = 5 * time.Minute

// CreateTable creates table with the layout dynamo.Store expects (string
// PK and SK, on-demand billing), waits until it is ACTIVE and turns on TTL
// over the expires_at attribute. It fails if the table already exists.
func CreateTable(ctx context.Context, api TableAPI, table string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(dynamo.AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(dynamo.AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(dynamo.AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(dynamo.AttrSK), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, TableWait); err != nil {
		return fmt.Errorf("create table %s: wait until active: %w", table, err)
	}
	return enableTTL(ctx, api, table)
}

// enableTTL turns on DynamoDB's TTL deletion over expires_at.
func enableTTL(ctx context.Context, api TableAPI, table string) error {
	_, err := api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(dynamo.AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: enable ttl on %s: %w", table, dynamo.AttrTTL, err)
	}
	return nil
}

// IsTableExists reports whether err from CreateTable says the table
// already exists.
func IsTableExists(err error) bool {
	var inUse *types.ResourceInUseException
	return errors.As(err, &inUse)
}
