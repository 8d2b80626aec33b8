package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hubtriage/daemon"
	"hubtriage/internal/shtest"
	"hubtriage/notify"
	"hubtriage/pipeline"
	"hubtriage/store/bolt"
)

// stamp is how the daemon writes a window start.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func poll(t *testing.T, d *daemon.Daemon) daemon.PollResult {
	t.Helper()
	res, err := d.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPollNotifiesOnceAndAdvancesCheckpoint(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), nil), finding(t, "b", now.Add(-2*time.Hour), nil))
	d, _ := e.open(t, daemon.Options{})

	res := poll(t, d)
	if res.Summary.Notified != 2 || !res.Complete || !res.Checkpoint.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("first poll %+v; want 2 notified, checkpoint at b's UpdatedAt", res)
	}
	res = poll(t, d)
	if res.Summary.Read != 1 || res.Summary.Duplicates != 1 || res.Summary.Notified != 0 {
		t.Errorf("second poll %+v; want only b re-read (overlap) as a duplicate", res.Summary)
	}
	e.load(t, finding(t, "c", now.Add(-time.Hour), nil))
	res = poll(t, d)
	if res.Summary.Notified != 1 || !res.Checkpoint.Equal(now.Add(-time.Hour)) {
		t.Errorf("third poll %+v; want c notified and the checkpoint at its UpdatedAt", res)
	}
	if got, want := e.ch.notifications(), []string{"a new", "b new", "c new"}; !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
	overlap := daemon.DefaultOverlap
	want := []string{stamp(now.Add(-daemon.DefaultInitialLookback)), stamp(now.Add(-2*time.Hour - overlap)), stamp(now.Add(-2*time.Hour - overlap))}
	if got := updatedStarts(t, e.srv); !slices.Equal(got, want) {
		t.Errorf("windows started at %v, want %v", got, want)
	}
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), nil), finding(t, "b", now.Add(-2*time.Hour), nil))
	st, err := bolt.Open(e.path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	poll(t, e.daemon(t, st, daemon.Options{}))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A finding that reached Security Hub late, stamped inside the overlap.
	e.load(t, finding(t, "late", now.Add(-2*time.Hour-time.Minute), nil))
	d, _ := e.open(t, daemon.Options{})
	res := poll(t, d)
	if res.Summary.Notified != 1 || res.Summary.Duplicates != 1 {
		t.Errorf("after restart %+v; want late notified and b a duplicate", res.Summary)
	}
	if got, want := e.ch.notifications(), []string{"a new", "b new", "late new"}; !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
	if got := updatedStarts(t, e.srv); got[1] != stamp(now.Add(-2*time.Hour-daemon.DefaultOverlap)) {
		t.Errorf("restarted poll started at %s, want the stored checkpoint less the overlap", got[1])
	}
}

// TestStateChangesAreSeenThroughPushDown: the rule asks for ACTIVE
// findings, but the poll must still read the archived version to resolve
// the finding, so its return is a recurrence.
func TestStateChangesAreSeenThroughPushDown(t *testing.T) {
	e := newEnv(t, `{"SeverityLabel": [{"Value": "MEDIUM", "Comparison": "EQUALS"}], "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}`)
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), nil))
	d, _ := e.open(t, daemon.Options{})
	var decisions []string
	steps := []struct {
		updated time.Duration
		state   string
	}{{-3 * time.Hour, "ACTIVE"}, {-2 * time.Hour, "ARCHIVED"}, {-time.Hour, "ACTIVE"}}
	for _, s := range steps {
		e.load(t, finding(t, "a", now.Add(s.updated), map[string]any{"RecordState": s.state}))
		res, err := d.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		decisions = append(decisions, fmt.Sprintf("%d/%d/%d", res.Summary.Notified, res.Summary.Resolved, res.Summary.Duplicates))
	}
	// Notified/Resolved/Duplicates per poll: the re-read of the previous
	// version inside the overlap is not repeated (one version per poll).
	if want := []string{"1/0/0", "0/1/0", "1/0/0"}; !slices.Equal(decisions, want) {
		t.Errorf("polls %v, want %v", decisions, want)
	}
	if got, want := e.ch.notifications(), []string{"a new", "a recurrence"}; !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
}

