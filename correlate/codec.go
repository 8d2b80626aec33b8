package correlate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/goccy/go-json"
)

// Findings-partition entries are read on every evaluation of their
// resource, so they are encoded compactly: a version byte, then the fields
// of indexed in order, strings and lists prefixed by their length (uvarint)
// and times as Unix seconds (varint) and nanoseconds (uvarint). Entries
// written as JSON by earlier versions (starting with '{') still decode.
// Correlation state keeps JSON: it is read once per evaluation, not once
// per finding.
const codecV1 = 0x01

// errCodec reports a findings-partition entry that does not decode.
var errCodec = errors.New("malformed correlation index entry")

// encodeIndexed encodes x, whose Matches are sorted, so equal entries
// encode to equal bytes (putIndexed skips rewriting those).
func encodeIndexed(x *indexed) []byte {
	b := make([]byte, 0, 256)
	b = append(b, codecV1)
	for _, s := range []string{x.ProductArn, x.ID, x.ProductName, x.Title} {
		b = appendString(b, s)
	}
	b = appendStrings(b, x.Types)
	b = appendString(b, x.Severity)
	b = appendTime(b, x.First)
	b = appendTime(b, x.Seen)
	for _, s := range []string{x.Resource.Type, x.Resource.Name, x.Resource.Partition, x.Resource.Region, x.Resource.Account} {
		b = appendString(b, s)
	}
	// Grouped by rule: the count of rules, then each rule's name, its count
	// of conditions and each condition's name and values.
	m := x.Matches
	b = binary.AppendUvarint(b, uint64(countRules(m)))
	for len(m) > 0 {
		n := 1
		for n < len(m) && m[n].Rule == m[0].Rule {
			n++
		}
		b = appendString(b, m[0].Rule)
		b = binary.AppendUvarint(b, uint64(n))
		for _, c := range m[:n] {
			b = appendString(b, c.Cond)
			b = appendStrings(b, c.Values)
		}
		m = m[n:]
	}
	return b
}

// countRules counts the distinct rules of m (sorted by rule).
func countRules(m matches) int {
	n := 0
	for i := range m {
		if i == 0 || m[i].Rule != m[i-1].Rule {
			n++
		}
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// decodeIndexed decodes an entry written by encodeIndexed, or as JSON by
// an earlier version. key is the entry's sort key (the finding key).
func decodeIndexed(val []byte, key string) (*indexed, error) {
	x := &indexed{}
	if len(val) > 0 && val[0] == codecV1 {
		d := decoder{s: string(val[1:])} // one copy; every field is a substring of it
		d.read(x)
		if d.err != nil {
			return nil, d.err
		}
	} else if err := json.Unmarshal(val, x); err != nil {
		return nil, err
	}
	x.sortKey = key
	return x, nil
}

// decoder reads the fields of a v1 entry from s, remembering the first error.
type decoder struct {
	s   string
	err error
}

func (d *decoder) read(x *indexed) {
	x.ProductArn, x.ID, x.ProductName, x.Title = d.string(), d.string(), d.string(), d.string()
	x.Types = d.strings(nil)
	x.Severity = d.string()
	x.First, x.Seen = d.time(), d.time()
	x.Resource = Ref{Type: d.string(), Name: d.string(), Partition: d.string(), Region: d.string(), Account: d.string()}
	rules := d.count()
	for range rules {
		rule := d.string()
		for range d.count() {
			x.Matches = append(x.Matches, condValues{Rule: rule, Cond: d.string(), Values: d.strings([]string{})})
		}
	}
	if !slices.IsSortedFunc(x.Matches, compareMatch) {
		d.fail("conditions out of order")
	}
	if d.err == nil && d.s != "" {
		d.fail("%d trailing bytes", len(d.s))
	}
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCodec, fmt.Sprintf(format, args...))
	}
	d.s = ""
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v
		}
	}
	d.fail("truncated number")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads a length, which cannot exceed the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.fail("length %d beyond the %d bytes left", n, len(d.s))
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// strings reads a list; empty is returned for none.
func (d *decoder) strings(empty []string) []string {
	n := d.count()
	if n == 0 {
		return empty
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= uint64(time.Second) {
		d.fail("nanoseconds %d out of range", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
