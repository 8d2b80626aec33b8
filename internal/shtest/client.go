package shtest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"hubtriage/securityhub"
)

// Attempts is how often a test's client should try a request to a Server.
// It is above one because a request may fail reading its response body
// with "use of closed network connection" when an earlier test's Server
// shuts down meanwhile (an interplay of httptest.Server.Close and the SDK's
// own transports, seen about once in a hundred requests); the SDK retries
// that.
const Attempts = 3

// Client returns a hubtriage Security Hub client for the server cfg points
// at (a Server's AWSConfig, or a moto_server's) that neither paces requests
// nor waits between attempts, so tests of paging and retries run at full
// speed. It tries each request at most attempts times; zero means
// securityhub.DefaultMaxAttempts.
func Client(t testing.TB, cfg aws.Config, attempts int) *securityhub.Client {
	t.Helper()
	c, err := securityhub.New(cfg, securityhub.Options{
		ImportRate:  securityhub.Rate{PerSecond: 1e6, Burst: 1000},
		ReadRate:    securityhub.Rate{PerSecond: 1e6, Burst: 1000},
		MaxAttempts: attempts,
		Backoff:     noBackoff{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noBackoff retries at once.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }
