package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/filter"
	"hubtriage/store"
	"hubtriage/store/writeback"
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
	st := openStore(t)
	buf := writeback.New(st, writeback.Options{})
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st,
		Correlator: correlator(t, buf, now), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := runAll(t, p,
		readFinding(t, "macie-sensitive-data-personal.json", now.Add(-time.Hour)),
		readFinding(t, "guardduty-s3-exfiltration-anomalous.json", now.Add(-time.Hour)))
	if !strings.Contains(decisions(ds), "correlate") {
		t.Fatalf("decisions %s, want a correlation", decisions(ds))
	}
	if n := buf.Pending(); n != 0 {
		t.Errorf("%d correlation writes still buffered after Run", n)
	}
	state, err := st.Entries(context.Background(), "corr/state/AwsS3Bucket/acme-customer-exports", now)
	if err != nil || len(state) != 1 {
		t.Errorf("store holds %d correlation states (%v), want 1", len(state), err)
	}
}

// failingIndex refuses every write.
type failingIndex struct{ store.Index }

func (failingIndex) Put(context.Context, store.Entry) error { return errors.New("disk full") }

// TestRunFailsWhenCorrelationStateCannotBeStored: a run whose correlation
// state could not be stored reports it, so the daemon does not move its
// checkpoint and replay exits non-zero.
func TestRunFailsWhenCorrelationStateCannotBeStored(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	st := openStore(t)
	buf := writeback.New(failingIndex{st}, writeback.Options{})
	p, err := New(Options{Rules: []Rule{{Name: "all", Filter: &filter.Filters{}}}, Store: st,
		Correlator: correlator(t, buf, now), Now: func() time.Time { return now }})
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
		Correlator: correlator(t, writeback.New(st, writeback.Options{}), now), Now: func() time.Time { return now }})
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
}

func (s *sinkRecorder) Put(_ context.Context, findings [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("throttled")
	}
	s.puts = append(s.puts, findings)
	return nil
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
		Correlator: correlator(t, writeback.New(st, writeback.Options{}), now), Now: func() time.Time { return now }})
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
