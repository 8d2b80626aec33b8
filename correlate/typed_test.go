package correlate

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/store/memstore"
)

// TestCorrelatedIsWhatDecodingGives: the typed correlated finding a Result
// carries is the one asff.DecodeFinding makes of its JSON, so the alert
// stages see exactly what they would see had it come back from Security
// Hub.
func TestCorrelatedIsWhatDecodingGives(t *testing.T) {
	now := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	e := New(builtins(t), memstore.New(), Options{Now: fixed(now)})
	names, _ := filepath.Glob(filepath.Join("testdata", "findings", "*.json"))
	var fs, gone []*asff.Finding
	for _, n := range names {
		fs = append(fs, fixture(t, filepath.Base(n), nil))
		gone = append(gone, fixture(t, filepath.Base(n), archived))
	}
	results := observeAll(t, e, fs...)
	if len(results) == 0 {
		t.Fatal("no correlation fired")
	}
	archivedResults := observeAll(t, e, gone...) // the archived correlated findings
	if len(archivedResults) == 0 || !archivedResults[0].Archived {
		t.Fatalf("archiving every finding gave %d results, want the archived correlations", len(archivedResults))
	}
	results = append(results, archivedResults...)
	for _, r := range results {
		want, err := asff.DecodeFinding(r.Finding)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Correlated, want) {
			t.Errorf("%s on %s:\n typed   %+v\n decoded %+v", r.Rule, r.Resource, *r.Correlated, *want)
		}
	}
}
