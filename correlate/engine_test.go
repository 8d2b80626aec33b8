package correlate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/asff"
	"hubtriage/store/memstore"
)

// scenario is a set of findings that make one built-in rule fire.
type scenario struct {
	rule     string
	resource string // substring of Result.Resource
	files    []string
}

var scenarios = []scenario{
	{"ec2-backdoor-critical-cves", "instance/" + instA, []string{fBackdoor, fCVE1, fCVE2, fCVE3}},
	{"s3-sensitive-data-exfiltration", "arn:aws:s3:::" + bucket, []string{fMacie, fExfil}},
	{"ec2-exposed-instance-under-attack", "instance/" + instA, []string{fEC29, fEC218, fEventPort, fSSH}},
}

// load re-times the scenario's findings to the hour before base.
func (s scenario) load(t testing.TB, base time.Time) []*asff.Finding {
	var fs []*asff.Finding
	for i, name := range s.files {
		ts := base.Add(-time.Hour + time.Duration(i)*time.Minute)
		if strings.HasPrefix(name, "guardduty-event-") {
			fs = append(fs, eventAt(t, name, ts))
			continue
		}
		fs = append(fs, fixture(t, name, at(ts)))
	}
	return fs
}

func TestBuiltinsFireOnEveryBackend(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		for _, sc := range scenarios {
			t.Run(b.name+"/"+sc.rule, func(t *testing.T) {
				e := New(builtins(t), b.open(t), Options{Now: fixed(base)})
				rs := observeAll(t, e, sc.load(t, base)...)
				if len(rs) != 1 {
					t.Fatalf("got %d results, want 1: %+v", len(rs), rs)
				}
				r := rs[0]
				if r.Rule != sc.rule || !strings.Contains(r.Resource, sc.resource) || r.Archived {
					t.Errorf("result = %s on %s archived %v, want %s on *%s*", r.Rule, r.Resource, r.Archived, sc.rule, sc.resource)
				}
				if len(r.Contributing) != len(sc.files) {
					t.Errorf("contributing = %v, want %d findings", ids(r), len(sc.files))
				}
				if err := ValidateASFF(r.Finding); err != nil {
					t.Errorf("invalid ASFF: %v\n%s", err, r.Finding)
				}
			})
		}
	}
}

func TestReplayingTheSameEventsTwiceEmitsNothing(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base)})
			var all []*asff.Finding
			for _, sc := range scenarios {
				all = append(all, sc.load(t, base)...)
			}
			if n := len(observeAll(t, e, all...)); n != len(scenarios) {
				t.Fatalf("first pass: %d results, want %d", n, len(scenarios))
			}
			if rs := observeAll(t, e, all...); len(rs) != 0 {
				t.Errorf("second pass emitted %d results, want none: %+v", len(rs), rs)
			}
		})
	}
}