func TestOneQueryPerRuleEachFindingOnce(t *testing.T) {
	e := newEnv(t,
		`{"SeverityLabel": [{"Value": "MEDIUM", "Comparison": "EQUALS"}]}`,
		`{"AwsAccountId": [{"Value": "193043430472", "Comparison": "EQUALS"}]}`)
	high := map[string]any{"Severity": map[string]any{"Label": "HIGH", "Normalized": 70}}
	other := map[string]any{"AwsAccountId": "111122223333", "Severity": map[string]any{"Label": "LOW", "Normalized": 1}}
	e.load(t, finding(t, "medium-acct", now.Add(-time.Hour), nil),
		finding(t, "high-acct", now.Add(-time.Hour), high),
		finding(t, "low-other", now.Add(-time.Hour), other))
	d, _ := e.open(t, daemon.Options{})
	res := poll(t, d)
	if res.Queries != 2 || res.Summary.Read != 2 || res.Summary.Filtered != 0 {
		t.Errorf("poll %+v; want 2 queries reading the 2 matching findings once each", res)
	}
	want := []string{"high-acct new", "medium-acct new", "medium-acct new"}
	if got := e.ch.notifications(); !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v (one per rule matched)", got, want)
	}
}

func TestFailedDeliveryHoldsCheckpoint(t *testing.T) {
	e := newEnv(t)
	down := true
	e.ch.fail = func(n notify.Notification) error {
		if down && n.Finding.ID == "b" {
			return errors.New("421 service not available")
		}
		return nil
	}
	e.load(t, finding(t, "a", now.Add(-3*time.Hour), nil), finding(t, "b", now.Add(-2*time.Hour), nil),
		finding(t, "c", now.Add(-time.Hour), nil))
	d, _ := e.open(t, daemon.Options{})
	res := poll(t, d)
	if res.Summary.Errors != 1 || !res.Checkpoint.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("poll %+v; want b failed and the checkpoint held at its UpdatedAt", res)
	}
	down = false
	res = poll(t, d)
	if res.Summary.Errors != 0 || !res.Checkpoint.Equal(now.Add(-time.Hour)) {
		t.Errorf("poll after recovery %+v; want no error and the checkpoint at c", res)
	}
	if got, want := e.ch.notifications(), []string{"a new", "b new", "c new"}; !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v (b once, after recovery)", got, want)
	}
}

