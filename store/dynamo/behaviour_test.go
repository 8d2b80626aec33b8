package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"hubtriage/internal/motoserver"
	"hubtriage/store"
	"hubtriage/store/dynamo"
)

const (
	window = 24 * time.Hour
	lease  = 5 * time.Minute
)

// env is a fresh table reached through a serialising proxy.
type env struct {
	raw   *dynamodb.Client // straight to moto, for inspecting items
	table string
	proxy *proxy
}

func newEnv(t *testing.T) env {
	t.Helper()
	raw, table := newTable(t)
	return env{raw: raw, table: table, proxy: newProxy(t, motoserver.Start(t).URL)}
}

// open returns a Store with its own client, as one process of many would
// have.
func (e env) open(t *testing.T, opts dynamo.Options) *dynamo.Store {
	t.Helper()
	return dynamo.New(newClient(t, e.proxy.URL), e.table, opts)
}

// now is a whole-second time near the wall clock, like storetest's.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

func testMeta(key string) store.Meta {
	return store.Meta{FindingID: "finding/" + key, ProductArn: "arn:aws:securityhub:eu-west-1::product/aws/securityhub", Rule: "r", Channel: "c"}
}

// sameRecord describes how got differs from want; "" when equal.
func sameRecord(got, want store.Record) string {
	times := func(r store.Record) []time.Time {
		return []time.Time{r.FirstNotifiedAt, r.LastNotifiedAt, r.ResolvedAt}
	}
	gt, wt := times(got), times(want)
	for i := range gt {
		if !gt[i].Equal(wt[i]) {
			return fmt.Sprintf("times %v, want %v", gt, wt)
		}
	}
	got.FirstNotifiedAt, got.LastNotifiedAt, got.ResolvedAt = time.Time{}, time.Time{}, time.Time{}
	want.FirstNotifiedAt, want.LastNotifiedAt, want.ResolvedAt = time.Time{}, time.Time{}, time.Time{}
	if got != want {
		return fmt.Sprintf("%+v, want %+v", got, want)
	}
	return ""
}

func wantRecord(t *testing.T, s store.Store, want store.Record) {
	t.Helper()
	got, err := s.Get(context.Background(), want.Key)
	if err != nil {
		t.Fatalf("Get(%q): %v", want.Key, err)
	}
	if d := sameRecord(got, want); d != "" {
		t.Fatalf("Get(%q) = %s", want.Key, d)
	}
}

func notified(key string, first, last time.Time, n int) store.Record {
	return store.Record{Key: key, Meta: testMeta(key), Status: store.StatusNotified,
		FirstNotifiedAt: first, LastNotifiedAt: last, Notifications: n}
}

// TestManyProcessesNotifyOnce is the headline guarantee: 50 workers, each
// with its own client and Store as 50 Lambda invocations would have, see the
// same finding again and again; through a first notification, a
// renotification after the window and a recurrence after resolving, exactly
// one notification goes out per phase.
func TestManyProcessesNotifyOnce(t *testing.T) {
	const workers, rounds = 50, 2
	e := newEnv(t)
	stores := make([]*dynamo.Store, workers)
	for i := range stores {
		stores[i] = e.open(t, dynamo.Options{})
	}
	t0 := now()
	phases := []struct {
		name string
		at   time.Time
		kind store.Kind
	}{
		{"first", t0, store.KindNew},
		{"renotify", t0.Add(window), store.KindRenotify},
		{"recurrence", t0.Add(window + 2*time.Hour), store.KindRecurrence},
	}
	for _, ph := range phases {
		if ph.kind == store.KindRecurrence {
			if was, err := stores[0].Resolve(context.Background(), "k", ph.at.Add(-time.Hour)); err != nil || !was {
				t.Fatalf("Resolve = %v, %v; want true, nil", was, err)
			}
		}
		sent := notifyRace(t, stores, rounds, ph.at, ph.kind)
		if sent != 1 {
			t.Fatalf("%s: %d notifications from %d workers × %d rounds, want exactly 1", ph.name, sent, workers, rounds)
		}
	}
	last := phases[2].at
	wantRecord(t, stores[0], notified("k", last, last, 1))
}

// notifyRace has every store try rounds times to claim and confirm key "k"
// at now and returns how many notifications were sent. Every refusal must
// be a dedup outcome and every granted claim of kind want.
func notifyRace(t *testing.T, stores []*dynamo.Store, rounds int, now time.Time, want store.Kind) int {
	t.Helper()
	var sent atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, len(stores))
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := notifyOnce(s, now, want, &sent); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return int(sent.Load())
}

// notifyOnce is one worker's attempt: claim, "send", confirm.
func notifyOnce(s *dynamo.Store, now time.Time, want store.Kind, sent *atomic.Int32) error {
	ctx := context.Background()
	c, err := s.Claim(ctx, "k", testMeta("k"), now, window, lease)
	if errors.Is(err, store.ErrInFlight) || errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Kind != want {
		return fmt.Errorf("granted a %s claim, want %s", c.Kind, want)
	}
	sent.Add(1)
	return s.Confirm(ctx, c, now)
}

