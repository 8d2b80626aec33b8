// Package dynamo is the DynamoDB implementation of store.Store, for
// deployments where several processes (Lambda invocations, daemons) share
// de-duplication state. Every clause of the store.Dedup contract that
// involves concurrency is enforced by one conditional write on one item, so
// "exactly one of any number of concurrent claims succeeds" holds across
// processes, not only goroutines.
//
// # Table
//
// One table, single-table design:
//
//	partition key  PK  string
//	sort key       SK  string
//	billing        on demand (PAY_PER_REQUEST)
//	TTL attribute  expires_at (epoch seconds)
//
// internal/dynamotest makes it for tests. In a SAM/CloudFormation
// template:
//
//	Type: AWS::DynamoDB::Table
//	Properties:
//	  BillingMode: PAY_PER_REQUEST
//	  AttributeDefinitions:
//	    - {AttributeName: PK, AttributeType: S}
//	    - {AttributeName: SK, AttributeType: S}
//	  KeySchema:
//	    - {AttributeName: PK, KeyType: HASH}
//	    - {AttributeName: SK, KeyType: RANGE}
//	  TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
//
// The role needs dynamodb:GetItem, PutItem, UpdateItem, DeleteItem, Query
// and Scan on the table.
//
// # Dedup records
//
// PK = "dedup#" + key, SK = "record". Times are epoch nanoseconds
// (numbers), so records round-trip time.Time exactly.
//
//	status             "notified" | "resolved"; absent while a first claim is pending
//	meta               map {finding_id, product_arn, rule, channel}
//	first_notified_at  start of the current open period
//	last_notified_at   last accepted notification
//	resolved_at        when the finding went inactive (status resolved only)
//	notifications      notifications in the current open period
//	claim              map {token, expires_at (lease end), meta}, while claimed
//
// A claim alone (status absent) is not a record: Get reports ErrNotFound,
// Records and Resolve skip it. Records carry no TTL: they live until
// Forget, since losing one would let a finding notify again.
//
// Claim is one UpdateItem that sets claim under the condition
//
//	(no claim OR claim.expires_at <= now) AND
//	(no status OR status = resolved OR last_notified_at <= now - window)
//
// returning the old item (ALL_OLD), whose status gives the claim's kind.
// When the condition fails, the item DynamoDB returns with the failure
// (ReturnValuesOnConditionCheckFailure = ALL_OLD; a strongly consistent
// GetItem if the server returned none) says why: ErrDuplicate if notified
// within the window (reported first, as it outlives any claim), else
// ErrInFlight. Confirm and Release are conditional on claim.token: Confirm
// moves claim.meta to meta, sets the notification fields and removes
// claim; Release removes claim (deletes the item for a KindNew claim). A
// write whose first attempt succeeded but whose answer was lost is retried
// by the SDK and then fails its own condition; Claim recognises its own
// token and Confirm its own confirmation, so neither reports a false
// ErrInFlight or ErrClaimLost.
//
// # Index entries
//
// PK = "idx#" + partition, SK = sort (the contract forbids empty ones, as
// DynamoDB does for keys). Entries is one Query on PK (strongly
// consistent), so it never reads another partition, and DynamoDB orders SK
// byte-wise like the contract.
//
//	val            binary value (absent when empty)
//	expires_at     TTL: ExpiresAt in epoch seconds, rounded up (absent: never)
//	expires_at_ns  ExpiresAt in epoch nanoseconds, the exact expiry
//
// DynamoDB deletes expired items only eventually (typically within days),
// so GetEntry and Entries filter on expires_at_ns against their now, and
// PutIf treats an expired entry as absent using the backend clock.
//
// # Item sizes and capacity
//
// With typical keys (rule|channel|finding identity, ~250 bytes) and meta
// (~200 bytes of IDs and names) a record is ~0.6 KB and ~0.9 KB
// while a claim is held; the longest Security Hub finding IDs push the
// claimed item past 1 KB. A write costs one write unit per started KB of
// the larger of the item before and after it, and a failed conditional
// write is charged like a write; no dedup path reads the table. Hence:
//
//	first notification   Claim + Confirm          2 WCU (1 KB items), 0 RCU
//	renotification       Claim + Confirm          2 WCU, 4 with items over 1 KB
//	duplicate / in-flight one refused Claim       1 WCU, 0 RCU (+1 RCU without ALL_OLD)
//	resolve              one conditional update   1 WCU
//	index Put / PutIf    one write                1 WCU per KB of entry
//	Entries / GetEntry   strongly consistent      1 RCU per 4 KB read
//	Records              Scan of the whole table  1 RCU per 4 KB of table
//
// # Throttling
//
// Every request goes through the SDK's standard retryer, whichever the
// client was built with: DefaultMaxAttempts (10) attempts with full-jitter
// exponential backoff capped at DefaultMaxBackoff (20 s), retrying
// ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded and transient 5xx/connection errors, without the
// SDK's client-side retry quota. Options changes both numbers. A request
// that exhausts its attempts returns the SDK's error, never a store
// sentinel.
package dynamo
