package deploy

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hubtriage/internal/dynamotest"
	"hubtriage/internal/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// TestTableMatchesTheStoreLayout compares the template's table with the one
// store/dynamo creates for itself (keys, billing, TTL attribute), so a
// change of the store's layout cannot silently break deployments.
func TestTableMatchesTheStoreLayout(t *testing.T) {
	moto := motoserver.Start(t)
	ctx := context.Background()
	client := dynamodb.NewFromConfig(moto.AWSConfig())
	name := fmt.Sprintf("deploy-layout-%d", os.Getpid())
	if err := dynamotest.CreateTable(ctx, client, name); err != nil {
		t.Fatal(err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}

	var wantKeys, wantAttrs []string
	for _, k := range desc.Table.KeySchema {
		wantKeys = append(wantKeys, *k.AttributeName+" "+string(k.KeyType))
	}
	for _, a := range desc.Table.AttributeDefinitions {
		wantAttrs = append(wantAttrs, *a.AttributeName+" "+string(a.AttributeType))
	}
	if len(desc.Table.GlobalSecondaryIndexes)+len(desc.Table.LocalSecondaryIndexes) > 0 {
		t.Errorf("the store now creates secondary indexes: add them to the template (and their ARNs to the role)")
	}

	p := props(resources(t, template(t))["StateTable"])
	var gotKeys, gotAttrs []string
	for _, k := range p["KeySchema"].([]any) {
		km := k.(map[string]any)
		gotKeys = append(gotKeys, fmt.Sprint(km["AttributeName"], " ", km["KeyType"]))
	}
	for _, a := range p["AttributeDefinitions"].([]any) {
		am := a.(map[string]any)
		gotAttrs = append(gotAttrs, fmt.Sprint(am["AttributeName"], " ", am["AttributeType"]))
	}
	sort.Strings(wantAttrs)
	sort.Strings(gotAttrs)
	if fmt.Sprint(gotKeys) != fmt.Sprint(wantKeys) || fmt.Sprint(gotAttrs) != fmt.Sprint(wantAttrs) {
		t.Errorf("template keys %v %v, store creates %v %v", gotKeys, gotAttrs, wantKeys, wantAttrs)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("billing %v, want on-demand", p["BillingMode"])
	}
	spec := p["TimeToLiveSpecification"].(map[string]any)
	if spec["AttributeName"] != *ttl.TimeToLiveDescription.AttributeName || spec["Enabled"] != "true" {
		t.Errorf("template TTL %v, store uses %s", spec, *ttl.TimeToLiveDescription.AttributeName)
	}
	pitr := p["PointInTimeRecoverySpecification"].(map[string]any)
	if pitr["PointInTimeRecoveryEnabled"] != "true" {
		t.Error("point-in-time recovery is off")
	}
}
