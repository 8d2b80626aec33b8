package correlate

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hubtriage/store/memstore"
)

// fakeGroups is a GroupResolver built from function fields; a nil field
// answers nothing.
type fakeGroups struct {
	instanceGroups func(ctx context.Context, inst Ref) ([]string, error)
	groupInstances func(ctx context.Context, group Ref) ([]string, error)
}

func (f fakeGroups) InstanceGroups(ctx context.Context, inst Ref) ([]string, error) {
	if f.instanceGroups == nil {
		return nil, nil
	}
	return f.instanceGroups(ctx, inst)
}

func (f fakeGroups) GroupInstances(ctx context.Context, group Ref) ([]string, error) {
	if f.groupInstances == nil {
		return nil, nil
	}
	return f.groupInstances(ctx, group)
}

var _ GroupResolver = fakeGroups{}

// TestResolvedGroupsCompleteTheExposedInstanceRule: with only the Security
// Hub copies of the GuardDuty findings (which name no security group), the
// rule fires when a GroupResolver says the instance uses the failing group,
// asking once per instance while the answer is kept, and again after it
// expired.
func TestResolvedGroupsCompleteTheExposedInstanceRule(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	now := base
	clock := func() time.Time { return now }
	seen := at(base.Add(-time.Hour))
	tests := []struct {
		name   string
		groups []string
		fires  bool
		calls  int32 // with nothing recorded, each instance finding asks (the resolver caches its answers)
	}{
		{"the instance uses the failing group", []string{"sg-0123456789abcdef0", sgA}, true, 1},
		{"the instance uses other groups", []string{"sg-0123456789abcdef0"}, false, 1},
		{"the instance is gone (no groups)", nil, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = base
			var calls atomic.Int32
			e := New(builtins(t), memstore.New().WithClock(clock), Options{Now: clock, GroupsTTL: 2 * time.Hour,
				Groups: fakeGroups{instanceGroups: func(_ context.Context, inst Ref) ([]string, error) {
					calls.Add(1)
					if inst.Name != instA || inst.Account != "111122223333" || inst.Region != "us-east-1" {
						t.Errorf("asked about %+v, want instance %s in 111122223333/us-east-1", inst, instA)
					}
					return tt.groups, nil
				}}})
			rs := observeAll(t, e, fixture(t, fEC29, seen), fixture(t, fEC218, seen), fixture(t, fPortUnused, seen), fixture(t, fSSH, seen))
			if fired := len(rs); (fired == 1) != tt.fires || fired > 1 {
				t.Errorf("%d correlated findings, want fires=%v (once)", fired, tt.fires)
			}
			if calls.Load() != tt.calls {
				t.Errorf("resolver asked %d times, want %d", calls.Load(), tt.calls)
			}
			if tt.fires {
				now = base.Add(3 * time.Hour) // past GroupsTTL
				observeAll(t, e, fixture(t, fSSH, at(now.Add(-time.Minute))))
				if calls.Load() != 2 {
					t.Errorf("resolver asked %d times after the relation expired, want 2", calls.Load())
				}
			}
		})
	}
}

func TestResolverErrorFailsTheObservation(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	boom := errors.New("throttled")
	e := New(builtins(t), memstore.New(), Options{Now: fixed(base),
		Groups: fakeGroups{instanceGroups: func(context.Context, Ref) ([]string, error) { return nil, boom }}})
	_, err := e.Observe(context.Background(), fixture(t, fEC29, at(base.Add(-time.Hour))))
	if !errors.Is(err, boom) {
		t.Fatalf("Observe error %v, want the resolver's", err)
	}
}

// TestResolvedInstancesWhenTheGroupFindingComesLast: the instance's
// findings came days earlier and what EC2 said about them has expired;
// the security group control arriving last asks which instances use the
// group, and the rule fires on them.
func TestResolvedInstancesWhenTheGroupFindingComesLast(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	now := base
	clock := func() time.Time { return now }
	var asked []string
	e := New(builtins(t), memstore.New().WithClock(clock), Options{Now: clock, GroupsTTL: time.Hour,
		Groups: fakeGroups{
			instanceGroups: func(context.Context, Ref) ([]string, error) { return nil, nil }, // (gone from EC2's view: nothing)
			groupInstances: func(_ context.Context, g Ref) ([]string, error) {
				asked = append(asked, g.Name)
				return []string{"i-0123456789abcdef0", instA}, nil
			},
		}})
	seen := at(base.Add(-time.Hour))
	if rs := observeAll(t, e, fixture(t, fEC29, seen), fixture(t, fPortUnused, seen), fixture(t, fSSH, seen)); len(rs) != 0 {
		t.Fatalf("%d results before the group finding", len(rs))
	}
	now = base.Add(48 * time.Hour)
	rs := observeAll(t, e, fixture(t, fEC218, at(now.Add(-time.Minute))))
	if len(rs) != 1 || rs[0].Rule != "ec2-exposed-instance-under-attack" || !strings.HasSuffix(rs[0].Resource, instA) {
		t.Fatalf("results %+v, want the exposed-instance rule on %s", rs, instA)
	}
	if len(asked) != 1 || asked[0] != sgA {
		t.Errorf("asked about groups %v, want once about %s", asked, sgA)
	}
}
