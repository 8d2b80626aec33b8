package daemon

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/filter"
)

// Security Hub limits on one GetFindings Filters object (see filter.SDK).
const (
	maxPushFields = 10
	maxPushValues = 20
)

// stateFields describe whether a finding is active. They are never pushed
// down: a poll must also see the findings that went inactive, so the
// pipeline can resolve their state (and alert a recurrence later).
var stateFields = []string{"RecordState", "WorkflowStatus", "WorkflowState", "ComplianceStatus"}

// queries returns the GetFindings filters of one poll covering findings
// updated in [from, to]: one per rule filter that Security Hub can evaluate,
// without its state fields, and duplicates removed; or, when any rule
// cannot be pushed down (no filter, an UpdatedAt condition of its own,
// comparisons or sizes GetFindings rejects), one query for everything
// updated in the window. Push-down only pre-selects: the pipeline matches
// every finding against the rules again.
func queries(rules []*filter.Filters, from, to time.Time) []*types.AwsSecurityFindingFilters {
	window := []types.DateFilter{{Start: aws.String(stamp(from)), End: aws.String(stamp(to))}}
	var out []*types.AwsSecurityFindingFilters
	seen := map[string]bool{}
	for _, r := range rules {
		q, ok := pushable(r)
		if !ok {
			return []*types.AwsSecurityFindingFilters{{UpdatedAt: window}}
		}
		q.UpdatedAt = window
		key, err := json.Marshal(q)
		if err != nil || !seen[string(key)] {
			out = append(out, q)
		}
		seen[string(key)] = true
	}
	if len(out) == 0 {
		return []*types.AwsSecurityFindingFilters{{UpdatedAt: window}}
	}
	return out
}

// pushable converts a rule filter for GetFindings, reporting false when it
// would select everything anyway or cannot be sent as it is. Fields
// GetFindings does not evaluate as hubtriage does are left out (a looser
// query, which the pipeline's own matching narrows again): the state
// fields, the deprecated Keyword, and string fields using CONTAINS_WORD
// (which only GetFindingsV2 accepts).
func pushable(f *filter.Filters) (*types.AwsSecurityFindingFilters, bool) {
	if f.Empty() {
		return nil, false
	}
	q := f.SDK()
	v := reflect.ValueOf(q).Elem()
	for _, name := range stateFields {
		v.FieldByName(name).SetZero()
	}
	v.FieldByName("Keyword").SetZero()
	for i := range v.NumField() {
		if v.Type().Field(i).IsExported() && usesContainsWord(v.Field(i).Interface()) {
			v.Field(i).SetZero()
		}
	}
	if v.FieldByName("UpdatedAt").Len() > 0 {
		return nil, false
	}
	fields := 0
	for i := range v.NumField() {
		fv := v.Field(i)
		if fv.Kind() != reflect.Slice || fv.Len() == 0 {
			continue
		}
		fields++
		if fv.Len() > maxPushValues || !mapComparisonsPushable(fv.Interface()) {
			return nil, false
		}
	}
	// The UpdatedAt window takes one of the fields.
	return q, fields > 0 && fields < maxPushFields
}

// mapComparisonsPushable reports false for MapFilter CONTAINS and
// NOT_CONTAINS, which Security Hub accepts only in automation rules.
func mapComparisonsPushable(entries any) bool {
	maps, ok := entries.([]types.MapFilter)
	if !ok {
		return true
	}
	for _, m := range maps {
		if m.Comparison == types.MapFilterComparisonContains || m.Comparison == types.MapFilterComparisonNotContains {
			return false
		}
	}
	return true
}

// usesContainsWord reports whether a field's filters include CONTAINS_WORD.
func usesContainsWord(entries any) bool {
	strs, ok := entries.([]types.StringFilter)
	if !ok {
		return false
	}
	for _, s := range strs {
		if s.Comparison == types.StringFilterComparisonContainsWord {
			return true
		}
	}
	return false
}

// stamp formats t as Security Hub timestamps are written, in UTC with
// milliseconds, rounded down so the window never starts late.
func stamp(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}
