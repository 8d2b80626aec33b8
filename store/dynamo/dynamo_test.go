package dynamo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hubtriage/internal/dynamotest"
	"hubtriage/internal/motoserver"
	"hubtriage/internal/storetest"
	"hubtriage/store"
	"hubtriage/store/dynamo"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// tables numbers the tables of this test binary, so that tests sharing one
// moto_server never share a table and need no Reset.
var tables atomic.Int64

// fastRetry keeps retry backoff short in tests that provoke retries.
var fastRetry = dynamo.Options{MaxAttempts: 4, MaxBackoff: 5 * time.Millisecond}

// newClient returns a DynamoDB client talking to endpoint (moto or a proxy
// in front of it).
func newClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	cfg := motoserver.Start(t).AWSConfig()
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// newTable creates a fresh table on moto and returns its name and a client
// talking to moto directly.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	moto := motoserver.Start(t)
	client := newClient(t, moto.URL)
	name := fmt.Sprintf("hubtriage-test-%d", tables.Add(1))
	if err := dynamotest.CreateTable(context.Background(), client, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return client, name
}

// open is the storetest opener: a Store over a fresh table, reached
// through a serialising proxy (see proxy).
func open(t *testing.T) store.Store {
	_, table := newTable(t)
	p := newProxy(t, motoserver.Start(t).URL)
	return dynamo.New(newClient(t, p.URL), table, dynamo.Options{})
}

func TestContract(t *testing.T) {
	storetest.Run(t, open)
}

func TestCreateTableLayout(t *testing.T) {
	client, table := newTable(t)
	ctx := context.Background()
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range desc.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	if got := strings.Join(keys, ","); got != "PK:HASH,SK:RANGE" {
		t.Errorf("key schema = %s, want PK:HASH,SK:RANGE", got)
	}
	if desc.Table.BillingModeSummary == nil || desc.Table.BillingModeSummary.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", desc.Table.BillingModeSummary)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	d := ttl.TimeToLiveDescription
	if aws.ToString(d.AttributeName) != "expires_at" || d.TimeToLiveStatus != "ENABLED" {
		t.Errorf("ttl = %s on %q, want ENABLED on expires_at", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}
	if err := dynamotest.CreateTable(ctx, client, table); !dynamotest.IsTableExists(err) {
		t.Errorf("CreateTable(existing) = %v, want an error IsTableExists recognises", err)
	}
}
