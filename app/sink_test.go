package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/internal/shtest"
	"hubtriage/securityhub"
	"hubtriage/store/memstore"
)

// TestHubSinkRefusesOneFindingAlone: when Security Hub rejects one finding
// of a BatchImportFindings request (FailedFindings), the sink reports that
// finding alone as refused, and the others as taken.
func TestHubSinkRefusesOneFindingAlone(t *testing.T) {
	srv := shtest.New(t)
	client, err := securityhub.New(srv.AWSConfig(), securityhub.Options{BaseEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	docs := correlatedDocs(t)
	if len(docs) < 2 {
		t.Fatalf("%d correlated findings, want at least 2", len(docs))
	}
	bad := findingID(docs[1])
	srv.FailFinding(shtest.BatchImportFindings, bad, "InvalidInput", "bad Resources", -1)
	refused, err := (&hubSink{client: client}).Put(context.Background(), docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused[1] == nil || !strings.Contains(refused[1].Error(), "InvalidInput") {
		t.Fatalf("refused %v, want only finding 1 (%s)", refused, bad)
	}
	if got := len(srv.Findings()); got != len(docs)-1 {
		t.Errorf("Security Hub holds %d findings, want the %d taken", got, len(docs)-1)
	}
}

// correlatedDocs are the built-in correlations of the correlation fixtures
// (one settle), as ASFF JSON.
func correlatedDocs(t *testing.T) [][]byte {
	t.Helper()
	rules, errs := correlate.Compile(correlate.Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	now := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	e := correlate.New(rules, memstore.New(), correlate.Options{Now: func() time.Time { return now }, Defer: true})
	names, _ := filepath.Glob("../correlate/testdata/findings/*.json")
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := asff.DecodeFinding(b)
		if err != nil {
			continue // (the folder also holds GuardDuty's own events)
		}
		if _, err := e.Observe(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := e.Settle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, r := range rs {
		docs = append(docs, r.Finding)
	}
	return docs
}
