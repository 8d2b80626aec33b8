package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/asff"
	"hubtriage/correlate"
	"hubtriage/filter"
	"hubtriage/internal/fixtures"
	"hubtriage/notify"
	"hubtriage/store"
	"hubtriage/store/memstore"
)

var stageNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// stagePipeline is a pipeline over an in-memory store at stageNow.
func stagePipeline(t *testing.T, rules ...Rule) (*Pipeline, *runState, store.Store) {
	t.Helper()
	st := memstore.New()
	p, err := New(Options{Rules: rules, Store: st, Now: func() time.Time { return stageNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p, p.newRun(), st
}

func stage(r *runState, name string) Stage {
	for _, s := range r.stages {
		if s.name == name {
			return s.Stage
		}
	}
	return nil
}

func one(f *asff.Finding) Batch {
	a := &Alert{Finding: f}
	return Batch{Findings: []*Alert{a}, Alerts: []*Alert{a}}
}

func mustExec(t *testing.T, s Stage, b Batch) Batch {
	t.Helper()
	b, err := s.Exec(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStageOrder: the stages run in the documented order.
func TestStageOrder(t *testing.T) {
	_, r, _ := stagePipeline(t, Rule{Name: "all", Filter: &filter.Filters{}})
	var names []string
	for _, s := range r.stages {
		names = append(names, s.name)
	}
	if got := strings.Join(names, ","); got != "decode,match,resolve,dedup,deliver,record,correlate" {
		t.Fatalf("stages %s", got)
	}
}

func TestDecodeStage(t *testing.T) {
	f := decode(t, fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	b := mustExec(t, decodeStage{}, Batch{Input: []asff.Result{{Err: errors.New("events.json at byte 12: bad")}, {Finding: f}}})
	ds := b.decisions()
	if len(ds) != 1 || ds[0].Decision != DecisionError || !strings.Contains(ds[0].Reason, "byte 12") {
		t.Fatalf("decisions %+v, want the decode error", ds)
	}
	if len(b.Alerts) != 1 || b.Alerts[0].Finding != f || len(b.Findings) != 1 {
		t.Fatalf("alerts %+v, want the decoded finding", b.Alerts)
	}
}

func TestMatchStage(t *testing.T) {
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	medium := mustFilter(t, `{"SeverityLabel":[{"Value":"MEDIUM","Comparison":"EQUALS"}]}`)
	low := mustFilter(t, `{"SeverityLabel":[{"Value":"LOW","Comparison":"EQUALS"}]}`)
	_, r, _ := stagePipeline(t, Rule{Name: "a", Filter: &filter.Filters{}}, Rule{Name: "low", Filter: low}, Rule{Name: "c", Filter: medium})
	b := mustExec(t, stage(r, "match"), one(decode(t, raw)))
	var rules []string
	for _, a := range b.Alerts {
		rules = append(rules, a.Rule.Name)
	}
	if strings.Join(rules, ",") != "a,c" || len(b.decisions()) != 0 {
		t.Fatalf("alerts for rules %v, decisions %+v; want a,c in rule order", rules, b.decisions())
	}
	_, r, _ = stagePipeline(t, Rule{Name: "low", Filter: low})
	if b := mustExec(t, stage(r, "match"), one(decode(t, raw))); decisions(b.decisions()) != "filtered" || len(b.Alerts) != 0 {
		t.Fatalf("no rule matching: %+v", b.decisions())
	}
	inactive := withState(t, raw, "ARCHIVED")
	if b := mustExec(t, stage(r, "match"), one(inactive)); len(b.Alerts) != 1 || b.Alerts[0].Rule != nil {
		t.Fatalf("inactive finding did not pass on to resolve: %+v", b.Alerts)
	}
}

func TestResolveStage(t *testing.T) {
	raw := fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json")
	active, inactive := decode(t, raw), withState(t, raw, "ARCHIVED")
	p, r, st := stagePipeline(t, Rule{Name: "all", Filter: &filter.Filters{}})
	ctx := context.Background()
	key := dedupKey("all", "", active)
	c, err := st.Claim(ctx, key, store.Meta{}, stageNow.Add(-time.Hour), never, time.Minute)
	if err != nil || st.Confirm(ctx, c, stageNow.Add(-time.Hour)) != nil {
		t.Fatal(err)
	}
	if err := p.park(ctx, active); err != nil {
		t.Fatal(err)
	}
	b := mustExec(t, stage(r, "resolve"), one(inactive))
	if decisions(b.decisions()) != "resolved" || len(b.Alerts) != 0 {
		t.Fatalf("decisions %+v", b.decisions())
	}
	if rec, _ := st.Get(ctx, key); rec.Status != store.StatusResolved {
		t.Errorf("record %+v, want resolved", rec)
	}
	if _, err := st.GetEntry(ctx, pendingPartition, active.Identity(), stageNow); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("parked delivery of a resolved finding kept: %v", err)
	}
	if b := mustExec(t, stage(r, "resolve"), one(inactive)); decisions(b.decisions()) != "filtered" {
		t.Errorf("untracked inactive finding: %+v", b.decisions())
	}
	if b := mustExec(t, stage(r, "resolve"), one(active)); len(b.Alerts) != 1 || len(b.decisions()) != 0 {
		t.Errorf("active finding did not pass on: %+v", b.decisions())
	}
}

// matched is f as the match stage passes it on under rules[0].
func matched(p *Pipeline, f *asff.Finding) Batch {
	a := &Alert{Finding: f, Rule: &p.opt.Rules[0], now: stageNow}
	return Batch{Alerts: []*Alert{a}}
}

func TestDedupStage(t *testing.T) {
	f := decode(t, fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	ch := &recorder{name: "mail"}
	p, r, st := stagePipeline(t, Rule{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}})
	b := mustExec(t, stage(r, "dedup"), matched(p, f))
	if len(b.Alerts) != 1 || !b.Alerts[0].Sends[0].Claimed {
		t.Fatalf("new finding not claimed: %+v", b.Alerts)
	}
	// The claim is held: another worker now meets it in flight.
	b = mustExec(t, stage(r, "dedup"), matched(p, f))
	if snd := b.Alerts[0].Sends[0]; snd.Pending == "" || snd.Claimed {
		t.Fatalf("claim held elsewhere: %+v, want pending", snd)
	}
	if d := fold(b.Alerts[0]); d.Decision != DecisionPending {
		t.Fatalf("decision %+v, want pending", d)
	}
	key := dedupKey("all", "mail", f)
	c, err := st.Claim(context.Background(), key, store.Meta{}, stageNow.Add(time.Hour), never, time.Minute)
	if err != nil || st.Confirm(context.Background(), c, stageNow) != nil {
		t.Fatal(err)
	}
	if b := mustExec(t, stage(r, "dedup"), matched(p, f)); decisions(b.decisions()) != "duplicate" || len(b.Alerts) != 0 {
		t.Fatalf("notified finding: %+v", b.decisions())
	}
}

// flaky fails every message, transiently or for good.
type flaky struct {
	retry bool
	calls int
}

func (f *flaky) Name() string { return "flaky" }
func (f *flaky) Notify(context.Context, notify.Notification) (bool, error) {
	f.calls++
	return f.retry, errors.New("refused")
}

func claimedAlert(p *Pipeline, f *asff.Finding, ch notify.Channel) *Alert {
	return &Alert{Finding: f, Rule: &p.opt.Rules[0], now: stageNow, Sends: []Send{{Channel: ch, Claimed: true}}}
}

func TestDeliverStageOpensTheCircuit(t *testing.T) {
	f := decode(t, fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	for _, retry := range []bool{true, false} {
		ch := &flaky{retry: retry}
		p, r, _ := stagePipeline(t, Rule{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}})
		var b Batch
		for range 10 {
			b.Alerts = append(b.Alerts, claimedAlert(p, f, ch))
		}
		b = mustExec(t, stage(r, "deliver"), b)
		want := 10
		if retry {
			want = breakerTrips // then the circuit is open
		}
		if ch.calls != want {
			t.Errorf("retry=%v: %d attempts, want %d", retry, ch.calls, want)
		}
		for _, a := range b.Alerts {
			if snd := a.Sends[0]; snd.Err == nil || snd.Retry != retry {
				t.Errorf("retry=%v: send %+v", retry, snd)
			}
		}
	}
}

func TestRecordStage(t *testing.T) {
	f := decode(t, fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	ctx := context.Background()
	for _, c := range []struct {
		name        string
		err         error
		retry       bool
		wantStatus  store.Status
		wantParked  bool
		wantOutcome string
	}{
		{"accepted", nil, false, store.StatusNotified, false, "notify"},
		{"transient", errors.New("451"), true, "", true, "kept pending"},
		{"permanent", errors.New("550"), false, store.StatusNotified, false, "refused for good"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := &recorder{name: "mail"}
			p, r, st := stagePipeline(t, Rule{Name: "all", Filter: &filter.Filters{}, Channels: []notify.Channel{ch}})
			key := dedupKey("all", "mail", f)
			claim, err := st.Claim(ctx, key, store.Meta{}, stageNow, never, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			a := &Alert{Finding: f, Rule: &p.opt.Rules[0], now: stageNow,
				Sends: []Send{{Channel: ch, Key: key, Claim: claim, Claimed: true, Err: c.err, Retry: c.retry}}}
			b := mustExec(t, stage(r, "record"), Batch{Alerts: []*Alert{a}})
			ds := b.decisions()
			if len(ds) != 1 || !strings.Contains(ds[0].Decision+" "+ds[0].Reason, c.wantOutcome) {
				t.Fatalf("decisions %+v, want %q", ds, c.wantOutcome)
			}
			rec, _ := st.Get(ctx, key)
			if rec.Status != c.wantStatus || rec.Claimed {
				t.Errorf("record %+v, want status %q and no claim", rec, c.wantStatus)
			}
			_, err = st.GetEntry(ctx, pendingPartition, f.Identity(), stageNow)
			if parked := err == nil; parked != c.wantParked || b.parked != c.wantParked {
				t.Errorf("parked %v (batch says %v), want %v", parked, b.parked, c.wantParked)
			}
		})
	}
}

// observer is a Correlator that records what it observed.
type observer struct {
	seen []string
	err  error
}

func (o *observer) Observe(_ context.Context, f *asff.Finding) ([]correlate.Result, error) {
	o.seen = append(o.seen, f.ID)
	return nil, o.err
}
func (o *observer) Settle(context.Context) ([]correlate.Result, error) { return nil, nil }
func (o *observer) Rollback(context.Context, correlate.Result) error   { return nil }

func TestCorrelateStage(t *testing.T) {
	f := decode(t, fixtures.Read(t, "findings/guardduty-ssh-bruteforce.json"))
	own := *f
	own.ProductArn = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
	own.GeneratorID = "hubtriage/correlation/s3-exfiltration" // what correlate.IsOwn recognises
	o := &observer{err: errors.New("index unavailable")}
	s := correlateStage{corr: o, later: &results{}}
	b := mustExec(t, s, Batch{Findings: []*Alert{{Finding: f}, {Finding: &own, pos: position{finding: 1}}}})
	if !slices.Equal(o.seen, []string{f.ID}) {
		t.Errorf("observed %v, want only the input finding (not hubtriage's own)", o.seen)
	}
	if ds := b.decisions(); len(ds) != 1 || !strings.Contains(ds[0].Reason, "index unavailable") {
		t.Errorf("decisions %+v, want the correlator's error", ds)
	}
}
