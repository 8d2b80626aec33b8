package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hubtriage/store"
)

// Conditions of PutIf: an entry is live when it has no expiry or expires
// after the backend's now.
const (
	noLiveEntry = "attribute_not_exists(#PK) OR #expires_at_ns <= :now"
	liveEntry   = "attribute_exists(#PK) AND (attribute_not_exists(#expires_at_ns) OR #expires_at_ns > :now)"
	liveValueIs = liveEntry + " AND #val = :prev"
	liveEmpty   = liveEntry + " AND attribute_not_exists(#val)"
	partitionIs = "#PK = :pk"
)

// Put writes or replaces e.
func (s *Store) Put(ctx context.Context, e store.Entry) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table,
		Item:      encodeEntry(e),
	}, s.withRetryer)
	if err != nil {
		return fmt.Errorf("put %q/%q: %w", e.Partition, e.Sort, err)
	}
	return nil
}

// PutIf writes e only if the live value under its key equals prev (prev
// nil: only if there is no live entry), as one conditional PutItem;
// otherwise ErrConflict.
func (s *Store) PutIf(ctx context.Context, e store.Entry, prev []byte) error {
	if err := store.CheckKey(e.Partition, e.Sort); err != nil {
		return fmt.Errorf("put-if: %w", err)
	}
	cond := noLiveEntry
	values := item{":now": nanos(s.now())}
	switch {
	case len(prev) > 0:
		cond = liveValueIs
		values[":prev"] = &types.AttributeValueMemberB{Value: prev}
	case prev != nil:
		cond = liveEmpty
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      encodeEntry(e),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names(cond),
		ExpressionAttributeValues: values,
	}, s.withRetryer)
	if _, failed := conditionFailed(err); failed {
		return fmt.Errorf("put-if %q/%q: %w", e.Partition, e.Sort, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put-if %q/%q: %w", e.Partition, e.Sort, err)
	}
	return nil
}

// GetEntry returns the entry under (partition, sort) if it is live at now.
func (s *Store) GetEntry(ctx context.Context, partition, sort string, now time.Time) (store.Entry, error) {
	if err := store.CheckKey(partition, sort); err != nil {
		return store.Entry{}, fmt.Errorf("get entry: %w", err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            indexKey(partition, sort),
		ConsistentRead: aws.Bool(true),
	}, s.withRetryer)
	if err != nil {
		return store.Entry{}, fmt.Errorf("get entry %q/%q: %w", partition, sort, err)
	}
	if out.Item == nil {
		return store.Entry{}, fmt.Errorf("get entry %q/%q: %w", partition, sort, store.ErrNotFound)
	}
	e, err := decodeEntry(partition, out.Item)
	if err != nil {
		return store.Entry{}, fmt.Errorf("get entry: %w", err)
	}
	if !e.Live(now) {
		return store.Entry{}, fmt.Errorf("get entry %q/%q: %w", partition, sort, store.ErrNotFound)
	}
	return e, nil
}

// Entries queries the partition's items, page by page in sort order, and
// keeps those live at now: DynamoDB's TTL deletes expired items only
// eventually, so expiry is judged here.
func (s *Store) Entries(ctx context.Context, partition string, now time.Time) ([]store.Entry, error) {
	if partition == "" {
		return nil, errors.New("entries: empty partition")
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String(partitionIs),
		ExpressionAttributeNames:  names(partitionIs),
		ExpressionAttributeValues: item{":pk": str(indexPrefix + partition)},
		ConsistentRead:            aws.Bool(true),
		Limit:                     s.pageSize,
	}
	var entries []store.Entry
	for {
		out, err := s.api.Query(ctx, in, s.withRetryer)
		if err != nil {
			return nil, fmt.Errorf("entries %q: %w", partition, err)
		}
		for _, it := range out.Items {
			e, err := decodeEntry(partition, it)
			if err != nil {
				return nil, fmt.Errorf("entries: %w", err)
			}
			if e.Live(now) {
				entries = append(entries, e)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return entries, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Delete removes the entry under (partition, sort); idempotent.
func (s *Store) Delete(ctx context.Context, partition, sort string) error {
	if err := store.CheckKey(partition, sort); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table,
		Key:       indexKey(partition, sort),
	}, s.withRetryer)
	if err != nil {
		return fmt.Errorf("delete %q/%q: %w", partition, sort, err)
	}
	return nil
}