func TestReplicasOnOneStoreAlertOnce(t *testing.T) {
	e := newEnv(t)
	var fs [][]byte
	for i := range 30 {
		fs = append(fs, finding(t, fmt.Sprintf("f%02d", i), now.Add(-time.Duration(60-i)*time.Minute), nil))
	}
	e.load(t, fs...)
	st, err := bolt.Open(e.path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	checkpoints := make(chan time.Time, 12)
	for range 3 {
		d := e.daemon(t, st, daemon.Options{})
		wg.Go(func() {
			for range 4 {
				res, err := d.Poll(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				checkpoints <- res.Checkpoint
			}
		})
	}
	wg.Wait()
	close(checkpoints)
	if n := len(e.ch.notifications()); n != 30 {
		t.Errorf("%d notifications from 3 replicas, want 30", n)
	}
	for cp := range checkpoints {
		if want := now.Add(-31 * time.Minute); !cp.Equal(want) {
			t.Errorf("a replica saw checkpoint %s, want %s", cp, want)
		}
	}
}

// TestCancelledPollLosesAndDoublesNothing: a shutdown while deliveries are
// in flight; the findings read are delivered and recorded, the rest are
// delivered after a restart, each exactly once.
func TestCancelledPollLosesAndDoublesNothing(t *testing.T) {
	e := newEnv(t)
	var fs [][]byte
	for i := range 250 {
		fs = append(fs, finding(t, fmt.Sprintf("f%03d", i), now.Add(-time.Hour), nil))
	}
	e.load(t, fs...)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.ch.block = func() {
		once.Do(func() { close(started) })
		<-release
	}
	d, st := e.open(t, daemon.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.Poll(ctx)
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("poll ended before any delivery: %v", err)
	}
	cancel()
	close(release)
	err := <-done
	read := len(e.ch.notifications())
	if err == nil && read != 250 {
		t.Fatalf("cancelled poll reported success after %d of 250 findings", read)
	}
	e.ch.block = nil
	d2 := e.daemon(t, st, daemon.Options{})
	poll(t, d2)
	got := e.ch.notifications()
	slices.Sort(got)
	if len(got) != 250 || len(slices.Compact(got)) != 250 {
		t.Errorf("%d notifications (%d before the restart), want each of the 250 findings once", len(got), read)
	}
}

// Compile-time check that the test channel is a channel.
var _ notify.Channel = (*recorder)(nil)

// Decisions passed to Options.Decisions arrive in input order.
func TestDecisionsCallback(t *testing.T) {
	e := newEnv(t)
	e.load(t, finding(t, "a", now.Add(-2*time.Hour), nil), finding(t, "b", now.Add(-time.Hour), nil))
	var got []string
	d, _ := e.open(t, daemon.Options{Decisions: func(d pipeline.Decision) error {
		got = append(got, d.FindingID+" "+d.Decision)
		return nil
	}})
	poll(t, d)
	if want := []string{"a notify", "b notify"}; !slices.Equal(got, want) {
		t.Errorf("decisions %v, want %v", got, want)
	}
}

// TestNewFilterFieldsArePushedDown polls with rules on IpFilter, NumberFilter,
// BooleanFilter and Inspector string fields: Security Hub (the fake, which
// evaluates them independently of package filter) returns only the
// findings they select, and the rules match those.
func TestNewFilterFieldsArePushedDown(t *testing.T) {
	e := newEnv(t,
		`{"NetworkSourceIpV4": [{"Cidr": "198.51.100.0/24"}], "Confidence": [{"Gte": 50}]}`,
		`{"VulnerabilitiesFixAvailable": [{"Value": "YES", "Comparison": "EQUALS"}], "Sample": [{"Value": false}]}`)
	attacker := map[string]any{"Network": map[string]any{"Direction": "IN", "SourceIpV4": "198.51.100.7"}, "Confidence": 80}
	e.load(t,
		finding(t, "attacker", now.Add(-time.Hour), attacker),
		finding(t, "unsure", now.Add(-time.Hour), map[string]any{"Network": map[string]any{"SourceIpV4": "198.51.100.8"}, "Confidence": 10}),
		finding(t, "elsewhere", now.Add(-time.Hour), map[string]any{"Network": map[string]any{"SourceIpV4": "203.0.113.9"}, "Confidence": 90}),
		finding(t, "fixable", now.Add(-time.Hour), map[string]any{"Vulnerabilities": []any{map[string]any{"Id": "CVE-2024-6387", "FixAvailable": "YES"}}}),
		finding(t, "sample", now.Add(-time.Hour), map[string]any{"Sample": true,
			"Vulnerabilities": []any{map[string]any{"Id": "CVE-2024-6387", "FixAvailable": "YES"}}}),
		finding(t, "unfixable", now.Add(-time.Hour), map[string]any{"Vulnerabilities": []any{map[string]any{"Id": "CVE-1", "FixAvailable": "NO"}}}))
	d, _ := e.open(t, daemon.Options{})
	res := poll(t, d)
	if res.Queries != 2 || res.Summary.Read != 2 || res.Summary.Filtered != 0 {
		t.Errorf("poll %+v; want 2 queries reading only the 2 selected findings", res)
	}
	if got, want := e.ch.notifications(), []string{"attacker new", "fixable new"}; !slices.Equal(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
	for _, r := range e.srv.Requests() {
		if r.Op == shtest.GetFindings && !strings.Contains(string(r.Filters), `"NetworkSourceIpV4"`) &&
			!strings.Contains(string(r.Filters), `"VulnerabilitiesFixAvailable"`) {
			t.Errorf("a query without the rules' fields: %s", r.Filters)
		}
	}
}
