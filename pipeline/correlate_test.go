package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/filter"
	"hubtriage/store"
	"hubtriage/store/bolt"
)

// readFinding loads a correlation fixture, re-timed as observed at ts.
func readFinding(t *testing.T, name string, ts time.Time) *asff.Finding {
	t.Helper()
	b, err := os.ReadFile("../correlate/testdata/findings/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f := decode(t, b)
	f.FirstObservedAt, f.LastObservedAt, f.CreatedAt, f.UpdatedAt = ts, ts, ts, ts
	return f
}

// correlator is the engine as app builds it over the embedded store.
func correlator(t *testing.T, idx store.Index, now time.Time) *correlate.Engine {
	t.Helper()
	rules, errs := correlate.Compile(correlate.Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return correlate.New(rules, idx, correlate.Options{Now: func() time.Time { return now }, Defer: true})
}

// TestRunStoresCorrelationStateBeforeReturning: the correlation index and
// state buffered during a run are in the store once Run returns, so a
// daemon's checkpoint, moved after Run, never passes findings whose
// correlation state could still be lost.
func TestRunStoresCorrelationStateBeforeReturning(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st,
		Correlator: correlator(t, st, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := runAll(t, p,
		readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour)),
		readFinding(t, "guardduty-s3-exfiltration-anomalous.json", now.Add(-time.Hour)))
	if !strings.Contains(decisions(ds), "correlate") {
		t.Fatalf("decisions %s, want a correlation", decisions(ds))
	}
	// A copy of the file as it is on disk now holds only what was
	// committed: what a process killed at this moment leaves.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copied, data, 0o600); err != nil {
		t.Fatal(err)
	}
	disk, err := bolt.Open(copied, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	state, err := disk.Entries(context.Background(), "corr/state/AwsS3Bucket/acme-customer-exports", now)
	if err != nil || len(state) != 1 {
		t.Errorf("store holds %d correlation states (%v), want 1", len(state), err)
	}
}

// failingFlush is a store that cannot make its writes durable.
type failingFlush struct{ store.Store }

func (failingFlush) Flush(context.Context) error { return errors.New("disk full") }

// TestRunFailsWhenCorrelationStateCannotBeStored: a run whose correlation
// state could not be stored reports it, so the daemon does not move its
// checkpoint and replay exits non-zero.
func TestRunFailsWhenCorrelationStateCannotBeStored(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st := failingFlush{openStore(t)}
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st,
		Correlator: correlator(t, st, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	src := sliceSource(readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour)))
	_, err = p.Run(context.Background(), src, func(Decision) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Run = %v, want the store's error", err)
	}
}

// TestBurstOnOneResourceGivesOneCorrelation: a Macie job reporting many
// objects of a bucket GuardDuty sees exfiltrated gives one correlate
// decision (one import) per run, after the input, not one per object.
func TestBurstOnOneResourceGivesOneCorrelation(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st := openStore(t)
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st,
		Correlator: correlator(t, st, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	fs := []*asff.Finding{readFinding(t, "guardduty-s3-exfiltration-anomalous.json", now.Add(-time.Hour))}
	for i := range 30 {
		f := readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour))
		f.ID = fmt.Sprintf("macie-object-%02d", i)
		fs = append(fs, f)
	}
	ds, sum := runAll(t, p, fs...)
	var correlated []Decision
	for _, d := range ds {
		if d.Decision == DecisionCorrelate {
			correlated = append(correlated, d)
		}
	}
	if len(correlated) != 1 || len(correlated[0].Contributing) != 31 || sum.Correlated != 1 {
		t.Fatalf("%d correlate decisions (summary %d), want 1 with 31 contributing: %s", len(correlated), sum.Correlated, decisions(ds))
	}
	if i := slices.IndexFunc(ds, func(d Decision) bool { return d.Decision == DecisionCorrelate }); i < len(fs) {
		t.Errorf("correlate decision at %d, want it after the %d input decisions", i, len(fs))
	}
	if again, _ := runAll(t, p, fs...); strings.Contains(decisions(again), DecisionCorrelate) {
		t.Errorf("the same findings again: %s, want no correlation", decisions(again))
	}
}

