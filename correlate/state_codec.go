package correlate

import (
	"encoding/binary"
	"fmt"

	json "github.com/goccy/go-json"
)

// State entries are read on every evaluation of their rule and resource,
// so they too are encoded compactly: a version byte, Digest, Count,
// Archived, CreatedAt, the evidence as length-prefixed findings-partition
// entries, and the emitted finding as its ASFF JSON, decoded only when the
// finding is re-emitted archived. States written as JSON (by earlier
// versions, and by Rollback's "nothing emitted") still decode.

// encodeState encodes s, whose finding encodes as findingJSON.
func encodeState(s state, findingJSON []byte) []byte {
	b := make([]byte, 0, 512+len(findingJSON))
	b = append(b, codecV1)
	b = appendString(b, s.Digest)
	b = binary.AppendUvarint(b, uint64(s.Count))
	archived := byte(0)
	if s.Archived {
		archived = 1
	}
	b = append(b, archived)
	b = appendTime(b, s.CreatedAt)
	b = binary.AppendUvarint(b, uint64(len(s.Evidence)))
	for _, x := range s.Evidence {
		b = appendBytes(b, encodeIndexed(x))
	}
	return appendBytes(b, findingJSON)
}

// codecRetry prefixes a state restored by Rollback: the emission it
// undid is due again.
const codecRetry = 0x02

// rolledBack reports whether a state entry was restored by Rollback and
// not written since.
func rolledBack(val []byte) bool { return len(val) > 0 && val[0] == codecRetry }

// decodeState decodes a state entry. A binary entry's evidence and finding
// stay encoded until load.
func decodeState(val []byte) (*state, error) {
	if rolledBack(val) {
		val = val[1:]
	}
	var s state
	if len(val) == 0 || val[0] != codecV1 {
		if err := json.Unmarshal(val, &s); err != nil {
			return nil, err
		}
		return &s, nil
	}
	d := decoder{s: string(val[1:])}
	s.Digest = d.string()
	s.Count = int(d.uvarint())
	switch d.byte() {
	case 0:
	case 1:
		s.Archived = true
	default:
		d.fail("archived flag out of range")
	}
	s.CreatedAt = d.time()
	for range d.count() {
		s.evidenceRaw = append(s.evidenceRaw, d.string())
	}
	s.findingJSON = d.string()
	s.encoded = true
	if d.err == nil && d.s != "" {
		d.fail("%d trailing bytes", len(d.s))
	}
	if d.err != nil {
		return nil, d.err
	}
	return &s, nil
}

// load decodes the evidence and the emitted finding of a binary state
// entry; it does nothing for one decoded from JSON or loaded already.
func (s *state) load() error {
	if !s.encoded {
		return nil
	}
	for i, raw := range s.evidenceRaw {
		x, err := decodeIndexed([]byte(raw), "")
		if err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
		x.sortKey = x.key()
		s.Evidence = append(s.Evidence, x)
	}
	if err := json.Unmarshal([]byte(s.findingJSON), &s.Finding); err != nil {
		return fmt.Errorf("emitted finding: %w", err)
	}
	s.evidenceRaw, s.findingJSON, s.encoded = nil, "", false
	return nil
}

// evidenceKeys returns the keys of the evidence, decoding only those.
func (s *state) evidenceKeys() ([]string, error) {
	if !s.encoded {
		return keysOf(s.Evidence), nil
	}
	keys := make([]string, len(s.evidenceRaw))
	for i, raw := range s.evidenceRaw {
		if raw == "" || raw[0] != codecV1 {
			return nil, fmt.Errorf("evidence %d: %w: unknown encoding", i, errCodec)
		}
		d := decoder{s: raw[1:]}
		arn, id := d.string(), d.string()
		if d.err != nil {
			return nil, fmt.Errorf("evidence %d: %w", i, d.err)
		}
		keys[i] = findingKey(arn, id)
	}
	return keys, nil
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.s == "" {
		d.fail("truncated")
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}
