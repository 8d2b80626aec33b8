package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"hubtriage/internal/shtest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/reconcile"
	"hubtriage/store"
	"hubtriage/store/bolt"
	"hubtriage/store/scratch"
)

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

// inactive are the variants Security Hub holds after the alerts were sent,
// by finding id; "deleted" is absent and "active" unchanged.
var inactive = map[string]map[string]any{
	"archived":   {"RecordState": "ARCHIVED"},
	"passed":     {"Compliance": map[string]any{"Status": "PASSED"}},
	"resolved":   {"Workflow": map[string]any{"Status": "RESOLVED"}},
	"suppressed": {"Workflow": map[string]any{"Status": "SUPPRESSED"}},
}

// setup notifies every finding of ids under both rules at t0 and loads a
// Security Hub holding the inactive variants, "active" as it was, an
// untracked finding, and not "deleted".
func setup(t *testing.T, ids ...string) (*bolt.Store, *shtest.Server, *recorder) {
	t.Helper()
	st, ch := openBolt(t), &recorder{name: "ops"}
	var sent [][]byte
	for _, id := range ids {
		sent = append(sent, variant(t, id, nil))
	}
	if got := runPipeline(t, st, rules(t, ch), t0, sent...); len(got) != 2*len(ids) {
		t.Fatalf("setup decisions %v", got)
	}
	srv := shtest.New(t)
	held := [][]byte{variant(t, "untracked", nil)}
	for _, id := range ids {
		switch set, ok := inactive[id]; {
		case ok:
			held = append(held, variant(t, id, set))
		case id != "deleted":
			held = append(held, variant(t, id, nil))
		}
	}
	if err := srv.Load(held...); err != nil {
		t.Fatal(err)
	}
	return st, srv, ch
}

