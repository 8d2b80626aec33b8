package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hubtriage/store"
)

// Update and condition expressions of the dedup operations. The claim
// condition is the Claim contract: no unexpired claim, and either no record,
// a resolved one, or a notified one whose window has elapsed.
const (
	claimUpdate    = "SET #claim = :claim"
	claimCondition = "(attribute_not_exists(#claim) OR #claim.#expires_at <= :now) AND " +
		"(attribute_not_exists(#status) OR #status = :resolved OR #last_notified_at <= :cutoff)"
	holdsClaim = "#claim.#token = :token"

	// confirming moves the claim's meta onto the record and drops the claim.
	moveMeta        = "#meta = #claim.#meta"
	dropClaim       = "#claim"
	confirmRenotify = "SET #status = :notified, #last_notified_at = :now, " +
		"#notifications = #notifications + :one, " + moveMeta + " REMOVE #resolved_at, " + dropClaim
	confirmNewPeriod = "SET #status = :notified, #first_notified_at = :now, #last_notified_at = :now, " +
		"#notifications = :one, " + moveMeta + " REMOVE #resolved_at, " + dropClaim
	releaseClaim = "REMOVE " + dropClaim

	resolveUpdate    = "SET #status = :resolved, #resolved_at = :now"
	resolveCondition = "#status = :notified"

	recordsFilter = "begins_with(#PK, :prefix) AND attribute_exists(#status)"
)

// claimRetries bounds how often Claim re-tries a write whose condition
// failed on a state that, read back afterwards, no longer blocks it.
const claimRetries = 3

// Get returns key's record, ErrNotFound if it has none.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	st, err := s.read(ctx, key)
	if err != nil {
		return store.Record{}, fmt.Errorf("get %q: %w", key, err)
	}
	if !st.recorded {
		return store.Record{}, fmt.Errorf("get %q: %w", key, store.ErrNotFound)
	}
	st.rec.Claimed = st.claimedAt(s.now())
	return st.rec, nil
}

// read fetches and decodes key's dedup item with a strongly consistent read.
func (s *Store) read(ctx context.Context, key string) (recordState, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            dedupKey(key),
		ConsistentRead: aws.Bool(true),
	}, s.withRetryer)
	if err != nil {
		return recordState{}, err
	}
	return decodeRecord(key, out.Item)
}

// Claim takes the right to notify key with one conditional UpdateItem; on
// a failed condition the item DynamoDB returns (or, failing that, a
// consistent read) says whether the key is a duplicate or in flight.
func (s *Store) Claim(ctx context.Context, key string, meta store.Meta, now time.Time, window, lease time.Duration) (store.Claim, error) {
	if key == "" {
		return store.Claim{}, errors.New("claim: empty key")
	}
	if lease <= 0 {
		return store.Claim{}, fmt.Errorf("claim %q: lease must be positive (got %s)", key, lease)
	}
	token, err := s.newToken()
	if err != nil {
		return store.Claim{}, fmt.Errorf("claim %q: %w", key, err)
	}
	for range claimRetries {
		c, retry, err := s.tryClaim(ctx, key, meta, token, now, window, lease)
		if !retry {
			return c, err
		}
	}
	return store.Claim{}, fmt.Errorf("claim %q: state kept changing under %d conditional writes", key, claimRetries)
}

// tryClaim makes one conditional claim write and classifies its outcome;
// retry is true when the write failed but the key looks claimable now.
func (s *Store) tryClaim(ctx context.Context, key string, meta store.Meta, token string, now time.Time, window, lease time.Duration) (store.Claim, bool, error) {
	out, err := s.api.UpdateItem(ctx, s.claimInput(key, meta, token, now, window, lease), s.withRetryer)
	if err == nil {
		st, err := decodeRecord(key, out.Attributes)
		if err != nil {
			return store.Claim{}, false, fmt.Errorf("claim %q: %w", key, err)
		}
		return grant(key, token, st), false, nil
	}
	old, failed := conditionFailed(err)
	if !failed {
		return store.Claim{}, false, fmt.Errorf("claim %q: %w", key, err)
	}
	st, err := s.conflictState(ctx, key, old)
	if err != nil {
		return store.Claim{}, false, fmt.Errorf("claim %q: %w", key, err)
	}
	switch {
	case st.token == token:
		// An attempt the SDK retried had succeeded: the claim is ours and,
		// since a claim leaves the record fields alone, so is its kind.
		return grant(key, token, st), false, nil
	}
	if _, err := store.Decide(st.rec, st.claimedAt(now), now, window); err != nil {
		if errors.Is(err, store.ErrInFlight) {
			return store.Claim{}, false, fmt.Errorf("claim %q: %w (held by %s until %s)", key, err,
				ownerOf(st.token), st.claimExpires.UTC().Format(time.RFC3339))
		}
		return store.Claim{}, false, fmt.Errorf("claim %q: %w", key, err)
	}
	return store.Claim{}, true, nil
}

// claimInput is the conditional UpdateItem that claims key.
func (s *Store) claimInput(key string, meta store.Meta, token string, now time.Time, window, lease time.Duration) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      dedupKey(key),
		UpdateExpression:         aws.String(claimUpdate),
		ConditionExpression:      aws.String(claimCondition),
		ExpressionAttributeNames: names(claimUpdate, claimCondition),
		ExpressionAttributeValues: item{
			":claim": &types.AttributeValueMemberM{Value: item{
				claimToken:   str(token),
				claimExpires: nanos(now.Add(lease)),
				claimMeta:    encodeMeta(meta),
			}},
			":now":      nanos(now),
			":resolved": str(string(store.StatusResolved)),
			":cutoff":   nanos(now.Add(-window)),
		},
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// conflictState decodes the item a failed conditional write returned, or
// reads it when DynamoDB returned none.
func (s *Store) conflictState(ctx context.Context, key string, old item) (recordState, error) {
	if old != nil {
		return decodeRecord(key, old)
	}
	return s.read(ctx, key)
}

