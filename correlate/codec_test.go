package correlate

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"hubtriage/store"
	"hubtriage/store/memstore"
)

func sampleIndexed() *indexed {
	return &indexed{
		ProductArn: "arn:aws:securityhub:us-east-1::product/aws/inspector", ID: "arn:aws:inspector2:us-east-1:1:finding/x",
		ProductName: "Inspector", Title: "CVE-2021-44228 - log4j … «quoted»", Types: []string{"Software and Configuration Checks/Vulnerabilities/CVE"},
		Severity: "CRITICAL",
		First:    time.Date(2024, 6, 3, 8, 0, 0, 123456789, time.UTC), Seen: time.Date(2024, 6, 4, 9, 30, 0, 0, time.UTC),
		Resource: Ref{Type: typeInstance, Name: instA, Partition: "aws", Region: "us-east-1", Account: "111122223333"},
		Matches: matches{
			{Rule: "another", Cond: "a", Values: []string{"x"}},
			{Rule: "another", Cond: "b", Values: []string{}},
			{Rule: "ec2-backdoor-critical-cves", Cond: "critical_cves", Values: []string{"CVE-2021-44228", "CVE-2023-38545"}},
		},
	}
}

func TestIndexEntriesRoundTrip(t *testing.T) {
	cases := map[string]*indexed{
		"full":    sampleIndexed(),
		"minimal": {ProductArn: "p", ID: "i", First: time.Unix(0, 0).UTC(), Seen: time.Unix(1, 1).UTC(), Matches: matches{{Rule: "r", Cond: "c", Values: []string{}}}},
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
	idx := memstore.New()
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
	unsorted := sampleIndexed()
	slices.Reverse(unsorted.Matches)
	outOfOrder := encodeIndexed(unsorted)
	for _, bad := range [][]byte{
		val[:len(val)-1], append(bytes.Clone(val), 0), {codecV1}, outOfOrder, {codecV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
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
	idx := memstore.New()
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

func TestStateEntriesRoundTrip(t *testing.T) {
	fb := []byte(`{"SchemaVersion":"2018-10-08","Id":"x","RecordState":"ACTIVE","ProductFields":{"a":"b"},"Resources":[{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::b","Partition":"aws","Region":"us-east-1"}]}`)
	s := state{Digest: "abc", Count: 7, CreatedAt: time.Date(2024, 6, 3, 8, 0, 0, 5, time.UTC),
		Evidence: []*indexed{sampleIndexed(), {ProductArn: "p", ID: "i"}}}
	for _, archived := range []bool{false, true} {
		s.Archived = archived
		got, err := decodeState(encodeState(s, fb))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := got.evidenceKeys()
		if err != nil || !slices.Equal(keys, keysOf(s.Evidence)) {
			t.Errorf("evidence keys %v (%v), want %v", keys, err, keysOf(s.Evidence))
		}
		if err := got.load(); err != nil {
			t.Fatal(err)
		}
		var want doc
		if err := json.Unmarshal(fb, &want); err != nil {
			t.Fatal(err)
		}
		if got.Digest != s.Digest || got.Count != s.Count || got.Archived != archived || !got.CreatedAt.Equal(s.CreatedAt) ||
			!reflect.DeepEqual(got.Finding, want) || len(got.Evidence) != 2 || got.Evidence[0].key() != s.Evidence[0].key() {
			t.Errorf("decoded %+v", got)
		}
	}
	for _, bad := range [][]byte{{codecV1}, {codecV1, 0, 0, 2}, append(encodeState(s, fb), 0), encodeState(s, fb)[:20]} {
		if _, err := decodeState(bad); err == nil {
			t.Errorf("decodeState(%q) accepted", bad)
		}
	}
}

// TestStateWrittenAsJSONStillArchives: an incident opened by a version that
// wrote its state as JSON is archived exactly as one opened now.
func TestStateWrittenAsJSONStillArchives(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second)
	ctx := context.Background()
	seen := at(base.Add(-time.Hour))
	var archivedFindings [][]byte
	for _, legacy := range []bool{false, true} {
		idx := memstore.New()
		e := New(builtins(t), idx, Options{Now: fixed(base)})
		if rs := observeAll(t, e, fixture(t, fMacie, seen), fixture(t, fExfil, seen)); len(rs) != 1 {
			t.Fatalf("opening: %d results", len(rs))
		}
		if legacy {
			part := partState + typeBucket + "/" + bucket
			ent, err := idx.GetEntry(ctx, part, "s3-sensitive-data-exfiltration", base)
			if err != nil {
				t.Fatal(err)
			}
			s, err := decodeState(ent.Value)
			if err != nil || s.load() != nil {
				t.Fatal(err)
			}
			if ent.Value, err = json.Marshal(s); err != nil {
				t.Fatal(err)
			}
			if err := idx.Put(ctx, ent); err != nil {
				t.Fatal(err)
			}
		}
		rs := observeAll(t, e, fixture(t, fMacie, with(seen, archived)), fixture(t, fExfil, with(seen, archived)))
		if len(rs) != 1 || !rs[0].Archived {
			t.Fatalf("legacy=%v: archiving gave %+v", legacy, rs)
		}
		archivedFindings = append(archivedFindings, rs[0].Finding)
	}
	if !bytes.Equal(archivedFindings[0], archivedFindings[1]) {
		t.Errorf("archived from a JSON state:\n%s\nwant\n%s", archivedFindings[1], archivedFindings[0])
	}
}

func TestMatchesLookups(t *testing.T) {
	m := sampleIndexed().Matches
	if v, ok := m.values("ec2-backdoor-critical-cves", "critical_cves"); !ok || len(v) != 2 {
		t.Errorf("values = %v %v", v, ok)
	}
	if _, ok := m.values("another", "c"); ok {
		t.Errorf("an unsatisfied condition was found")
	}
	if got := m.ofRule("another"); len(got) != 2 || got[0].Cond != "a" || got[1].Cond != "b" {
		t.Errorf("ofRule(another) = %+v", got)
	}
	if got := m.ofRule("ec2-backdoor-critical-cves"); len(got) != 1 || cap(got) != 1 {
		t.Errorf("ofRule of the last rule = %+v (cap %d)", got, cap(got))
	}
	if got := m.ofRule("nope"); got != nil {
		t.Errorf("ofRule of an absent rule = %+v", got)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"another":{"a":["x"],"b":[]},"ec2-backdoor-critical-cves":{"critical_cves":["CVE-2021-44228","CVE-2023-38545"]}}`
	if string(b) != want {
		t.Errorf("JSON form %s, want %s", b, want)
	}
	var back matches
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("JSON round trip = %+v (%v)", back, err)
	}
}