// TestEmitsOnlyWhenTheContributingSetChanges follows one incident from
// opening to archiving and back.
func TestEmitsOnlyWhenTheContributingSetChanges(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	e := New(builtins(t), memstore.New(), Options{Now: fixed(base)})
	seen := at(base.Add(-time.Hour))
	later := at(base.Add(-time.Minute))
	steps := []struct {
		name     string
		file     string
		set      map[string]any
		want     int // results
		archived bool
		contrib  int
	}{
		{"backdoor alone", fBackdoor, seen, 0, false, 0},
		{"one CVE", fCVE1, seen, 0, false, 0},
		{"two CVEs", fCVE2, seen, 0, false, 0},
		{"third CVE opens the incident", fCVE3, seen, 1, false, 4},
		{"same CVE again", fCVE1, seen, 0, false, 0},
		{"same CVE observed later", fCVE1, later, 0, false, 0},
		{"another finding about a counted CVE joins", fCVE1b, seen, 1, false, 5},
		{"a CVE is fixed: evidence kept, nothing to import", fCVE3, with(seen, archived), 0, false, 0},
		{"backdoor archived", fBackdoor, with(seen, archived), 0, false, 0},
		{"CVE resolved", fCVE1, with(seen, resolved), 0, false, 0},
		{"CVE archived", fCVE1b, with(seen, archived), 0, false, 0},
		{"last one archived: archive the incident", fCVE2, with(seen, archived), 1, true, 5},
		{"archived again: nothing", fCVE2, with(seen, archived), 0, false, 0},
	}
	var first Result
	for _, s := range steps {
		rs := observeAll(t, e, fixture(t, s.file, s.set))
		if len(rs) != s.want {
			t.Fatalf("%s: %d results, want %d: %+v", s.name, len(rs), s.want, rs)
		}
		if s.want == 0 {
			continue
		}
		r := rs[0]
		if r.Archived != s.archived || len(r.Contributing) != s.contrib {
			t.Errorf("%s: archived %v with %d contributing, want %v with %d", s.name, r.Archived, len(r.Contributing), s.archived, s.contrib)
		}
		if first.Finding == nil {
			first = r
		}
		if s.archived && !strings.Contains(string(r.Finding), `"RecordState":"ARCHIVED"`) {
			t.Errorf("%s: finding not ARCHIVED: %s", s.name, r.Finding)
		}
	}
	// The same incident Id throughout; a new period after archiving.
	rs := observeAll(t, e, fixture(t, fBackdoor, seen), fixture(t, fCVE1, seen), fixture(t, fCVE2, seen), fixture(t, fCVE3, seen))
	if len(rs) != 1 || rs[0].Archived {
		t.Fatalf("reopening: %+v", rs)
	}
	if idOf(t, rs[0].Finding) != idOf(t, first.Finding) {
		t.Errorf("reopened incident has Id %s, want the same Id %s", idOf(t, rs[0].Finding), idOf(t, first.Finding))
	}
}

func idOf(t *testing.T, b []byte) string {
	t.Helper()
	var d struct{ Id string }
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.Id
}

// TestConcurrentObserversEmitOnce: workers observing the same findings in
// different orders, on one store, import the incident exactly once.
func TestConcurrentObserversEmitOnce(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := b.open(t)
			fs := scenarios[0].load(t, base)
			var mu sync.Mutex
			var results []Result
			var wg sync.WaitGroup
			for w := range 8 {
				e := New(builtins(t), idx, Options{Now: fixed(base)}) // one engine per process
				wg.Go(func() {
					for i := range fs {
						rs, err := e.Observe(context.Background(), fs[(i+w)%len(fs)])
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						results = append(results, rs...)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(results) != 1 {
				t.Errorf("%d results, want exactly 1: %+v", len(results), results)
			}
		})
	}
}

func TestRollbackEmitsAgainOnTheNextObservation(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base)})
			fs := scenarios[0].load(t, base)
			rs := observeAll(t, e, fs...)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if err := e.Rollback(ctx, rs[0]); err != nil {
				t.Fatal(err)
			}
			if err := e.Rollback(ctx, rs[0]); err != nil {
				t.Fatalf("second rollback: %v", err)
			}
			again := observeAll(t, e, fs[1])
			if len(again) != 1 || !slices.Equal(ids(again[0]), ids(rs[0])) {
				t.Fatalf("after rollback: %+v, want the same correlated finding again", again)
			}
			// A rollback of a superseded result changes nothing.
			newer := observeAll(t, e, fixture(t, fCVE1b, at(base.Add(-time.Hour))))
			if len(newer) != 1 {
				t.Fatalf("joining finding: %d results", len(newer))
			}
			if err := e.Rollback(ctx, again[0]); err != nil {
				t.Fatal(err)
			}
			if rs := observeAll(t, e, fs[1]); len(rs) != 0 {
				t.Errorf("stale rollback re-emitted: %+v", rs)
			}
		})
	}
}

func TestOwnCorrelatedFindingsAreNotCorrelatedAgain(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	idx := newSpy(memstore.New())
	e := New(builtins(t), idx, Options{Now: fixed(base)})
	rs := observeAll(t, e, scenarios[0].load(t, base)...)
	own, err := asff.DecodeFinding(rs[0].Finding)
	if err != nil {
		t.Fatal(err)
	}
	if !IsOwn(own) {
		t.Fatalf("IsOwn(correlated finding) = false")
	}
	idx.reset()
	if got := observeAll(t, e, own); len(got) != 0 || len(idx.touched()) != 0 {
		t.Errorf("own finding: %d results, touched %v; want nothing", len(got), idx.touched())
	}
	other := fixture(t, fBackdoor, map[string]any{"ProductArn": "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
		"GeneratorId": "my-own-tool"})
	if IsOwn(other) {
		t.Errorf("IsOwn(another tool's custom finding) = true")
	}
}

