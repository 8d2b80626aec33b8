package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"hubtriage/store"
)

// The values are a compact binary encoding (format version 1): unsigned
// varints for lengths and counts, a signed varint of Unix seconds plus an
// unsigned varint of nanoseconds for times, one byte for enums.
//
// dedup value: status, meta, first, last, resolved, notifications,
// token, kind, leaseUntil, pending meta.
// index key:   uvarint(len(partition)) partition sort
// index value: expiresAt, value bytes to the end.

// errTruncated reports a value that ends before its last field.
var errTruncated = errors.New("truncated value")

var statusCodes = []store.Status{"", store.StatusNotified, store.StatusResolved}

var kindCodes = []store.Kind{"", store.KindNew, store.KindRenotify, store.KindRecurrence}

// encoder appends fields to a buffer.
type encoder []byte

func (e *encoder) uvarint(v uint64) { *e = binary.AppendUvarint(*e, v) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	*e = append(*e, s...)
}

func (e *encoder) time(t time.Time) {
	*e = binary.AppendVarint(*e, t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

func (e *encoder) meta(m store.Meta) {
	e.str(m.FindingID)
	e.str(m.ProductArn)
	e.str(m.Rule)
	e.str(m.Channel)
}

// enum appends the index of v in codes; v is always one of them, since
// only this package's own values are encoded.
func enum[T comparable](e *encoder, codes []T, v T) {
	for i, c := range codes {
		if c == v {
			*e = append(*e, byte(i))
			return
		}
	}
	panic(fmt.Sprintf("bolt: encode unknown value %v", v))
}

// decoder reads fields in order; the first failure sticks in err and
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = errTruncated
	}
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// zeroUnix is the Unix second of time.Time{}.
var zeroUnix = time.Time{}.Unix()

func (d *decoder) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if d.err == nil && nsec >= uint64(time.Second) {
		d.err = fmt.Errorf("nanoseconds %d out of range", nsec)
	}
	if d.err != nil || (sec == zeroUnix && nsec == 0) {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) meta() store.Meta {
	return store.Meta{FindingID: d.str(), ProductArn: d.str(), Rule: d.str(), Channel: d.str()}
}

// decodeEnum reads one byte naming an element of codes.
func decodeEnum[T any](d *decoder, codes []T) T {
	var zero T
	if d.err == nil && len(d.b) == 0 {
		d.err = errTruncated
	}
	if d.err != nil {
		return zero
	}
	c := d.b[0]
	d.b = d.b[1:]
	if int(c) >= len(codes) {
		d.err = fmt.Errorf("unknown code %d", c)
		return zero
	}
	return codes[c]
}

// encodeItem encodes a dedup item.
func encodeItem(it item) []byte {
	e := make(encoder, 0, 256)
	enum(&e, statusCodes, it.Rec.Status)
	e.meta(it.Rec.Meta)
	e.time(it.Rec.FirstNotifiedAt)
	e.time(it.Rec.LastNotifiedAt)
	e.time(it.Rec.ResolvedAt)
	e.uvarint(uint64(it.Rec.Notifications))
	e.str(it.Token)
	enum(&e, kindCodes, it.Kind)
	e.time(it.LeaseUntil)
	e.meta(it.Pending)
	return e
}

// decodeItem decodes a dedup item stored under key.
func decodeItem(key string, b []byte) (item, error) {
	d := decoder{b: b}
	var it item
	it.Rec.Key = key
	it.Rec.Status = decodeEnum(&d, statusCodes)
	it.Rec.Meta = d.meta()
	it.Rec.FirstNotifiedAt = d.time()
	it.Rec.LastNotifiedAt = d.time()
	it.Rec.ResolvedAt = d.time()
	it.Rec.Notifications = int(d.uvarint())
	it.Token = d.str()
	it.Kind = decodeEnum(&d, kindCodes)
	it.LeaseUntil = d.time()
	it.Pending = d.meta()
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return item{}, fmt.Errorf("decode dedup record %q: %w", key, d.err)
	}
	return it, nil
}

// indexKey is the bbolt key of (partition, sort). The length prefix keeps
// partitions apart whatever bytes their names contain, and makes a
// partition's entries one contiguous, Sort-ordered range.
func indexKey(partition, sort string) []byte {
	k := partitionPrefix(partition)
	return append(k, sort...)
}

// partitionPrefix is the common prefix of a partition's keys.
func partitionPrefix(partition string) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(partition)+64)
	k = binary.AppendUvarint(k, uint64(len(partition)))
	return append(k, partition...)
}

// encodeEntry encodes an index value.
func encodeEntry(e store.Entry) []byte {
	enc := make(encoder, 0, 16+len(e.Value))
	enc.time(e.ExpiresAt)
	return append(enc, e.Value...)
}

// decodeEntry decodes the value stored under (partition, sort), copying the
// bytes out of bbolt's memory.
func decodeEntry(partition, sort string, b []byte) (store.Entry, error) {
	d := decoder{b: b}
	e := store.Entry{Partition: partition, Sort: sort, ExpiresAt: d.time()}
	if d.err != nil {
		return store.Entry{}, fmt.Errorf("decode index entry (%q, %q): %w", partition, sort, d.err)
	}
	e.Value = append([]byte{}, d.b...)
	return e, nil
}

// expiresAt reads only an index value's expiry.
func expiresAt(b []byte) time.Time {
	d := decoder{b: b}
	return d.time()
}
