package ocsffilter

import (
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// SDK converts the filter to the Security Hub SDK type, to push it down to
// GetFindingsV2. The result is a fresh copy; nil for a nil filter.
func (f *Filter) SDK() *types.OcsfFindingFilters {
	if f == nil {
		return nil
	}
	out := &types.OcsfFindingFilters{CompositeOperator: types.AllowedOperators(f.op)}
	for _, g := range f.groups {
		out.CompositeFilters = append(out.CompositeFilters, g.sdk())
	}
	return out
}

func (g *group) sdk() types.CompositeFilter {
	out := types.CompositeFilter{Operator: types.AllowedOperators(g.op)}
	for _, c := range g.conds {
		c.addTo(&out)
	}
	for _, n := range g.nested {
		out.NestedCompositeFilters = append(out.NestedCompositeFilters, n.sdk())
	}
	return out
}

func (c *cond) addTo(out *types.CompositeFilter) {
	switch c.kind {
	case kindString:
		out.StringFilters = append(out.StringFilters, types.OcsfStringFilter{FieldName: types.OcsfStringField(c.field),
			Filter: &types.StringFilter{Value: aws.String(c.value), Comparison: types.StringFilterComparison(c.comparison)}})
	case kindNumber:
		out.NumberFilters = append(out.NumberFilters, types.OcsfNumberFilter{FieldName: types.OcsfNumberField(c.field),
			Filter: &types.NumberFilter{Eq: clone(c.eq), Gt: clone(c.gt), Gte: clone(c.gte), Lt: clone(c.lt), Lte: clone(c.lte)}})
	case kindDate:
		d := &types.DateFilter{}
		if !c.start.IsZero() {
			d.Start = aws.String(c.start.Format(time.RFC3339Nano))
		}
		if !c.end.IsZero() {
			d.End = aws.String(c.end.Format(time.RFC3339Nano))
		}
		if c.rangeSet {
			d.DateRange = &types.DateRange{Value: aws.Int32(int32(c.rangeDays)), Unit: types.DateRangeUnitDays,
				Comparison: types.DateRangeComparison(c.comparison)}
		}
		out.DateFilters = append(out.DateFilters, types.OcsfDateFilter{FieldName: types.OcsfDateField(c.field), Filter: d})
	case kindBoolean:
		out.BooleanFilters = append(out.BooleanFilters, types.OcsfBooleanFilter{FieldName: types.OcsfBooleanField(c.field),
			Filter: &types.BooleanFilter{Value: clone(c.boolean)}})
	case kindMap:
		out.MapFilters = append(out.MapFilters, types.OcsfMapFilter{FieldName: types.OcsfMapField(c.field),
			Filter: &types.MapFilter{Key: aws.String(c.key), Value: aws.String(c.value), Comparison: types.MapFilterComparison(c.comparison)}})
	case kindIP:
		out.IpFilters = append(out.IpFilters, types.OcsfIpFilter{FieldName: types.OcsfIpField(c.field),
			Filter: &types.IpFilter{Cidr: aws.String(c.cidr.String())}})
	}
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Uses reports whether any condition of the filter reads one of fields.
func (f *Filter) Uses(fields ...string) bool {
	if f == nil {
		return false
	}
	for _, g := range f.groups {
		if g.uses(fields) {
			return true
		}
	}
	return false
}

func (g *group) uses(fields []string) bool {
	for _, c := range g.conds {
		if slices.Contains(fields, c.field) {
			return true
		}
	}
	for _, n := range g.nested {
		if n.uses(fields) {
			return true
		}
	}
	return false
}

// Nested reports whether the filter has NestedCompositeFilters (its
// CompositeFilters cannot be nested once more: GetFindingsV2 takes three
// layers at most).
func (f *Filter) Nested() bool {
	if f == nil {
		return false
	}
	for _, g := range f.groups {
		if len(g.nested) > 0 {
			return true
		}
	}
	return false
}