// noOldItem drops the item DynamoDB returns with a failed condition, like a
// DynamoDB-compatible server without ReturnValuesOnConditionCheckFailure,
// so the store must read the item back to classify the conflict.
type noOldItem struct{ dynamo.API }

func (n noOldItem) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := n.API.UpdateItem(ctx, in, optFns...)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		ccf.Item = nil
	}
	return out, err
}

// TestClaimConflictClassification checks which sentinel a refused claim
// gets, from the item DynamoDB returns and from a read-back alike, and
// that a refused claim changes nothing.
func TestClaimConflictClassification(t *testing.T) {
	t0 := now()
	notify := func(s store.Store, at time.Time) error {
		c, err := s.Claim(context.Background(), "k", testMeta("k"), at, window, lease)
		if err != nil {
			return err
		}
		return s.Confirm(context.Background(), c, at)
	}
	claim := func(s store.Store, at time.Time) error {
		_, err := s.Claim(context.Background(), "k", testMeta("k"), at, window, lease)
		return err
	}
	tests := []struct {
		name  string
		setup func(s store.Store) error
		at    time.Time
		want  error
	}{
		{"new claim in flight", func(s store.Store) error { return claim(s, t0) }, t0.Add(lease - time.Second), store.ErrInFlight},
		{"notified within window", func(s store.Store) error { return notify(s, t0) }, t0.Add(window - time.Second), store.ErrDuplicate},
		{"renotify claim in flight", func(s store.Store) error {
			return errors.Join(notify(s, t0), claim(s, t0.Add(window)))
		}, t0.Add(window + time.Second), store.ErrInFlight},
		{"recurrence claim in flight", func(s store.Store) error {
			if err := notify(s, t0); err != nil {
				return err
			}
			if _, err := s.Resolve(context.Background(), "k", t0.Add(time.Minute)); err != nil {
				return err
			}
			return claim(s, t0.Add(time.Hour))
		}, t0.Add(time.Hour), store.ErrInFlight},
		// Both hold for a caller whose clock lags the claimer's: the
		// duplicate is reported, as it stays true after the claim settles.
		{"duplicate wins over in flight", func(s store.Store) error {
			return errors.Join(notify(s, t0), claim(s, t0.Add(window)))
		}, t0.Add(window - time.Second), store.ErrDuplicate},
	}
	for _, mode := range []string{"returned item", "read back"} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t)
				var api dynamo.API = newClient(t, e.proxy.URL)
				if mode == "read back" {
					api = noOldItem{api}
				}
				s := dynamo.New(api, e.table, dynamo.Options{})
				if err := tt.setup(s); err != nil {
					t.Fatalf("setup: %v", err)
				}
				before := rawItem(t, e, "k")
				reads := e.proxy.count("GetItem")
				if err := claim(s, tt.at); !errors.Is(err, tt.want) {
					t.Fatalf("Claim = %v, want %v", err, tt.want)
				}
				if after := rawItem(t, e, "k"); !reflect.DeepEqual(after, before) {
					t.Fatalf("refused claim changed the item:\n%v\nto\n%v", before, after)
				}
				readBack := e.proxy.count("GetItem") > reads
				if readBack != (mode == "read back") {
					t.Fatalf("classified with a read-back = %v in mode %q", readBack, mode)
				}
			})
		}
	}
}

// TestRetriedWritesKeepTheirEffect loses moto's answer to a write that
// succeeded, so the SDK retries it and the retry's condition fails on the
// write's own effect; the store must recognise its own claim or
// confirmation instead of reporting in-flight or claim-lost.
func TestRetriedWritesKeepTheirEffect(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, fastRetry)
	ctx := context.Background()
	t0, t1 := now(), now().Add(window)
	loseFirst := func(op string, n int) fault {
		if op == "UpdateItem" && n == 1 {
			return loseResponse
		}
		return pass
	}

	e.proxy.setFault(loseFirst)
	c, err := s.Claim(ctx, "k", testMeta("k"), t0, window, lease)
	if err != nil || c.Kind != store.KindNew {
		t.Fatalf("Claim with a lost answer = %+v, %v; want a KindNew claim", c, err)
	}
	e.proxy.setFault(loseFirst)
	if err := s.Confirm(ctx, c, t0); err != nil {
		t.Fatalf("Confirm with a lost answer = %v, want nil", err)
	}
	wantRecord(t, s, notified("k", t0, t0, 1))

	e.proxy.setFault(loseFirst)
	c, err = s.Claim(ctx, "k", testMeta("k"), t1, window, lease)
	if err != nil || c.Kind != store.KindRenotify {
		t.Fatalf("renotify Claim with a lost answer = %+v, %v; want a KindRenotify claim", c, err)
	}
	if d := sameRecord(c.Prev, notified("k", t0, t0, 1)); d != "" {
		t.Fatalf("renotify Prev = %s", d)
	}
	e.proxy.setFault(loseFirst)
	if err := s.Confirm(ctx, c, t1); err != nil {
		t.Fatalf("renotify Confirm with a lost answer = %v, want nil", err)
	}
	if n := e.proxy.count("UpdateItem"); n != 2 {
		t.Fatalf("Confirm sent %d UpdateItem requests, want 2 (the lost one and its retry)", n)
	}
	wantRecord(t, s, notified("k", t0, t1, 2)) // counted once, not twice
}

