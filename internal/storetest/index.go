package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hubtriage/store"
)

// runIndex checks the store.Index contract one clause at a time.
func runIndex(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"put get replace", testPutGet},
		{"entries ordered by sort", testEntriesOrder},
		{"expiry filtered by now", testExpiry},
		{"delete is idempotent", testDelete},
		{"partitions are isolated", testPartitions},
		{"entries page through a large partition", testEntriesLarge},
		{"put if", testPutIf},
		{"put if treats expired as absent", testPutIfExpired},
		{"values are copies", testValueCopies},
		{"empty partition or sort rejected", testIndexInvalid},
		{"batch applies all or none", testApply},
		{"flush keeps what was written", testFlush},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, fresh(t, open)) })
	}
}

// put writes e or fails the test.
func put(t *testing.T, s store.Store, e store.Entry) {
	t.Helper()
	if err := s.Put(context.Background(), e); err != nil {
		t.Fatalf("Put(%q, %q): %v", e.Partition, e.Sort, err)
	}
}

// entries lists partition at now or fails the test.
func entries(t *testing.T, s store.Store, partition string, now time.Time) []store.Entry {
	t.Helper()
	es, err := s.Entries(context.Background(), partition, now)
	if err != nil {
		t.Fatalf("Entries(%q): %v", partition, err)
	}
	return es
}

// sorts lists the Sort of each entry, checking each is in partition.
func sorts(t *testing.T, partition string, es []store.Entry) []string {
	t.Helper()
	out := make([]string, 0, len(es))
	for _, e := range es {
		if e.Partition != partition {
			t.Fatalf("Entries(%q) returned an entry of partition %q", partition, e.Partition)
		}
		out = append(out, e.Sort)
	}
	return out
}

// wantEntry fails the test unless GetEntry returns want at now.
func wantEntry(t *testing.T, s store.Store, want store.Entry, now time.Time) {
	t.Helper()
	got, err := s.GetEntry(context.Background(), want.Partition, want.Sort, now)
	if err != nil {
		t.Fatalf("GetEntry(%q, %q): %v", want.Partition, want.Sort, err)
	}
	if d := diffEntry(got, want); d != "" {
		t.Fatalf("GetEntry(%q, %q) differs:%s", want.Partition, want.Sort, d)
	}
}

// wantNoEntry fails the test unless GetEntry reports ErrNotFound at now.
func wantNoEntry(t *testing.T, s store.Store, partition, sort string, now time.Time) {
	t.Helper()
	e, err := s.GetEntry(context.Background(), partition, sort, now)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetEntry(%q, %q) = %+v, %v; want ErrNotFound", partition, sort, e, err)
	}
}