// grant is the claim on key with token over the pre-claim state st.
func grant(key, token string, st recordState) store.Claim {
	c := store.Claim{Key: key, Token: token, Kind: st.kind()}
	if st.recorded {
		c.Prev = st.rec
	}
	return c
}

// Confirm records c's key as notified at now, conditional on c's token.
func (s *Store) Confirm(ctx context.Context, c store.Claim, now time.Time) error {
	update := confirmNewPeriod
	if c.Kind == store.KindRenotify {
		update = confirmRenotify
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      dedupKey(c.Key),
		UpdateExpression:         aws.String(update),
		ConditionExpression:      aws.String(holdsClaim),
		ExpressionAttributeNames: names(update, holdsClaim),
		ExpressionAttributeValues: item{
			":token":    str(c.Token),
			":notified": str(string(store.StatusNotified)),
			":now":      nanos(now),
			":one":      num(1),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, s.withRetryer)
	if err == nil {
		return nil
	}
	old, failed := conditionFailed(err)
	if !failed {
		return fmt.Errorf("confirm %q: %w", c.Key, err)
	}
	if confirmedAt(c.Key, old, now) {
		return nil // an attempt the SDK retried had succeeded
	}
	return fmt.Errorf("confirm %q: %w", c.Key, store.ErrClaimLost)
}

// confirmedAt reports whether old, the item a failed Confirm condition
// returned, is the result of a Confirm at now: recorded as notified at
// exactly now, with no claim left.
func confirmedAt(key string, old item, now time.Time) bool {
	st, err := decodeRecord(key, old)
	return err == nil && st.recorded && st.token == "" &&
		st.rec.Status == store.StatusNotified && st.rec.LastNotifiedAt.Equal(now)
}

// Release drops c, conditional on its token: it deletes the item of a
// KindNew claim and otherwise removes only the claim attributes, so a
// Resolve made meanwhile stays. A lost claim is left alone.
func (s *Store) Release(ctx context.Context, c store.Claim) error {
	var err error
	if c.Kind == store.KindNew {
		_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       dedupKey(c.Key),
			ConditionExpression:       aws.String(holdsClaim),
			ExpressionAttributeNames:  names(holdsClaim),
			ExpressionAttributeValues: item{":token": str(c.Token)},
		}, s.withRetryer)
	} else {
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       dedupKey(c.Key),
			UpdateExpression:          aws.String(releaseClaim),
			ConditionExpression:       aws.String(holdsClaim),
			ExpressionAttributeNames:  names(releaseClaim, holdsClaim),
			ExpressionAttributeValues: item{":token": str(c.Token)},
		}, s.withRetryer)
	}
	if _, failed := conditionFailed(err); err == nil || failed {
		return nil
	}
	return fmt.Errorf("release %q: %w", c.Key, err)
}

// Resolve marks a notified record resolved at now; it reports false and
// writes nothing when the key has no record or is already resolved.
func (s *Store) Resolve(ctx context.Context, key string, now time.Time) (bool, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      dedupKey(key),
		UpdateExpression:         aws.String(resolveUpdate),
		ConditionExpression:      aws.String(resolveCondition),
		ExpressionAttributeNames: names(resolveUpdate, resolveCondition),
		ExpressionAttributeValues: item{
			":resolved": str(string(store.StatusResolved)),
			":notified": str(string(store.StatusNotified)),
			":now":      nanos(now),
		},
	}, s.withRetryer)
	if err == nil {
		return true, nil
	}
	if _, failed := conditionFailed(err); failed {
		return false, nil
	}
	return false, fmt.Errorf("resolve %q: %w", key, err)
}

// Forget deletes key's item, record and claim alike.
func (s *Store) Forget(ctx context.Context, key string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table,
		Key:       dedupKey(key),
	}, s.withRetryer)
	if err != nil {
		return fmt.Errorf("forget %q: %w", key, err)
	}
	return nil
}

// Records scans the table for dedup records, one page at a time,
// calling fn between requests so that fn may use the store.
func (s *Store) Records(ctx context.Context, fn func(store.Record) error) error {
	in := &dynamodb.ScanInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String(recordsFilter),
		ExpressionAttributeNames:  names(recordsFilter),
		ExpressionAttributeValues: item{":prefix": str(dedupPrefix)},
		Limit:                     s.pageSize,
	}
	for {
		out, err := s.api.Scan(ctx, in, s.withRetryer)
		if err != nil {
			return fmt.Errorf("records: scan: %w", err)
		}
		if err := s.visit(out.Items, fn); err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// visit decodes one page of dedup items and calls fn on each record.
func (s *Store) visit(items []item, fn func(store.Record) error) error {
	now := s.now()
	for _, it := range items {
		key := strings.TrimPrefix(getS(it, AttrPK), dedupPrefix)
		st, err := decodeRecord(key, it)
		if err != nil {
			return fmt.Errorf("records: %w", err)
		}
		st.rec.Claimed = st.claimedAt(now)
		if err := fn(st.rec); err != nil {
			return err
		}
	}
	return nil
}