// run reconciles once and returns the summary and resolutions.
func run(t *testing.T, opt reconcile.Options) (reconcile.Summary, []reconcile.Resolution) {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return t1 }
	}
	r, err := reconcile.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	var out []reconcile.Resolution
	sum, err := r.Run(context.Background(), func(res reconcile.Resolution) error {
		out = append(out, res)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum, out
}

// statuses maps finding id to the sorted statuses of its records.
func statuses(t *testing.T, st store.Dedup) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	if err := st.Records(context.Background(), func(r store.Record) error {
		out[r.Meta.FindingID] = append(out[r.Meta.FindingID], string(r.Status))
		slices.Sort(out[r.Meta.FindingID])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolvesExactlyTheInactiveAndMissing(t *testing.T) {
	st, srv, ch := setup(t, "active", "archived", "deleted", "passed", "resolved", "suppressed")
	sum, got := run(t, reconcile.Options{Store: st, Finder: shFinder(t, srv)})

	product := productOf(t)
	both := []string{"all", "medium"}
	want := []reconcile.Resolution{
		{FindingID: "archived", ProductArn: product, Decision: "resolved", Reason: "finding is RecordState ARCHIVED", Rules: both, Notified: []string{}},
		{FindingID: "deleted", ProductArn: product, Decision: "not_found", Reason: "no longer returned by Security Hub", Rules: both, Notified: []string{}},
		{FindingID: "passed", ProductArn: product, Decision: "resolved", Reason: "finding is Compliance PASSED", Rules: both, Notified: []string{}},
		{FindingID: "resolved", ProductArn: product, Decision: "resolved", Reason: "finding is Workflow RESOLVED", Rules: both, Notified: []string{}},
		{FindingID: "suppressed", ProductArn: product, Decision: "resolved", Reason: "finding is Workflow SUPPRESSED", Rules: both, Notified: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolutions:\n got %+v\nwant %+v", got, want)
	}
	if want := (reconcile.Summary{Checked: 6, Active: 1, Resolved: 4, NotFound: 1}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	notified, resolved := []string{"notified", "notified"}, []string{"resolved", "resolved"}
	wantStatus := map[string][]string{"active": notified, "archived": resolved, "deleted": resolved,
		"passed": resolved, "resolved": resolved, "suppressed": resolved}
	if s := statuses(t, st); !reflect.DeepEqual(s, wantStatus) {
		t.Errorf("record statuses %v, want %v", s, wantStatus)
	}
	if n := srv.Count(shtest.GetFindings); n != 1 {
		t.Errorf("%d GetFindings requests for 6 findings of one product, want 1", n)
	}
	if len(ch.sent) != 12 {
		t.Errorf("%d notifications, want the 12 of the setup only", len(ch.sent))
	}

	// A second pass finds only the active finding left to check.
	sum, got = run(t, reconcile.Options{Store: st, Finder: shFinder(t, srv)})
	if want := (reconcile.Summary{Checked: 1, Active: 1}); sum != want || len(got) != 0 {
		t.Errorf("second pass: %+v %v, want %+v and nothing resolved", sum, got, want)
	}

	// The archived finding comes back: a recurrence, not a duplicate.
	decisions := runPipeline(t, st, rules(t, ch), t1.Add(time.Hour), variant(t, "archived", nil), variant(t, "active", nil))
	wantDecisions := []string{"archived all recurrence", "archived medium recurrence", "active all duplicate", "active medium duplicate"}
	if !reflect.DeepEqual(decisions, wantDecisions) {
		t.Errorf("after reconcile: %v, want %v", decisions, wantDecisions)
	}
}

func TestFailedBatchIsKeptAndOthersGoOn(t *testing.T) {
	ids := []string{"archived-1", "archived-2", "archived-3", "archived-4", "archived-5"}
	st, ch := openBolt(t), &recorder{name: "ops"}
	srv := shtest.New(t)
	for _, id := range ids {
		runPipeline(t, st, rules(t, ch), t0, variant(t, id, nil))
		if err := srv.Load(variant(t, id, map[string]any{"RecordState": "ARCHIVED"})); err != nil {
			t.Fatal(err)
		}
	}
	srv.FailRequests(shtest.GetFindings, shtest.Attempts, http.StatusInternalServerError, "InternalException")

	sum, got := run(t, reconcile.Options{Store: st, Finder: shFinder(t, srv), BatchSize: 2})
	if want := (reconcile.Summary{Checked: 5, Resolved: 3, Errors: 2}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	var resolvedIDs []string
	for _, r := range got {
		resolvedIDs = append(resolvedIDs, r.FindingID)
	}
	if want := ids[2:]; !slices.Equal(resolvedIDs, want) {
		t.Errorf("resolved %v, want %v (the first batch failed)", resolvedIDs, want)
	}
	if s := statuses(t, st); s["archived-1"][0] != "notified" || s["archived-2"][0] != "notified" {
		t.Errorf("records of the failed batch changed: %v", s)
	}
	if n := srv.Count(shtest.GetFindings); n != shtest.Attempts+2 {
		t.Errorf("%d GetFindings requests, want %d (the failing batch's attempts, then 2 more batches of at most 2)", n, shtest.Attempts+2)
	}

	sum, _ = run(t, reconcile.Options{Store: st, Finder: shFinder(t, srv), BatchSize: 2})
	if want := (reconcile.Summary{Checked: 2, Resolved: 2}); sum != want {
		t.Errorf("next pass %+v, want %+v", sum, want)
	}
}

// TestDryRunChangesNothing: a dry run is a pass over the dry run's two
// swaps, a scratch layer over the store and a channel that sends nothing.
func TestDryRunChangesNothing(t *testing.T) {
	st, srv, ch := setup(t, "active", "archived", "deleted")
	sum, got := run(t, reconcile.Options{Store: scratch.New(st, nil), Finder: shFinder(t, srv),
		NotifyResolved: true, Channels: map[string]notify.Channel{"ops": pipeline.Discard(ch.Name())}})
	if want := (reconcile.Summary{Checked: 3, Active: 1, Resolved: 1, NotFound: 1}); sum != want || len(got) != 2 {
		t.Errorf("dry run %+v %v, want %+v and two resolutions", sum, got, want)
	}
	for id, s := range statuses(t, st) {
		if !slices.Equal(s, []string{"notified", "notified"}) {
			t.Errorf("dry run changed %s: %v", id, s)
		}
	}
	if len(ch.sent) != 6 {
		t.Errorf("dry run sent %d notifications beyond the setup's 6", len(ch.sent)-6)
	}
}

// TestResolvedNotifiedOnceAcrossConcurrentPasses: five passes at once on one
// store tell each channel once per record that went from notified to
// resolved; a finding that is gone is resolved silently.
func TestResolvedNotifiedOnceAcrossConcurrentPasses(t *testing.T) {
	st, srv, _ := setup(t, "active", "archived", "deleted")
	ch := &recorder{name: "ops"}
	var wg sync.WaitGroup
	for range 5 {
		r, err := reconcile.New(reconcile.Options{Store: st, Finder: shFinder(t, srv), NotifyResolved: true,
			Channels: map[string]notify.Channel{"ops": ch}})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if _, err := r.Run(context.Background(), func(reconcile.Resolution) error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := ch.reasons()
	if want := []string{"archived resolved", "archived resolved"}; !slices.Equal(got, want) {
		t.Errorf("resolved notifications %v, want %v (one per rule)", got, want)
	}
}

func TestNotifyFailureKeepsTheResolution(t *testing.T) {
	st, srv, _ := setup(t, "archived")
	ch := &recorder{name: "ops", fail: func(notify.Notification) error { return errors.New("mailbox full") }}
	sum, got := run(t, reconcile.Options{Store: st, Finder: shFinder(t, srv), NotifyResolved: true,
		Channels: map[string]notify.Channel{"ops": ch}})
	if want := (reconcile.Summary{Checked: 1, Resolved: 1, NotifyErrors: 2}); sum != want || !sum.Failed() {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	if len(got) != 1 || got[0].Reason != "finding is RecordState ARCHIVED; resolved notification to ops failed; resolved notification to ops failed" {
		t.Errorf("resolutions %+v", got)
	}
	if s := statuses(t, st)["archived"]; !slices.Equal(s, []string{"resolved", "resolved"}) {
		t.Errorf("statuses %v, want resolved", s)
	}
}

func TestCancelStopsBetweenBatches(t *testing.T) {
	st, srv, _ := setup(t, "archived", "deleted", "passed")
	r, err := reconcile.New(reconcile.Options{Store: st, Finder: shFinder(t, srv), BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sum, err := r.Run(ctx, func(reconcile.Resolution) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) || sum.Checked != 1 {
		t.Fatalf("Run = %+v, %v; want one batch settled, then context.Canceled", sum, err)
	}
}

func TestNewNeedsStoreAndFinder(t *testing.T) {
	if _, err := reconcile.New(reconcile.Options{Finder: shFinder(t, shtest.New(t))}); !errors.Is(err, reconcile.ErrNoStore) {
		t.Errorf("no store: %v", err)
	}
	if _, err := reconcile.New(reconcile.Options{Store: openBolt(t)}); !errors.Is(err, reconcile.ErrNoFinder) {
		t.Errorf("no finder: %v", err)
	}
}