func diffEntry(got, want store.Entry) string {
	var d string
	if got.Partition != want.Partition || got.Sort != want.Sort {
		d += fmt.Sprintf("\n  key = (%q, %q), want (%q, %q)", got.Partition, got.Sort, want.Partition, want.Sort)
	}
	if !bytes.Equal(got.Value, want.Value) {
		d += fmt.Sprintf("\n  Value = %q, want %q", got.Value, want.Value)
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		d += fmt.Sprintf("\n  ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
	return d
}

func testPutGet(t *testing.T, s store.Store) {
	t0 := base()
	e := store.Entry{Partition: "resource/arn:aws:s3:::bucket", Sort: "finding-1", Value: []byte(`{"n":1}`)}
	put(t, s, e)
	wantEntry(t, s, e, t0)
	e.Value, e.ExpiresAt = []byte(`{"n":2}`), t0.Add(time.Hour)
	put(t, s, e)
	wantEntry(t, s, e, t0)
	if es := entries(t, s, e.Partition, t0); len(es) != 1 || diffEntry(es[0], e) != "" {
		t.Fatalf("Entries after replacing = %+v, want only %+v", es, e)
	}
	wantNoEntry(t, s, e.Partition, "finding-2", t0)
	wantNoEntry(t, s, "other", e.Sort, t0)
	if es := entries(t, s, "never-written", t0); len(es) != 0 {
		t.Fatalf("Entries(unknown partition) = %+v, want none", es)
	}
}

func testEntriesOrder(t *testing.T, s store.Store) {
	t0 := base()
	in := []string{"m", "b", "a/2", "Z", "a", "a/10", "é", "0", "b#x"}
	for _, k := range in {
		put(t, s, store.Entry{Partition: "p", Sort: k, Value: []byte(k)})
	}
	want := slices.Clone(in)
	slices.Sort(want) // Go compares strings byte-wise, like the contract
	es := entries(t, s, "p", t0)
	if got := sorts(t, "p", es); !slices.Equal(got, want) {
		t.Fatalf("Entries order = %q, want %q", got, want)
	}
	for _, e := range es {
		if string(e.Value) != e.Sort {
			t.Fatalf("entry %q has value %q", e.Sort, e.Value)
		}
	}
}

// testExpiry uses expiry times after the wall clock, so that no backend
// may purge them yet and the filter can be checked at several nows.
func testExpiry(t *testing.T, s store.Store) {
	t0 := base()
	at := t0.Add(time.Hour)
	for _, e := range []store.Entry{
		{Partition: "p", Sort: "a-forever"},
		{Partition: "p", Sort: "b-expires", ExpiresAt: at},
		{Partition: "p", Sort: "c-later", ExpiresAt: at.Add(time.Hour)},
	} {
		put(t, s, e)
	}
	tests := []struct {
		now  time.Time
		want []string
	}{
		{t0, []string{"a-forever", "b-expires", "c-later"}},
		{at.Add(-time.Second), []string{"a-forever", "b-expires", "c-later"}},
		{at, []string{"a-forever", "c-later"}}, // ExpiresAt must be after now
		{at.Add(2 * time.Hour), []string{"a-forever"}},
		{t0, []string{"a-forever", "b-expires", "c-later"}}, // filtered, not deleted
	}
	for _, tt := range tests {
		if got := sorts(t, "p", entries(t, s, "p", tt.now)); !slices.Equal(got, tt.want) {
			t.Fatalf("Entries at now+%s = %q, want %q", tt.now.Sub(t0), got, tt.want)
		}
	}
	wantNoEntry(t, s, "p", "b-expires", at)
	wantEntry(t, s, store.Entry{Partition: "p", Sort: "b-expires", ExpiresAt: at}, at.Add(-time.Second))
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	put(t, s, store.Entry{Partition: "p", Sort: "a", Value: []byte("1")})
	put(t, s, store.Entry{Partition: "p", Sort: "b", Value: []byte("2")})
	for i := range 2 {
		if err := s.Delete(ctx, "p", "a"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	wantNoEntry(t, s, "p", "a", t0)
	if got := sorts(t, "p", entries(t, s, "p", t0)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Entries after Delete = %q, want [b]", got)
	}
	if err := s.Delete(ctx, "never", "written"); err != nil {
		t.Fatalf("Delete(missing): %v", err)
	}
}

// testPartitions uses names that collide when a backend joins partition
// and sort with a separator or prefix-scans without one.
func testPartitions(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	keys := [][2]string{
		{"a", "b#c"}, {"a#b", "c"}, {"a/b", "c"}, {"a", "b/c"},
		{"ab", "c"}, {"a", "bc"}, {"a\x00b", "c"}, {"a", "\x00bc"},
	}
	for _, k := range keys {
		put(t, s, store.Entry{Partition: k[0], Sort: k[1], Value: []byte(k[0] + "|" + k[1])})
	}
	wantSorts := map[string][]string{
		"a": {"\x00bc", "b#c", "b/c", "bc"}, "a#b": {"c"}, "a/b": {"c"}, "ab": {"c"}, "a\x00b": {"c"},
	}
	for p, want := range wantSorts {
		es := entries(t, s, p, t0)
		if got := sorts(t, p, es); !slices.Equal(got, want) {
			t.Fatalf("Entries(%q) = %q, want %q", p, got, want)
		}
		for _, e := range es {
			if string(e.Value) != p+"|"+e.Sort {
				t.Fatalf("Entries(%q) entry %q has value %q", p, e.Sort, e.Value)
			}
		}
	}
	if err := s.Delete(ctx, "a", "bc"); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, s, store.Entry{Partition: "ab", Sort: "c", Value: []byte("ab|c")}, t0)
	wantEntry(t, s, store.Entry{Partition: "a", Sort: "\x00bc", Value: []byte("a|\x00bc")}, t0)
}

// testEntriesLarge writes more than 1 MB into one partition, beyond one
// DynamoDB query page.
func testEntriesLarge(t *testing.T, s store.Store) {
	t0 := base()
	const n = 300
	value := bytes.Repeat([]byte("x"), 4096)
	for i := range n {
		put(t, s, store.Entry{Partition: "big", Sort: fmt.Sprintf("%04d", i), Value: value})
	}
	put(t, s, store.Entry{Partition: "big-neighbour", Sort: "0000", Value: value})
	es := entries(t, s, "big", t0)
	if len(es) != n {
		t.Fatalf("Entries(big) returned %d entries, want %d", len(es), n)
	}
	for i, e := range es {
		if want := fmt.Sprintf("%04d", i); e.Sort != want || !bytes.Equal(e.Value, value) {
			t.Fatalf("entry %d = %q (%d bytes), want %q (%d bytes)", i, e.Sort, len(e.Value), want, len(value))
		}
	}
}

func testPutIf(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	e := func(v string) store.Entry { return store.Entry{Partition: "p", Sort: "s", Value: []byte(v)} }
	steps := []struct {
		name  string
		e     store.Entry
		prev  []byte
		want  error  // nil or ErrConflict
		after string // the value stored afterwards
	}{
		{"create when absent", e("v1"), nil, nil, "v1"},
		{"create when present", e("v2"), nil, store.ErrConflict, "v1"},
		{"wrong prev", e("v2"), []byte("v0"), store.ErrConflict, "v1"},
		{"prefix of current", e("v2"), []byte("v"), store.ErrConflict, "v1"},
		{"matching prev", e("v2"), []byte("v1"), nil, "v2"},
		{"stale prev", e("v3"), []byte("v1"), store.ErrConflict, "v2"},
	}
	for _, st := range steps {
		err := s.PutIf(ctx, st.e, st.prev)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: PutIf = %v, want %v", st.name, err, st.want)
		}
		wantEntry(t, s, e(st.after), t0)
	}
	if err := s.PutIf(ctx, store.Entry{Partition: "p", Sort: "absent", Value: []byte("x")}, []byte("x")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutIf(absent, prev non-nil) = %v, want ErrConflict", err)
	}
	wantNoEntry(t, s, "p", "absent", t0)

	// A successful PutIf replaces the expiry too.
	withTTL := store.Entry{Partition: "p", Sort: "s", Value: []byte("v3"), ExpiresAt: t0.Add(time.Hour)}
	if err := s.PutIf(ctx, withTTL, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, s, withTTL, t0)
}

// testPutIfExpired writes entries that expired before the wall clock, the
// clock PutIf judges liveness by.
func testPutIfExpired(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	dead := store.Entry{Partition: "p", Sort: "s", Value: []byte("old"), ExpiresAt: t0.Add(-time.Hour)}
	put(t, s, dead)
	next := store.Entry{Partition: "p", Sort: "s", Value: []byte("new")}
	if err := s.PutIf(ctx, next, []byte("old")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutIf(prev = expired value) = %v, want ErrConflict", err)
	}
	if err := s.PutIf(ctx, next, nil); err != nil {
		t.Fatalf("PutIf(prev nil) over an expired entry = %v, want nil", err)
	}
	wantEntry(t, s, next, t0)
}

func testValueCopies(t *testing.T, s store.Store) {
	t0 := base()
	v := []byte("original")
	put(t, s, store.Entry{Partition: "p", Sort: "s", Value: v})
	copy(v, "CHANGED!")
	got, err := s.GetEntry(context.Background(), "p", "s", t0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "original" {
		t.Fatalf("stored value changed with the caller's slice: %q", got.Value)
	}
	copy(got.Value, "CHANGED!")
	es := entries(t, s, "p", t0)
	copy(es[0].Value, "CHANGED!")
	wantEntry(t, s, store.Entry{Partition: "p", Sort: "s", Value: []byte("original")}, t0)
}

func testIndexInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	t0 := base()
	for _, k := range [][2]string{{"", "s"}, {"p", ""}, {"", ""}} {
		name := strings.Join([]string{"partition=" + k[0], "sort=" + k[1]}, ",")
		e := store.Entry{Partition: k[0], Sort: k[1], Value: []byte("v")}
		if err := s.Put(ctx, e); err == nil {
			t.Errorf("Put(%s) = nil, want an error", name)
		}
		if err := s.PutIf(ctx, e, nil); err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("PutIf(%s) = %v, want an error other than ErrConflict", name, err)
		}
		if _, err := s.GetEntry(ctx, k[0], k[1], t0); err == nil {
			t.Errorf("GetEntry(%s) = nil error, want an error", name)
		}
		if err := s.Delete(ctx, k[0], k[1]); err == nil {
			t.Errorf("Delete(%s) = nil, want an error", name)
		}
	}
	if _, err := s.Entries(ctx, "", t0); err == nil {
		t.Errorf("Entries(\"\") = nil error, want an error")
	}
}

// testApply checks the store.Batcher contract, for backends that have it.
func testApply(t *testing.T, s store.Store) {
	b, ok := s.(store.Batcher)
	if !ok {
		t.Skip("not a store.Batcher")
	}
	ctx := context.Background()
	t0 := base()
	put(t, s, store.Entry{Partition: "p", Sort: "gone", Value: []byte("x")})
	put(t, s, store.Entry{Partition: "p", Sort: "kept", Value: []byte("old")})
	err := b.Apply(ctx, []store.Write{
		{Entry: store.Entry{Partition: "p", Sort: "kept", Value: []byte("new")}},
		{Entry: store.Entry{Partition: "p", Sort: "gone"}, Delete: true},
		{Entry: store.Entry{Partition: "q", Sort: "added", Value: []byte("v"), ExpiresAt: t0.Add(time.Hour)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEntry(t, s, store.Entry{Partition: "p", Sort: "kept", Value: []byte("new")}, t0)
	wantNoEntry(t, s, "p", "gone", t0)
	wantEntry(t, s, store.Entry{Partition: "q", Sort: "added", Value: []byte("v"), ExpiresAt: t0.Add(time.Hour)}, t0)

	err = b.Apply(ctx, []store.Write{
		{Entry: store.Entry{Partition: "p", Sort: "kept", Value: []byte("newer")}},
		{Entry: store.Entry{Partition: "p", Sort: ""}},
	})
	if err == nil {
		t.Fatal("Apply with an empty sort key = nil, want an error")
	}
	wantEntry(t, s, store.Entry{Partition: "p", Sort: "kept", Value: []byte("new")}, t0)
}

// testFlush checks the Store.Flush clause: Flush returns nil on a healthy
// store, and writes made before it (buffered or not) are read back the
// same after it, deletions included.
func testFlush(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := base()
	put(t, s, store.Entry{Partition: "p", Sort: "kept", Value: []byte("v")})
	put(t, s, store.Entry{Partition: "p", Sort: "deleted", Value: []byte("v")})
	if err := s.Delete(ctx, "p", "deleted"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIf(ctx, store.Entry{Partition: "p", Sort: "kept", Value: []byte("v2")}, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush = %v", err)
	}
	if got := sorts(t, "p", entries(t, s, "p", now)); strings.Join(got, ",") != "kept" {
		t.Fatalf("after Flush, partition holds %v, want [kept]", got)
	}
	wantEntry(t, s, store.Entry{Partition: "p", Sort: "kept", Value: []byte("v2")}, now)
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("second Flush = %v", err)
	}
}