// TestRelatedFindingsRespectTheASFFLimit: more than ten contributing
// findings are all reported, ten of them (every condition represented) in
// RelatedFindings.
func TestRelatedFindingsRespectTheASFFLimit(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	e := New(builtins(t), memstore.New(), Options{Now: fixed(base)})
	seen := at(base.Add(-time.Hour))
	fs := []*asff.Finding{fixture(t, fBackdoor, seen)}
	for i := range 12 {
		fs = append(fs, fixture(t, fCVE1, with(seen, map[string]any{
			"Id":              fmt.Sprintf("arn:aws:inspector2:us-east-1:111122223333:finding/cve%02d", i),
			"Vulnerabilities": []any{map[string]any{"Id": fmt.Sprintf("CVE-2024-%04d", 1000+i)}},
		})))
	}
	rs := observeAll(t, e, fs...)
	last := rs[len(rs)-1]
	if len(last.Contributing) != 13 {
		t.Errorf("contributing = %d, want 13", len(last.Contributing))
	}
	var d doc
	if err := json.Unmarshal(last.Finding, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.RelatedFindings) != maxRelated || !slices.ContainsFunc(d.RelatedFindings, func(r docRelated) bool {
		return strings.Contains(r.ID, "guardduty")
	}) {
		t.Errorf("RelatedFindings = %+v, want 10 including the backdoor", d.RelatedFindings)
	}
	if err := ValidateASFF(last.Finding); err != nil {
		t.Error(err)
	}
}

// TestObserveReadsOnlyTheResourcesItTouches: with many instances indexed,
// observing a finding reads and writes only the partitions of its own
// resource (and, for a security group, of the instances using it).
func TestObserveReadsOnlyTheResourcesItTouches(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	idx := newSpy(memstore.New())
	e := New(builtins(t), idx, Options{Now: fixed(base)})
	seen := at(base.Add(-time.Hour))
	for i := range 300 {
		inst := fmt.Sprintf("i-%017x", 0xabc000+i)
		for _, name := range []string{fBackdoor, fCVE1, fCVE2, fEC29} {
			f := fixture(t, name, with(seen, instanceOn(inst), map[string]any{"Id": name + inst}))
			if _, err := e.Observe(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	idx.reset()
	observeAll(t, e, fixture(t, fCVE3, with(seen, instanceOn("i-00000000000abc07b"))))
	want := []string{"corr/f/AwsEc2Instance/i-00000000000abc07b", "corr/rel/AwsEc2Instance/i-00000000000abc07b",
		"corr/state/AwsEc2Instance/i-00000000000abc07b"}
	if got := idx.touched(); !slices.Equal(got, want) {
		t.Errorf("touched %v, want only %v", got, want)
	}

	observeAll(t, e, eventAt(t, fEventPort, base.Add(-time.Hour))) // instance A uses sgA
	idx.reset()
	observeAll(t, e, fixture(t, fEC218, seen))
	for _, p := range idx.touched() {
		if !strings.HasSuffix(p, "/AwsEc2SecurityGroup/"+sgA) && !strings.HasSuffix(p, "/AwsEc2Instance/"+instA) {
			t.Errorf("security group finding touched %s", p)
		}
	}
}

// TestCountsBeyondOneMegabyte is the regression for the sample that counted
// only the first 1 MB page of a table scan: the instance's partition holds
// more than 1 MB of matching findings and the one that completes the rule
// comes last.
func TestCountsBeyondOneMegabyte(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := newSpy(b.open(t))
			e := New(builtins(t), idx, Options{Now: fixed(base)})
			seen := at(base.Add(-time.Hour))
			long := strings.Repeat("x", 200)
			for i := range 2000 {
				cve := []string{"CVE-2021-44228", "CVE-2022-22965"}[i%2]
				f := fixture(t, fCVE1, with(seen, map[string]any{
					"Id":              fmt.Sprintf("arn:aws:inspector2:us-east-1:111122223333:finding/bulk%05d", i),
					"Title":           cve + " - package " + long,
					"Vulnerabilities": []any{map[string]any{"Id": cve}},
				}))
				// Index without evaluating: the store already holds them.
				if _, _, err := e.index(ctx, f, refsOf(f), base); err != nil {
					t.Fatal(err)
				}
			}
			if idx.written < 1<<20 {
				t.Fatalf("index holds %d bytes, want more than 1 MB", idx.written)
			}
			rs := observeAll(t, e, fixture(t, fBackdoor, seen), fixture(t, fCVE3, seen))
			if len(rs) != 1 || len(rs[0].Contributing) != 2002 {
				t.Fatalf("got %d results (%+v); want 1 with 2002 contributing", len(rs), rs)
			}
			var d doc
			_ = json.Unmarshal(rs[0].Finding, &d)
			if !strings.Contains(d.Title, "has 3 critical vulnerabilities") {
				t.Errorf("title %q, want 3 distinct CVEs", d.Title)
			}
		})
	}
}