// sinkRecorder records the findings of each Put, failing while fail is set.
type sinkRecorder struct {
	mu   sync.Mutex
	puts [][][]byte
	fail bool
	// refuse, when set, picks the findings the sink refuses one by one.
	refuse func([][]byte) map[int]error
}

func (s *sinkRecorder) Put(_ context.Context, findings [][]byte) (map[int]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, errors.New("throttled")
	}
	s.puts = append(s.puts, findings)
	if s.refuse != nil {
		return s.refuse(findings), nil
	}
	return nil, nil
}

// onBucket re-homes a fixture finding on another bucket, with its own Id.
func onBucket(f *asff.Finding, bucket string) *asff.Finding {
	c := *f
	c.ID = f.ID + "-" + bucket
	c.Resources = []asff.Resource{{Type: "AwsS3Bucket", ID: "arn:aws:s3:::" + bucket}}
	return &c
}

// TestSettledCorrelationsAreImportedTogether: the correlations a run
// settles go to Security Hub in one import; when it fails, every one is
// an error and the next run imports them all.
func TestSettledCorrelationsAreImportedTogether(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st := openStore(t)
	sink := &sinkRecorder{fail: true}
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st, Sink: sink,
		Correlator: correlator(t, st, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	macie := readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour))
	exfil := readFinding(t, "guardduty-s3-exfiltration-anomalous.json", now.Add(-time.Hour))
	var fs []*asff.Finding
	for _, b := range []string{"bucket-one", "bucket-two"} {
		fs = append(fs, onBucket(macie, b), onBucket(exfil, b))
	}
	ds, _ := runAll(t, p, fs...)
	if got := decisions(ds); strings.Count(got, DecisionError) != 2 || strings.Contains(got, DecisionCorrelate) {
		t.Fatalf("failed import: %s, want two errors", got)
	}
	sink.fail = false
	ds, _ = runAll(t, p) // nothing new: the next run retries
	if n := strings.Count(decisions(ds), DecisionCorrelate); n != 2 || len(sink.puts) != 1 || len(sink.puts[0]) != 2 {
		t.Errorf("next run: %d correlate decisions, %d imports; want 2 correlations in 1 import", n, len(sink.puts))
	}
}

// TestOneRefusedCorrelationFailsAlone: when Security Hub rejects one
// finding of an import, only that correlation is an error (and is emitted
// again by the next run); the others went through.
func TestOneRefusedCorrelationFailsAlone(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st := openStore(t)
	sink := &sinkRecorder{refuse: func(docs [][]byte) map[int]error {
		for i, d := range docs {
			if strings.Contains(string(d), "bucket-two") {
				return map[int]error{i: errors.New("InvalidInput")}
			}
		}
		return nil
	}}
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st, Sink: sink,
		Correlator: correlator(t, st, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	macie := readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour))
	exfil := readFinding(t, "guardduty-s3-exfiltration-anomalous.json", now.Add(-time.Hour))
	var fs []*asff.Finding
	for _, b := range []string{"bucket-one", "bucket-two"} {
		fs = append(fs, onBucket(macie, b), onBucket(exfil, b))
	}
	ds, _ := runAll(t, p, fs...)
	var errs, ok []Decision
	for _, d := range ds {
		switch d.Decision {
		case DecisionError:
			errs = append(errs, d)
		case DecisionCorrelate:
			ok = append(ok, d)
		}
	}
	if len(errs) != 1 || len(ok) != 1 || !strings.Contains(errs[0].Resource, "bucket-two") || !strings.Contains(errs[0].Reason, "InvalidInput") {
		t.Fatalf("decisions %s (errors %+v); want bucket-one correlated and bucket-two an error", decisions(ds), errs)
	}
	sink.refuse = nil
	ds, _ = runAll(t, p)
	if got := decisions(ds); strings.Count(got, DecisionCorrelate) != 1 || strings.Contains(got, DecisionError) {
		t.Errorf("next run: %s, want the refused correlation emitted again", got)
	}
}
