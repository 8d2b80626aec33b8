package daemon

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/filter"
	"hubtriage/ocsffilter"
)

// ocsfUpdatedField is the OCSF field the poll window and the checkpoint
// read: it maps to UpdatedAt (see docs/ocsf.md).
const ocsfUpdatedField = "finding_info.modified_time_dt"

// ocsfStateFields say whether an OCSF finding is active; as with
// stateFields, a rule filter that reads them is not pushed down, so polls
// also see the findings that went inactive.
var ocsfStateFields = []string{"status", "status_id", "activity_name", "activity_id", "compliance.status", "compliance.status_id"}

// queriesV2 returns the GetFindingsV2 filters of one poll covering OCSF
// findings modified in [from, to]: one per rule's ocsf_filter, ANDed with
// the window, duplicates removed; or one query for everything in the
// window when any rule cannot be pushed down (an ASFF filter: or no
// filter at all, state fields, nesting that one more layer would take past
// the API's three). The pipeline still matches every finding against the
// rules.
func queriesV2(asffRules []*filter.Filters, rules []*ocsffilter.Filter, from, to time.Time) []*types.OcsfFindingFilters {
	window := types.CompositeFilter{DateFilters: []types.OcsfDateFilter{{
		FieldName: ocsfUpdatedField,
		Filter:    &types.DateFilter{Start: aws.String(stamp(from)), End: aws.String(stamp(to))},
	}}}
	everything := []*types.OcsfFindingFilters{{CompositeFilters: []types.CompositeFilter{window}, CompositeOperator: types.AllowedOperatorsAnd}}
	var out []*types.OcsfFindingFilters
	seen := map[string]bool{}
	for i, r := range rules {
		if r == nil || (i < len(asffRules) && !asffRules[i].Empty()) || r.Uses(ocsfStateFields...) || r.Nested() {
			return everything
		}
		f := r.SDK()
		q := &types.OcsfFindingFilters{CompositeOperator: types.AllowedOperatorsAnd, CompositeFilters: []types.CompositeFilter{
			window, {Operator: f.CompositeOperator, NestedCompositeFilters: f.CompositeFilters},
		}}
		key, err := json.Marshal(q)
		if err != nil || !seen[string(key)] {
			out = append(out, q)
		}
		seen[string(key)] = true
	}
	if len(out) == 0 {
		return everything
	}
	return out
}