// TestUnknownAccountIsAnErrorNotAnInvalidFinding: when nothing says which
// account a resource is in, the engine reports it instead of emitting a
// finding Security Hub would reject; Options.Account fills the gap.
func TestUnknownAccountIsAnErrorNotAnInvalidFinding(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	noAccount := map[string]any{"AwsAccountId": "", "Resources": []any{map[string]any{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::acme-customer-exports"}}}
	fs := []*asff.Finding{fixture(t, fMacie, with(at(base), noAccount)), fixture(t, fExfil, with(at(base), noAccount))}
	e := New(builtins(t), memstore.New(), Options{Now: fixed(base)})
	if _, err := e.Observe(context.Background(), fs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(context.Background(), fs[1]); err == nil || !strings.Contains(err.Error(), "AwsAccountId") {
		t.Errorf("err = %v, want an error about AwsAccountId", err)
	}
	e = New(builtins(t), memstore.New(), Options{Now: fixed(base), Account: "999988887777"})
	rs := observeAll(t, e, fs...)
	if len(rs) != 1 || !strings.Contains(string(rs[0].Finding), `"AwsAccountId":"999988887777"`) {
		t.Errorf("with Options.Account: %+v", rs)
	}
}

// TestFindingsOutsideTheWindowAreNotIndexed: a matching finding last
// observed more than a window ago counts for nothing, so it is not written
// (a replay of old findings leaves no dead entries behind), and a finding
// that was indexed and is observed again with an old timestamp (so outside
// the window) is removed like one that stopped matching.
func TestFindingsOutsideTheWindowAreNotIndexed(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := newSpy(b.open(t))
			e := New(builtins(t), idx, Options{Now: fixed(base)})
			old := at(base.Add(-DefaultWindow - time.Hour))
			observeAll(t, e, fixture(t, fBackdoor, old), fixture(t, fCVE1, old))
			if idx.written != 0 {
				t.Errorf("findings outside the window wrote %d bytes", idx.written)
			}
			part := partFindings + typeInstance + "/" + instA
			observeAll(t, e, fixture(t, fBackdoor, at(base.Add(-time.Hour))))
			if es, err := idx.Entries(ctx, part, base); err != nil || len(es) != 1 {
				t.Fatalf("after a recent backdoor finding: %d entries (%v), want 1", len(es), err)
			}
			observeAll(t, e, fixture(t, fBackdoor, old))
			if es, err := idx.Entries(ctx, part, base); err != nil || len(es) != 0 {
				t.Errorf("after the backdoor finding was observed out of the window: %d entries (%v), want none", len(es), err)
			}
		})
	}
}

// TestReimportsWithinTheRefreshStepWriteNothing: Security Hub re-imports
// open findings again and again; one that only moves the last observation
// by less than a window's thirtieth costs reads, no write and no
// evaluation, and a later one moves the finding's place in the window.
func TestReimportsWithinTheRefreshStepWriteNothing(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			idx := newSpy(b.open(t))
			e := New(builtins(t), idx, Options{Now: fixed(base)})
			seen := base.Add(-29 * 24 * time.Hour) // inside the 30-day window, near its end
			macie := fixture(t, fMacie, at(seen))
			observeAll(t, e, macie)

			idx.resetCounts()
			again := fixture(t, fMacie, reimported(seen, seen.Add(23*time.Hour)))
			if rs := observeAll(t, e, again); len(rs) != 0 || idx.written != 0 {
				t.Errorf("re-import 23h later: %d results, %d bytes written; want none", len(rs), idx.written)
			}
			// The entry still expires a window after the first observation:
			// a day and a half on, the finding no longer counts.
			next := base.Add(36 * time.Hour)
			later := New(builtins(t), idx, Options{Now: fixed(next)})
			if rs := observeAll(t, later, fixture(t, fExfil, at(next.Add(-time.Minute)))); len(rs) != 0 {
				t.Errorf("Macie finding counted after its window: %+v", rs)
			}

			// A re-import a day (the step) after the first moves it: it
			// counts again, with the exfiltration finding, and stays in the
			// window past the day and a half.
			e2 := New(builtins(t), idx, Options{Now: fixed(base)})
			idx.resetCounts()
			rs := observeAll(t, e2, fixture(t, fMacie, reimported(seen, seen.Add(24*time.Hour))))
			if idx.written == 0 {
				t.Fatal("re-import a day later wrote nothing; want the entry moved")
			}
			if len(rs) != 1 || len(rs[0].Contributing) != 2 {
				t.Errorf("after the refresh: %+v, want the correlation of both findings", rs)
			}
			live, err := idx.Entries(context.Background(), partFindings+"AwsS3Bucket/"+bucket, next)
			if err != nil || len(live) != 2 {
				t.Errorf("a day and a half on: %d live entries (%v), want the Macie and GuardDuty findings", len(live), err)
			}
		})
	}
}

