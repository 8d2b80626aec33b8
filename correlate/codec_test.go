package correlate

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/correlate/memindex"
	"hubtriage/store"
)

func sampleIndexed() *indexed {
	return &indexed{
		ProductArn: "arn:aws:securityhub:us-east-1::product/aws/inspector", ID: "arn:aws:inspector2:us-east-1:1:finding/x",
		ProductName: "Inspector", Title: "CVE-2021-44228 - log4j … «quoted»", Types: []string{"Software and Configuration Checks/Vulnerabilities/CVE"},
		Severity: "CRITICAL",
		First:    time.Date(2024, 6, 3, 8, 0, 0, 123456789, time.UTC), Seen: time.Date(2024, 6, 4, 9, 30, 0, 0, time.UTC),
		Resource: Ref{Type: typeInstance, Name: instA, Partition: "aws", Region: "us-east-1", Account: "111122223333"},
		Matches: map[string]map[string][]string{
			"ec2-backdoor-critical-cves": {"critical_cves": {"CVE-2021-44228", "CVE-2023-38545"}},
			"another":                    {"b": {}, "a": {"x"}},
		},
	}
}

func TestIndexEntriesRoundTrip(t *testing.T) {
	cases := map[string]*indexed{
		"full":    sampleIndexed(),
		"minimal": {ProductArn: "p", ID: "i", First: time.Unix(0, 0).UTC(), Seen: time.Unix(1, 1).UTC(), Matches: map[string]map[string][]string{"r": {"c": {}}}},
		"zero":    {ProductArn: "p", ID: "i"},
	}
	for name, x := range cases {
		val := encodeIndexed(x)
		if !bytes.Equal(val, encodeIndexed(x)) {
			t.Errorf("%s: encoding is not deterministic", name)
		}
		got, err := decodeIndexed(val, x.key())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.key() != x.key() || !got.First.Equal(x.First) || !got.Seen.Equal(x.Seen) {
			t.Errorf("%s: key/times = %s %v %v, want %s %v %v", name, got.key(), got.First, got.Seen, x.key(), x.First, x.Seen)
		}
		// Compare the JSON forms: what state entries and templates see.
		want, _ := json.Marshal(x)
		have, _ := json.Marshal(got)
		if !bytes.Equal(have, want) {
			t.Errorf("%s: decoded as\n%s\nwant\n%s", name, have, want)
		}
	}
}

// TestIndexEntriesWrittenAsJSONStillCount: a store written by a version
// that encoded findings-partition entries as JSON keeps correlating.
func TestIndexEntriesWrittenAsJSONStillCount(t *testing.T) {
	x := sampleIndexed()
	legacy, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeIndexed(legacy, x.key())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Matches, x.Matches) || got.Title != x.Title || !got.Seen.Equal(x.Seen) {
		t.Errorf("legacy entry decoded as %+v", got)
	}

	// End to end: the backdoor and two CVEs were indexed as JSON; the third
	// CVE, indexed now, completes the rule with all four.
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	idx := memindex.New()
	e := New(builtins(t), idx, Options{Now: fixed(base)})
	seen := at(base.Add(-time.Hour))
	observeAll(t, e, fixture(t, fBackdoor, seen), fixture(t, fCVE1, seen), fixture(t, fCVE2, seen))
	part := partFindings + typeInstance + "/" + instA
	entries, err := idx.Entries(ctx, part, base)
	if err != nil || len(entries) != 3 {
		t.Fatalf("%d entries (%v), want 3", len(entries), err)
	}
	for _, en := range entries {
		x, err := decodeIndexed(en.Value, en.Sort)
		if err != nil {
			t.Fatal(err)
		}
		if en.Value, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
		if err := idx.Put(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	rs := observeAll(t, e, fixture(t, fCVE3, seen))
	if len(rs) != 1 || len(rs[0].Contributing) != 4 {
		t.Fatalf("results %+v, want one with 4 contributing findings", rs)
	}
}

func TestMalformedIndexEntriesAreErrors(t *testing.T) {
	val := encodeIndexed(sampleIndexed())
	for _, bad := range [][]byte{
		val[:len(val)-1], append(bytes.Clone(val), 0), {codecV1}, {codecV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{codecV1, 0x05, 'a'}, {}, []byte("{"), []byte("null x"),
	} {
		if _, err := decodeIndexed(bad, "k"); err == nil {
			t.Errorf("decodeIndexed(%q) accepted", bad)
		}
	}
	if _, err := decodeIndexed(val[:len(val)-1], "k"); !errors.Is(err, errCodec) {
		t.Errorf("truncated entry: %v, want errCodec", err)
	}
	// Through the engine, the error names the partition and entry.
	ctx := context.Background()
	idx := memindex.New()
	part := partFindings + typeInstance + "/" + instA
	if err := idx.Put(ctx, store.Entry{Partition: part, Sort: "p|i", Value: val[:10]}); err != nil {
		t.Fatal(err)
	}
	if _, err := readIndexed(ctx, idx, typeInstance+"/"+instA, time.Now()); err == nil || !bytes.Contains([]byte(err.Error()), []byte(part)) {
		t.Errorf("readIndexed of a truncated entry: %v", err)
	}
}

func FuzzDecodeIndexed(f *testing.F) {
	f.Add(encodeIndexed(sampleIndexed()))
	f.Add([]byte{codecV1, 0, 0})
	f.Fuzz(func(t *testing.T, val []byte) {
		x, err := decodeIndexed(val, "k")
		if err != nil || val[0] != codecV1 {
			return
		}
		if again := encodeIndexed(x); len(again) > len(val) {
			t.Errorf("re-encoding grew %d -> %d bytes", len(val), len(again))
		}
	})
}
