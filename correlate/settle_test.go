package correlate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
)

// observeDeferred observes fs with a deferring engine, which must return
// no result before Settle.
func observeDeferred(t *testing.T, e *Engine, fs ...*asff.Finding) {
	t.Helper()
	for _, f := range fs {
		rs, err := e.Observe(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 0 {
			t.Fatalf("deferring engine returned %d results from Observe", len(rs))
		}
	}
}

func settle(t *testing.T, e *Engine) []Result {
	t.Helper()
	rs, err := e.Settle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// macieObjects is n Macie findings on the scenario bucket, one per object.
func macieObjects(t *testing.T, n int, seen time.Time) []*asff.Finding {
	var fs []*asff.Finding
	for i := range n {
		fs = append(fs, fixture(t, fMacie, with(at(seen), map[string]any{"Id": fmt.Sprintf("macie-object-%03d", i)})))
	}
	return fs
}

// TestDeferredBurstIsSettledOnce: a Macie job reporting many objects of a
// bucket GuardDuty sees exfiltrated gives one correlated finding per
// Settle, listing them all, not one import per object.
func TestDeferredBurstIsSettledOnce(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	seen := base.Add(-time.Hour)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base), Defer: true})
			burst := append([]*asff.Finding{fixture(t, fExfil, at(seen))}, macieObjects(t, 40, seen)...)
			observeDeferred(t, e, burst...)
			rs := settle(t, e)
			if len(rs) != 1 || len(rs[0].Contributing) != 41 {
				t.Fatalf("Settle: %d results (%+v), want 1 with 41 contributing findings", len(rs), rs)
			}
			if rs := settle(t, e); len(rs) != 0 {
				t.Errorf("second Settle: %+v, want nothing", rs)
			}
			observeDeferred(t, e, burst...)
			if rs := settle(t, e); len(rs) != 0 {
				t.Errorf("after the same findings again: %+v, want nothing", rs)
			}
			observeDeferred(t, e, macieObjects(t, 41, seen)[40])
			if rs := settle(t, e); len(rs) != 1 || len(rs[0].Contributing) != 42 {
				t.Errorf("after one more object: %d results, want 1 with 42 contributing", len(rs))
			}
		})
	}
}

// TestDeferredWorkSurvivesARunThatNeverSettled: what one engine observed
// and did not settle (the process died) is settled by the next.
func TestDeferredWorkSurvivesARunThatNeverSettled(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := b.open(t)
			observeDeferred(t, New(builtins(t), idx, Options{Now: fixed(base), Defer: true}), scenarios[0].load(t, base)...)
			rs := settle(t, New(builtins(t), idx, Options{Now: fixed(base), Defer: true}))
			if len(rs) != 1 || rs[0].Rule != scenarios[0].rule || len(rs[0].Contributing) != 4 {
				t.Errorf("next engine's Settle: %+v, want the %s correlation of 4 findings", rs, scenarios[0].rule)
			}
		})
	}
}

// TestDeferredRollbackIsRetriedBySettle: a correlated finding whose import
// failed is emitted again by the next Settle, with nothing new observed.
func TestDeferredRollbackIsRetriedBySettle(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base), Defer: true})
			observeDeferred(t, e, scenarios[1].load(t, base)...)
			rs := settle(t, e)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if err := e.Rollback(context.Background(), rs[0]); err != nil {
				t.Fatal(err)
			}
			again := settle(t, e)
			if len(again) != 1 || !slices.Equal(ids(again[0]), ids(rs[0])) {
				t.Fatalf("Settle after rollback: %+v, want the same correlated finding", again)
			}
			if rs := settle(t, e); len(rs) != 0 {
				t.Errorf("Settle after a successful retry: %+v, want nothing", rs)
			}
		})
	}
}

// TestDeferredAndImmediateAgree: settling once at the end gives the same
// correlated finding as evaluating every observation.
func TestDeferredAndImmediateAgree(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, sc := range scenarios {
		t.Run(sc.rule, func(t *testing.T) {
			now := Options{Now: fixed(base)}
			imm := observeAll(t, New(builtins(t), backends[0].open(t), now), sc.load(t, base)...)
			now.Defer = true
			d := New(builtins(t), backends[0].open(t), now)
			observeDeferred(t, d, sc.load(t, base)...)
			def := settle(t, d)
			if len(imm) != 1 || len(def) != 1 || string(imm[0].Finding) != string(def[0].Finding) {
				t.Errorf("immediate %d results, deferred %d; findings differ:\n%s\n%s", len(imm), len(def), first(imm), first(def))
			}
		})
	}
}

func first(rs []Result) string {
	if len(rs) == 0 {
		return "(none)"
	}
	return string(rs[0].Finding)
}

// TestDeferredFailureHoldsBackNothingElse: a correlation that cannot be
// settled (no account is known for its bucket) is reported and stays
// pending; the others are settled.
func TestDeferredFailureHoldsBackNothingElse(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	e := New(builtins(t), backends[0].open(t), Options{Now: fixed(base), Defer: true})
	noAccount := map[string]any{"AwsAccountId": "", "Resources": []any{map[string]any{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::aaa-no-account"}}}
	seen := at(base.Add(-time.Hour))
	observeDeferred(t, e, fixture(t, fMacie, with(seen, noAccount)), fixture(t, fExfil, with(seen, noAccount)))
	observeDeferred(t, e, scenarios[1].load(t, base)...)
	rs, err := e.Settle(context.Background())
	if err == nil || len(rs) != 1 || !strings.Contains(rs[0].Resource, bucket) {
		t.Fatalf("Settle = %d results, %v; want the other bucket's correlation and an error", len(rs), err)
	}
	if _, err := e.Settle(context.Background()); err == nil {
		t.Error("the failed correlation is no longer pending")
	}
}

// TestDeferredArchivesWhenAllContributorsAreResolved: once every finding
// of an open correlation is resolved, the next Settle re-emits it
// ARCHIVED, once.
func TestDeferredArchivesWhenAllContributorsAreResolved(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base), Defer: true})
			seen := at(base.Add(-time.Hour))
			observeDeferred(t, e, fixture(t, fMacie, seen), fixture(t, fExfil, seen))
			if rs := settle(t, e); len(rs) != 1 || rs[0].Archived {
				t.Fatalf("first Settle: %+v, want one open correlation", rs)
			}
			archived := with(at(base.Add(-time.Minute)), map[string]any{"RecordState": "ARCHIVED"})
			observeDeferred(t, e, fixture(t, fMacie, archived))
			if rs := settle(t, e); len(rs) != 0 {
				t.Errorf("one contributor resolved: %+v, want no change yet", rs)
			}
			observeDeferred(t, e, fixture(t, fExfil, archived))
			rs := settle(t, e)
			if len(rs) != 1 || !rs[0].Archived || !strings.Contains(string(rs[0].Finding), `"RecordState":"ARCHIVED"`) {
				t.Fatalf("all resolved: %+v, want the correlated finding ARCHIVED", rs)
			}
			if rs := settle(t, e); len(rs) != 0 {
				t.Errorf("archived twice: %+v", rs)
			}
		})
	}
}
