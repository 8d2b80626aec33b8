package correlate

import (
	"context"
	"os"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/internal/motoserver"
	"hubtriage/securityhub"
	"hubtriage/store/memstore"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// TestCorrelatedFindingsImportIntoMoto imports the built-ins' correlated
// findings, then their ARCHIVED versions, into moto_server's Security Hub
// with BatchImportFindings, and reads them back: Security Hub keeps one
// finding per rule and resource, and hubtriage recognises them as its own.
func TestCorrelatedFindingsImportIntoMoto(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	client, err := securityhub.New(moto.AWSConfig(), securityhub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := goldenAt
	clock := func() time.Time { return now }
	e := New(builtins(t), memstore.New().WithClock(clock), Options{Now: clock})
	var open, closed [][]byte
	for _, sc := range scenarios {
		for _, name := range sc.files {
			for _, r := range observeAll(t, e, fixture(t, name, nil)) {
				open = append(open, r.Finding)
			}
		}
	}
	now = now.Add(time.Hour)
	for _, sc := range scenarios {
		for _, name := range sc.files {
			for _, r := range observeAll(t, e, fixture(t, asffCopy(name), archived)) {
				closed = append(closed, r.Finding)
			}
		}
	}
	if len(open) != 3 || len(closed) != 3 {
		t.Fatalf("%d open and %d archived correlated findings, want 3 and 3", len(open), len(closed))
	}
	for _, batch := range [][][]byte{open, closed} {
		res, err := client.Import(ctx, batch)
		if err != nil || res.Imported != len(batch) || len(res.Failed) != 0 {
			t.Fatalf("Import = %+v, %v; want all %d imported", res, err, len(batch))
		}
	}
	var got []*asff.Finding
	err = client.GetFindings(ctx, nil, func(page [][]byte) error {
		for _, raw := range page {
			f, err := asff.DecodeFinding(raw)
			if err != nil {
				return err
			}
			got = append(got, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Security Hub holds %d findings, want 3 (one per rule and resource)", len(got))
	}
	for _, f := range got {
		if !IsOwn(f) || f.RecordState != "ARCHIVED" || f.Severity.Label != "CRITICAL" || len(f.RelatedFindings) == 0 {
			t.Errorf("%s: own %v, RecordState %s, severity %s, %d related", f.ID, IsOwn(f), f.RecordState, f.Severity.Label, len(f.RelatedFindings))
		}
	}
}
