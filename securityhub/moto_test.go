package securityhub_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	"hubtriage/asff"
	"hubtriage/internal/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// countingClient counts the HTTP requests per "METHOD path".
type countingClient struct {
	mu    sync.Mutex
	count map[string]int
	next  *http.Client
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return c.next.Do(r)
}

func (c *countingClient) n(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[key]
}

// These tests reset moto and must not run in parallel with each other.

func TestMotoImportBatchesAndPages(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	counter := &countingClient{next: &http.Client{}}
	cfg := moto.AWSConfig()
	cfg.HTTPClient = counter
	c, _, _ := testClient(t, cfg, nil)
	fs := synthetic(t, "moto", 250, 0)

	res, err := c.Import(context.Background(), fs)
	if err != nil || res.Imported != 250 || len(res.Failed) != 0 {
		t.Fatalf("Import = %+v, %v; want 250 imported", res, err)
	}
	if n := counter.n("POST /findings/import"); n != 3 {
		t.Fatalf("%d BatchImportFindings requests for 250 findings, want 3", n)
	}
	pages := collect(t, func(fn func([][]byte) error) error { return c.GetFindings(context.Background(), nil, fn) })
	var got, want []string
	for _, raw := range flatten(pages) {
		got = append(got, idOf(t, raw))
	}
	for _, raw := range fs {
		want = append(want, idOf(t, raw))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("GetFindings returned %d findings, want the 250 imported ones", len(got))
	}
	if n := counter.n("POST /findings"); n != 3 || len(pages) != 3 {
		t.Fatalf("%d GetFindings requests, %d pages; want 3 of each (MaxResults 100)", n, len(pages))
	}
}

func TestMotoFixturesRoundTrip(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	c, _, _ := testClient(t, moto.AWSConfig(), nil)
	names, findings := fixtureFindings(t)
	res, err := c.Import(context.Background(), findings)
	if err != nil || res.Imported != len(findings) {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	got := map[string][]byte{}
	for _, raw := range flatten(collect(t, func(fn func([][]byte) error) error {
		return c.GetFindings(context.Background(), nil, fn)
	})) {
		got[idOf(t, raw)] = raw
	}
	for i, want := range findings {
		raw, ok := got[idOf(t, want)]
		if !ok {
			t.Errorf("%s: not returned", names[i])
			continue
		}
		if diff := supersetOf(t, raw, want); diff != "" {
			t.Errorf("%s: %s", names[i], diff)
		}
		if _, err := asff.DecodeFinding(raw); err != nil {
			t.Errorf("%s: returned finding does not decode: %v", names[i], err)
		}
	}
}