// reimported re-times a finding first observed at first as re-imported at last.
func reimported(first, last time.Time) map[string]any {
	return with(at(first), map[string]any{"LastObservedAt": last.UTC().Format(time.RFC3339), "UpdatedAt": last.UTC().Format(time.RFC3339)})
}

// TestRollbackIsRetriedByAnUnchangedReimport: after a failed import, the
// same event delivered again (a Lambda retry) changes nothing in the
// index, yet emits the rolled-back correlated finding.
func TestRollbackIsRetriedByAnUnchangedReimport(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := New(builtins(t), b.open(t), Options{Now: fixed(base)})
			fs := scenarios[1].load(t, base)
			rs := observeAll(t, e, fs...)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if rs := observeAll(t, e, fs[len(fs)-1]); len(rs) != 0 {
				t.Fatalf("redelivery before any failure emitted %+v", rs)
			}
			if err := e.Rollback(ctx, rs[0]); err != nil {
				t.Fatal(err)
			}
			again := observeAll(t, e, fs[len(fs)-1])
			if len(again) != 1 || !slices.Equal(ids(again[0]), ids(rs[0])) {
				t.Fatalf("redelivery after rollback: %+v, want the correlated finding again", again)
			}
			if rs := observeAll(t, e, fs[len(fs)-1]); len(rs) != 0 {
				t.Errorf("emitted again after a successful retry: %+v", rs)
			}
		})
	}
}

// TestFindingsNoConditionCouldMatchCostNoRead: a control no rule names
// (its generator never changes) on an instance the rules join on is not
// looked up; a GuardDuty finding of another type still is, since an
// earlier version might have matched.
func TestFindingsNoConditionCouldMatchCostNoRead(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	idx := newSpy(memstore.New())
	e := New(builtins(t), idx, Options{Now: fixed(base)})
	seen := at(base.Add(-time.Hour))
	other := fixture(t, fEC29, with(seen, map[string]any{"GeneratorId": "security-control/EC2.8",
		"Compliance": map[string]any{"Status": "FAILED", "SecurityControlId": "EC2.8"}}))
	observeAll(t, e, other)
	if got := idx.touched(); len(got) != 0 {
		t.Errorf("EC2.8 control finding touched %v, want no store access", got)
	}
	observeAll(t, e, fixture(t, fPortUnused, with(seen, map[string]any{"Types": []any{"TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"}})))
	if got := idx.touched(); !slices.Contains(got, "corr/f/AwsEc2Instance/"+instA) {
		t.Errorf("GuardDuty finding of another type touched %v, want its entry on the instance read", got)
	}
}
