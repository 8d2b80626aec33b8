package dynamo_test

import (
	"testing"

	"hubtriage/internal/ddbproxy"
)

// fault is what the proxy does with one request (ddbproxy.Fault).
type fault = ddbproxy.Fault

const (
	pass         = ddbproxy.Pass
	loseResponse = ddbproxy.LoseResponse
)

// proxy is a ddbproxy.Proxy in front of moto_server: it forwards one
// request at a time, because moto checks a conditional write's condition
// and applies the write without a lock, so two concurrent requests could
// both pass the same condition, which DynamoDB never allows on one item.
type proxy struct{ *ddbproxy.Proxy }

// newProxy starts a proxy in front of motoURL, closed when t ends.
func newProxy(t *testing.T, motoURL string) *proxy {
	return &proxy{ddbproxy.Start(t, motoURL)}
}

// setFault installs f for the requests from now on.
func (p *proxy) setFault(f func(op string, n int) fault) { p.SetFault(f) }

// count returns how many requests of op reached the proxy since setFault.
func (p *proxy) count(op string) int { return p.Count(op) }