// TestThrottlingIsRetried answers the first requests of every operation
// with a throttling error: the store's retryer rides them out even when the
// client was built to try once, and gives up after MaxAttempts.
func TestThrottlingIsRetried(t *testing.T) {
	for _, code := range []string{"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"} {
		t.Run(code, func(t *testing.T) {
			e := newEnv(t)
			client := dynamodb.NewFromConfig(motoserver.Start(t).AWSConfig(), func(o *dynamodb.Options) {
				o.BaseEndpoint = &e.proxy.URL
				o.RetryMaxAttempts = 1
			})
			s := dynamo.New(client, e.table, fastRetry) // 4 attempts
			e.proxy.setFault(func(_ string, n int) fault {
				if n <= 3 {
					return fault(code)
				}
				return pass
			})
			throttledOps(t, s)
			for _, op := range []string{"UpdateItem", "PutItem", "Query", "Scan", "GetItem"} {
				if n := e.proxy.count(op); n != 4 {
					t.Errorf("%s requests = %d, want 4 (3 throttled + 1)", op, n)
				}
			}

			e.proxy.setFault(func(string, int) fault { return fault(code) })
			_, err := s.Claim(context.Background(), "other", testMeta("other"), now(), window, lease)
			var apiErr interface{ ErrorCode() string }
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
				t.Fatalf("Claim under constant throttling = %v, want the %s error", err, code)
			}
			if errors.Is(err, store.ErrInFlight) || errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("throttling error %v looks like a dedup outcome", err)
			}
		})
	}
}

// throttledOps runs one call of each kind of request the store makes.
func throttledOps(t *testing.T, s *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	t0 := now()
	if _, err := s.Claim(ctx, "k", testMeta("k"), t0, window, lease); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if err := s.Put(ctx, store.Entry{Partition: "p", Sort: "s", Value: []byte("v")}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if es, err := s.Entries(ctx, "p", t0); err != nil || len(es) != 1 {
		t.Fatalf("Entries = %d entries, %v; want 1", len(es), err)
	}
	if err := s.Records(ctx, func(store.Record) error { return nil }); err != nil {
		t.Fatalf("Records: %v", err)
	}
	if _, err := s.GetEntry(ctx, "p", "s", t0); err != nil {
		t.Fatalf("GetEntry: %v", err)
	}
}

// rawItem reads key's dedup item straight from moto, decoded to plain Go
// values (numbers as attributevalue.Number) so that items compare with DeepEqual.
func rawItem(t *testing.T, e env, key string) map[string]any {
	t.Helper()
	return decodeRaw(t, getRaw(t, e, "dedup#"+key, "record"))
}

// decodeRaw decodes an item to plain Go values, numbers as attributevalue.Number.
func decodeRaw(t *testing.T, it map[string]types.AttributeValue) map[string]any {
	t.Helper()
	var m map[string]any
	err := attributevalue.UnmarshalMapWithOptions(it, &m, func(o *attributevalue.DecoderOptions) { o.UseNumber = true })
	if err != nil {
		t.Fatalf("decode item: %v", err)
	}
	return m
}

// getRaw reads the item (pk, sk) straight from moto; nil when missing.
func getRaw(t *testing.T, e env, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.raw.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &e.table,
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk},
			"SK": &types.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: new(true),
	})
	if err != nil {
		t.Fatalf("raw GetItem(%s, %s): %v", pk, sk, err)
	}
	return out.Item
}

// TestInFlightNamesItsOwner: a worker meeting another's live claim is told
// whose it is and until when, so a run can report it as pending.
func TestInFlightNamesItsOwner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.open(t, dynamo.Options{Owner: "worker-a"})
	b := e.open(t, dynamo.Options{Owner: "worker-b"})
	t0 := now()
	if _, err := a.Claim(ctx, "k", testMeta("k"), t0, window, lease); err != nil {
		t.Fatal(err)
	}
	_, err := b.Claim(ctx, "k", testMeta("k"), t0, window, lease)
	if !errors.Is(err, store.ErrInFlight) {
		t.Fatalf("Claim = %v, want ErrInFlight", err)
	}
	until := t0.Add(lease).Format(time.RFC3339)
	if msg := err.Error(); !strings.Contains(msg, "held by worker-a until "+until) {
		t.Errorf("error %q does not name the owner and the lease's end (%s)", msg, until)
	}
}
