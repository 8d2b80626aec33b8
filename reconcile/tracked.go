package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"hubtriage/asff"
	"hubtriage/securityhub"
	"hubtriage/store"
)

// tracked is the notified records grouped by the finding they stand for.
type tracked struct {
	refs    []securityhub.FindingRef // sorted by ProductArn, then Id
	records map[securityhub.FindingRef][]store.Record
}

// collect walks the store's records and keeps those in StatusNotified that
// name a finding.
func collect(ctx context.Context, st store.Dedup) (tracked, error) {
	t := tracked{records: map[securityhub.FindingRef][]store.Record{}}
	err := st.Records(ctx, func(rec store.Record) error {
		if rec.Status != store.StatusNotified || rec.Meta.FindingID == "" {
			return nil
		}
		ref := securityhub.FindingRef{ProductArn: rec.Meta.ProductArn, ID: rec.Meta.FindingID}
		if _, seen := t.records[ref]; !seen {
			t.refs = append(t.refs, ref)
		}
		t.records[ref] = append(t.records[ref], rec)
		return nil
	})
	slices.SortFunc(t.refs, func(a, b securityhub.FindingRef) int {
		return cmp.Or(cmp.Compare(a.ProductArn, b.ProductArn), cmp.Compare(a.ID, b.ID))
	})
	return t, err
}

// batches cuts sorted refs into lookups of at most size refs of one
// ProductArn each, so that every lookup is one GetFindings request.
func batches(refs []securityhub.FindingRef, size int) [][]securityhub.FindingRef {
	var out [][]securityhub.FindingRef
	start := 0
	for i := 1; i <= len(refs); i++ {
		if i == len(refs) || i-start == size || refs[i].ProductArn != refs[start].ProductArn {
			out = append(out, refs[start:i])
			start = i
		}
	}
	return out
}

// found is the lookup result of one ref: the decoded finding, or why it
// could not be decoded. A ref absent from the map was not returned.
type found struct {
	finding *asff.Finding
	err     error
}

// lookup asks the finder for batch and decodes what comes back, keyed by
// the exact ref and, for refs without a ProductArn, by Id alone.
func (r *Reconciler) lookup(ctx context.Context, batch []securityhub.FindingRef) (map[securityhub.FindingRef]found, error) {
	out := make(map[securityhub.FindingRef]found, len(batch))
	err := r.opt.Finder.FindingsByID(ctx, batch, func(page [][]byte) error {
		for i, raw := range page {
			var id struct{ ProductArn, Id string }
			if err := json.Unmarshal(raw, &id); err != nil || id.Id == "" {
				return fmt.Errorf("finding %d of page has no readable Id: %v", i, err)
			}
			f, err := asff.DecodeFinding(raw)
			res := found{finding: f, err: err}
			out[securityhub.FindingRef{ProductArn: id.ProductArn, ID: id.Id}] = res
			out[securityhub.FindingRef{ID: id.Id}] = res
		}
		return nil
	})
	return out, err
}
