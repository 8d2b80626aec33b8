package dynamo_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"hubtriage/store"
	"hubtriage/store/dynamo"
)

// nanoNum is t as the attributevalue.Number decodeRaw gives for a nanosecond time.
func nanoNum(t time.Time) attributevalue.Number {
	return attributevalue.Number(strconv.FormatInt(t.UnixNano(), 10))
}

// metaMap is testMeta(key) as the meta map attribute decodes.
func metaMap(key string) map[string]any {
	m := testMeta(key)
	return map[string]any{"finding_id": m.FindingID, "product_arn": m.ProductArn, "rule": m.Rule, "channel": m.Channel}
}

// TestDedupItemLayout pins the attributes doc.go documents, as the items
// look after each step of a key's life.
func TestDedupItemLayout(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, dynamo.Options{})
	ctx := context.Background()
	t0 := now()
	c, err := s.Claim(ctx, "k", testMeta("k"), t0, window, lease)
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "claimed", rawItem(t, e, "k"), map[string]any{
		"PK": "dedup#k", "SK": "record",
		"claim": map[string]any{"token": c.Token, "expires_at": nanoNum(t0.Add(lease)), "meta": metaMap("k")},
	})
	if err := s.Confirm(ctx, c, t0); err != nil {
		t.Fatal(err)
	}
	settled := map[string]any{
		"PK": "dedup#k", "SK": "record", "status": "notified", "meta": metaMap("k"),
		"first_notified_at": nanoNum(t0), "last_notified_at": nanoNum(t0), "notifications": attributevalue.Number("1"),
	}
	wantItem(t, "confirmed", rawItem(t, e, "k"), settled)
	if _, err := s.Resolve(ctx, "k", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	settled["status"], settled["resolved_at"] = "resolved", nanoNum(t0.Add(time.Hour))
	wantItem(t, "resolved", rawItem(t, e, "k"), settled)
}

// TestIndexItemLayout checks the index keys and the TTL attribute: epoch
// seconds rounded up, so DynamoDB never deletes an entry early, beside the
// exact expiry the store judges by.
func TestIndexItemLayout(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, dynamo.Options{})
	ctx := context.Background()
	at := now().Add(90*time.Minute + 500*time.Millisecond)
	if err := s.Put(ctx, store.Entry{Partition: "resource/arn:aws:s3:::b", Sort: "f1", Value: []byte("v"), ExpiresAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, store.Entry{Partition: "checkpoint", Sort: "poller", Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	wantItem(t, "expiring entry", decodeRaw(t, getRaw(t, e, "idx#resource/arn:aws:s3:::b", "f1")), map[string]any{
		"PK": "idx#resource/arn:aws:s3:::b", "SK": "f1", "val": []byte("v"),
		"expires_at": attributevalue.Number(strconv.FormatInt(at.Unix()+1, 10)), "expires_at_ns": nanoNum(at),
	})
	wantItem(t, "lasting entry", decodeRaw(t, getRaw(t, e, "idx#checkpoint", "poller")), map[string]any{
		"PK": "idx#checkpoint", "SK": "poller", "val": []byte("c"),
	})
}

func wantItem(t *testing.T, step string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s item:\n got %v\nwant %v", step, got, want)
	}
}

// TestSmallPages walks Records and Entries over many small pages, the
// paging moto (which ignores the 1 MB page limit) otherwise never shows,
// with index items mixed into the scanned table and records forgotten
// mid-walk.
func TestSmallPages(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, dynamo.Options{PageSize: 3})
	ctx := context.Background()
	t0 := now()
	var keys []string
	for i := range 10 {
		k := fmt.Sprintf("key-%02d", i)
		keys = append(keys, k)
		c, err := s.Claim(ctx, k, testMeta(k), t0, window, lease)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Confirm(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"p", "q"} {
			if err := s.Put(ctx, store.Entry{Partition: p, Sort: k, Value: []byte(p + k)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	es, err := s.Entries(ctx, "p", t0)
	if err != nil {
		t.Fatal(err)
	}
	var sorts []string
	for _, en := range es {
		sorts = append(sorts, en.Sort)
	}
	if !slices.Equal(sorts, keys) {
		t.Fatalf("Entries(p) = %q, want %q", sorts, keys)
	}
	if n := e.proxy.count("Query"); n < 4 {
		t.Fatalf("Entries made %d queries, want at least 4 pages of 3", n)
	}

	var visited []string
	err = s.Records(ctx, func(r store.Record) error {
		visited = append(visited, r.Key)
		return s.Forget(ctx, r.Key)
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(visited)
	if !slices.Equal(visited, keys) {
		t.Fatalf("Records visited %q, want %q", visited, keys)
	}
	if n := e.proxy.count("Scan"); n < 10 {
		t.Fatalf("Records made %d scans, want at least 10 pages of 3 over 30 items", n)
	}
	if err := s.Records(ctx, func(r store.Record) error { return fmt.Errorf("visited forgotten %q", r.Key) }); err != nil {
		t.Fatal(err)
	}
}
