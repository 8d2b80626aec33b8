// Package securityhub is hubtriage's AWS Security Hub client. It imports
// findings with BatchImportFindings and reads them back with GetFindings, both
// as raw ASFF JSON: findings go on the wire exactly as hubtriage produced them
// and come back exactly as Security Hub sent them, so the asff decoder is the
// only place that interprets a finding.
//
// The client honours Security Hub's published limits (100 findings, 240 KB
// per finding and 6 MB per BatchImportFindings request; 20 values per filter
// attribute), paces itself below the service's throttle rates (10 requests/s
// for BatchImportFindings, 3 for GetFindings) and retries throttling and
// server errors a bounded number of times with exponential backoff and jitter.
package securityhub

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// Security Hub limits the client enforces before sending.
const (
	// MaxBatchFindings is the most findings one BatchImportFindings call takes.
	MaxBatchFindings = 100
	// MaxFindingBytes is the largest finding Security Hub accepts (240 KB),
	// measured on the compacted JSON the client sends.
	MaxFindingBytes = 240 * 1024
	// MaxBatchBytes bounds a BatchImportFindings request body. Security Hub
	// documents "6 MB"; the decimal reading is used because exceeding it
	// fails the whole request.
	MaxBatchBytes = 6_000_000
	// MaxFilterValues is the most values one filter attribute may hold.
	MaxFilterValues = 20
	// MaxPageSize is the largest GetFindings MaxResults.
	MaxPageSize = 100
)

// Defaults applied to zero Options fields.
const (
	DefaultMaxAttempts = 5
	DefaultMaxBackoff  = 20 * time.Second
)

// Options tunes a Client. The zero value is valid and production-ready.
type Options struct {
	// BaseEndpoint overrides the Security Hub endpoint (a moto_server or
	// shtest URL in tests). Empty uses aws.Config.BaseEndpoint, then the
	// regional AWS endpoint.
	BaseEndpoint string

	// ImportRate paces BatchImportFindings attempts; zero means 10/s, burst 10
	// (the service allows 10/s with a burst of 30).
	ImportRate Rate
	// ReadRate paces GetFindings attempts; zero means 3/s, burst 3 (the
	// service allows 3/s with a burst of 6).
	ReadRate Rate

	// MaxAttempts bounds the attempts of one request (throttling, 429 and
	// 5xx are retried) and, separately, the times one finding is sent while
	// Security Hub reports it in FailedFindings with a retryable code.
	// Zero means DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the default backoff; zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Backoff chooses the delay before retry number attempt; nil means
	// exponential backoff with full jitter capped at MaxBackoff.
	Backoff retry.BackoffDelayer

	// RetryableFailure reports whether a FailedFindings error code is worth
	// resending the finding for; nil means IsRetryableFailure.
	RetryableFailure func(code string) bool

	// Clock paces requests and the backoff between FailedFindings rounds;
	// nil means the wall clock. (The SDK sleeps on the wall clock between
	// attempts of one request.)
	Clock Clock
	// Logger receives retry decisions; nil discards them.
	Logger *slog.Logger
}

// withDefaults fills zero fields and validates the rest.
func (o Options) withDefaults() (Options, error) {
	if o.ImportRate == (Rate{}) {
		o.ImportRate = Rate{PerSecond: 10, Burst: 10}
	}
	if o.ReadRate == (Rate{}) {
		o.ReadRate = Rate{PerSecond: 3, Burst: 3}
	}
	if err := o.ImportRate.validate("ImportRate"); err != nil {
		return o, err
	}
	if err := o.ReadRate.validate("ReadRate"); err != nil {
		return o, err
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxAttempts < 1 {
		return o, fmt.Errorf("MaxAttempts: must be at least 1 (got %d)", o.MaxAttempts)
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Backoff == nil {
		o.Backoff = retry.NewExponentialJitterBackoff(o.MaxBackoff)
	}
	if o.RetryableFailure == nil {
		o.RetryableFailure = IsRetryableFailure
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o, nil
}

// Client calls Security Hub. It is safe for concurrent use; the rate limits
// are shared by all calls made through one Client.
type Client struct {
	api        *sdk.Client
	opts       Options
	importRate *limiter
	readRate   *limiter
}

// New returns a Client for the account, region and credentials in cfg. It
// replaces cfg's retryer with one bounded by opts.MaxAttempts that also
// retries HTTP 429.
func New(cfg aws.Config, opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("securityhub options: %w", err)
	}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = opts.MaxAttempts
		o.MaxBackoff = opts.MaxBackoff
		o.Backoff = opts.Backoff
		o.Retryables = append(o.Retryables, retry.RetryableHTTPStatusCode{
			Codes: map[int]struct{}{429: {}},
		})
	})
	api := sdk.NewFromConfig(cfg, func(o *sdk.Options) {
		o.Retryer = retryer
		if opts.BaseEndpoint != "" {
			o.BaseEndpoint = aws.String(opts.BaseEndpoint)
		}
	})
	return &Client{
		api:        api,
		opts:       opts,
		importRate: newLimiter(opts.ImportRate, opts.Clock),
		readRate:   newLimiter(opts.ReadRate, opts.Clock),
	}, nil
}

// IsRetryableFailure is the default RetryableFailure: codes naming
// throttling, an internal error, a concurrent update or a timeout are
// transient; anything else (InvalidInput, FindingSizeExceeded,
// AccessDenied, ...) would fail again the same way.
func IsRetryableFailure(code string) bool {
	switch code {
	case "TooManyRequestsException", "ThrottlingException", "Throttling", "Throttled",
		"LimitExceededException", "LimitExceeded", "RequestLimitExceeded",
		"InternalException", "InternalError", "InternalFailure", "InternalServerError",
		"ConcurrentUpdateError",
		"ServiceUnavailable", "ServiceUnavailableException",
		"RequestTimeout", "RequestTimeoutException":
		return true
	}
	return false
}
