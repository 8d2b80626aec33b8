package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"hubtriage/store"
)

// API is the subset of *dynamodb.Client the store uses; *dynamodb.Client
// satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Retry defaults; see Options.
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 20 * time.Second
)

// Options tunes a Store. The zero value is ready to use.
type Options struct {
	// MaxAttempts bounds the attempts per request, the first included, when
	// DynamoDB throttles (ProvisionedThroughputExceededException,
	// ThrottlingException, RequestLimitExceeded) or fails transiently (5xx,
	// connection errors). Zero means DefaultMaxAttempts (10), which rides out
	// a burst on an on-demand table that is still scaling.
	MaxAttempts int
	// MaxBackoff caps the full-jitter exponential backoff between attempts
	// (up to 1s, 2s, 4s, ... then MaxBackoff). Zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// PageSize, when positive, limits the items each Scan (Records) and
	// Query (Entries) request evaluates; zero leaves DynamoDB's 1 MB pages.
	// Smaller pages spread a large Records walk's read burst over more
	// requests.
	PageSize int32
	// Now is the backend clock, used where the contract takes no now:
	// Record.Claimed in Get and Records, and "live" in PutIf. Nil means
	// time.Now.
	Now func() time.Time
	// Owner names this worker in the claims it holds, so that a run meeting
	// one can say whose it is (default: host name and process id).
	Owner string
}

// Store is the DynamoDB implementation of store.Store over one table laid
// out as described in the package documentation. It is safe for concurrent
// use by many goroutines and many processes sharing the table.
type Store struct {
	api      API
	table    string
	now      func() time.Time
	retryer  aws.Retryer
	pageSize *int32 // nil: no Limit
	owner    string
}

var _ store.Store = (*Store)(nil)

// New returns a Store over table, which must already exist with the layout
// package documentation describes. The client is not closed by Close.
//
// Every request uses the SDK's standard retryer with opts.MaxAttempts and
// opts.MaxBackoff, whatever retryer the client was built with, and without
// the SDK's client-side retry quota: under sustained throttling the quota
// would turn throttles into failures after ~100 retries per client, while
// MaxAttempts already bounds each request.
func New(api API, table string, opts Options) *Store {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = opts.MaxAttempts
		o.MaxBackoff = opts.MaxBackoff
		o.RateLimiter = ratelimit.None
	})
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s pid %d", host, os.Getpid())
	}
	st := &Store{api: api, table: table, now: opts.Now, retryer: r, owner: opts.Owner}
	if opts.PageSize > 0 {
		st.pageSize = &opts.PageSize
	}
	return st
}

// Close releases nothing: the DynamoDB client belongs to the caller.
func (s *Store) Close() error { return nil }

// withRetryer is the per-request option installing the store's retryer.
func (s *Store) withRetryer(o *dynamodb.Options) {
	o.Retryer = s.retryer
	o.RetryMaxAttempts = 0
}

// newToken returns a random claim token naming its owner.
func (s *Store) newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("claim token: %w", err)
	}
	return hex.EncodeToString(b[:]) + tokenOwner + s.owner, nil
}

// tokenOwner separates a claim token's random part from its owner.
const tokenOwner = "@"

// ownerOf is the owner a claim token names ("" for tokens without one).
func ownerOf(token string) string {
	_, owner, _ := strings.Cut(token, tokenOwner)
	return owner
}

// Flush has nothing to do: every write is sent at once.
func (s *Store) Flush(ctx context.Context) error { return ctx.Err() }
