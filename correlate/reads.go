package correlate

import (
	"context"
	"time"

	"hubtriage/store"
)

// reads remembers what one Observe read from the index, so that rules
// joined on the same resource (and via conditions reaching the same
// related resources) read and decode each partition once. It is dropped
// when a conditional write conflicts, since the index changed under us.
type reads struct {
	idx      store.Index
	findings map[string][]*indexed // by resource key
	related  map[string][]Ref      // by resource key
}

func newReads(idx store.Index) *reads {
	return &reads{idx: idx, findings: map[string][]*indexed{}, related: map[string][]Ref{}}
}

// reset forgets everything read.
func (rd *reads) reset() {
	clear(rd.findings)
	clear(rd.related)
}

// indexedOn returns the findings indexed on the resource with key rkey.
// The entries are shared: callers must not modify them.
func (rd *reads) indexedOn(ctx context.Context, rkey string, now time.Time) ([]*indexed, error) {
	if xs, ok := rd.findings[rkey]; ok {
		return xs, nil
	}
	xs, err := readIndexed(ctx, rd.idx, rkey, now)
	if err != nil {
		return nil, err
	}
	rd.findings[rkey] = xs
	return xs, nil
}

// relatedTo returns the resources related to the one with key rkey.
func (rd *reads) relatedTo(ctx context.Context, rkey string, now time.Time) ([]Ref, error) {
	if refs, ok := rd.related[rkey]; ok {
		return refs, nil
	}
	refs, err := readRelated(ctx, rd.idx, rkey, now)
	if err != nil {
		return nil, err
	}
	rd.related[rkey] = refs
	return refs, nil
}
