// Package filter implements Security Hub's AwsSecurityFindingFilters
// language, evaluated locally against decoded findings.
//
// A filter is written exactly as the Security Hub API takes it: a mapping
// from field names (SeverityLabel, ResourceTags, UpdatedAt, ...) to lists of
// StringFilter, NumberFilter, DateFilter, MapFilter, IpFilter, BooleanFilter
// or KeywordFilter objects, so the value of `aws securityhub get-findings
// --filters '{...}'` works unchanged in JSON or YAML. Every field of the
// SDK's types.AwsSecurityFindingFilters is supported (a test walks the
// struct), each reading the ASFF attribute the API reference names.
//
// Semantics follow the AWS API reference. Fields are AND-ed. Within a string
// field, EQUALS, PREFIX, CONTAINS and CONTAINS_WORD are OR-ed, NOT_EQUALS,
// PREFIX_NOT_EQUALS and NOT_CONTAINS are AND-ed, and both together mean
// (any positive) AND (all negatives); the combinations AWS rejects
// (CONTAINS with NOT_CONTAINS, EQUALS with NOT_EQUALS or PREFIX_NOT_EQUALS)
// are parse errors. CONTAINS_WORD (which AWS evaluates only in the
// GetFindingsV2 APIs) matches the value as a whole word: not preceded or
// followed by a letter, digit or underscore. Comparisons are
// case-sensitive. A field with several values (Type, ResourceType and the
// other Resource* fields over all resources, Malware*, ThreatIntelIndicator*,
// Vulnerabilities*, ...) matches a positive comparison if any value does
// and a negative one if none is excluded; an absent value satisfies only
// negative comparisons. Several NumberFilters, DateFilters, IpFilters or
// BooleanFilters on one field are alternatives, and a finding without the
// value matches none of them. An IpFilter's Cidr is a CIDR block or a
// single address of the field's family (IPv4 or IPv6). MapFilters are
// grouped by Key: OR/AND as for strings within a key, AND across keys.
// ResourceTags and ResourceDetailsOther look at every resource.
//
// Keyword is deprecated by AWS, which documents no meaning for it; here it
// is a keyword search: a KeywordFilter matches a finding when its value
// occurs as a whole word (as CONTAINS_WORD) in any string value, not key,
// of the finding's JSON.
//
// Parsing compiles the filter once so Match is cheap and does not allocate.
package filter

import (
	"errors"
	"reflect"
	"slices"
	"time"

	"hubtriage/asff"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Filters is a compiled AwsSecurityFindingFilters. A nil or empty Filters
// matches every finding. It is immutable and safe for concurrent use.
type Filters struct {
	specs    []*fieldSpec // as written, in input order
	matchers []matcher    // cheapest first
}

// Match reports whether finding x satisfies every field of the filter. now
// anchors relative DateRange filters (e.g. UpdatedAt within 7 DAYS).
func (f *Filters) Match(x *asff.Finding, now time.Time) bool {
	if f == nil {
		return true
	}
	for _, m := range f.matchers {
		if !m.match(x, now) {
			return false
		}
	}
	return true
}

// Fields returns the names of the fields the filter uses, in input order.
func (f *Filters) Fields() []string {
	if f == nil {
		return nil
	}
	names := make([]string, len(f.specs))
	for i, s := range f.specs {
		names[i] = s.name
	}
	return names
}

// Only returns the filter restricted to the named fields, nil when it uses
// none of them: a looser filter, which every finding matching f matches.
func (f *Filters) Only(names ...string) *Filters {
	if f == nil {
		return nil
	}
	var specs []*fieldSpec
	for _, s := range f.specs {
		if slices.Contains(names, s.name) {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		return nil
	}
	return compile(specs, &errorList{}) // f compiled without error, so does any subset
}

// Empty reports whether the filter has no conditions and so matches everything.
func (f *Filters) Empty() bool {
	return f == nil || len(f.matchers) == 0
}

// SDK converts the filter to the Security Hub SDK type, e.g. to push it down
// to GetFindings. The result is a fresh copy. Security Hub may reject some
// filters hubtriage evaluates locally (MapFilter CONTAINS/NOT_CONTAINS work
// only in automation rules, CONTAINS_WORD only in GetFindingsV2; it limits
// filters to 10 fields of 20 values), and its evaluation of multi-key
// MapFilters and of the deprecated Keyword may differ, so treat a push-down
// as a pre-selection and still Match the findings it returns.
func (f *Filters) SDK() *types.AwsSecurityFindingFilters {
	out := &types.AwsSecurityFindingFilters{}
	if f == nil {
		return out
	}
	v := reflect.ValueOf(out).Elem()
	for _, s := range f.specs {
		dst := v.FieldByName(s.name)
		switch s.field.kind {
		case kindString:
			dst.Set(reflect.ValueOf(mapSlice(s.strs, copyString)))
		case kindNumber:
			dst.Set(reflect.ValueOf(mapSlice(s.nums, copyNumber)))
		case kindDate:
			dst.Set(reflect.ValueOf(mapSlice(s.dates, copyDate)))
		case kindMap:
			dst.Set(reflect.ValueOf(mapSlice(s.maps, copyMap)))
		case kindIP:
			dst.Set(reflect.ValueOf(mapSlice(s.ips, copyIP)))
		case kindBool:
			dst.Set(reflect.ValueOf(mapSlice(s.bools, copyBool)))
		case kindKeyword:
			dst.Set(reflect.ValueOf(mapSlice(s.keywords, copyKeyword)))
		}
	}
	return out
}

// FromSDK compiles an SDK filter, such as the Filters of an existing Security
// Hub insight. Errors are *FieldError values (with Line 0) joined together.
func FromSDK(in *types.AwsSecurityFindingFilters) (*Filters, error) {
	var errs errorList
	var specs []*fieldSpec
	if in != nil {
		v := reflect.ValueOf(in).Elem()
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() || v.Field(i).Kind() != reflect.Slice || v.Field(i).Len() == 0 {
				continue
			}
			if s := sdkFieldSpec(sf.Name, v.Field(i).Interface(), &errs); s != nil {
				specs = append(specs, s)
			}
		}
	}
	f := compile(specs, &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// sdkFieldSpec copies one SDK field into a spec, or reports why it can't.
func sdkFieldSpec(name string, entries any, errs *errorList) *fieldSpec {
	fd, err := lookupField(name)
	if err != nil {
		fe := err.(*FieldError)
		fe.Path = name
		*errs = append(*errs, fe)
		return nil
	}
	s := &fieldSpec{name: name, field: fd}
	switch e := entries.(type) {
	case []types.StringFilter:
		s.strs = mapSlice(e, copyString)
	case []types.NumberFilter:
		s.nums = mapSlice(e, copyNumber)
	case []types.DateFilter:
		s.dates = mapSlice(e, copyDate)
	case []types.MapFilter:
		s.maps = mapSlice(e, copyMap)
	case []types.IpFilter:
		s.ips = mapSlice(e, copyIP)
	case []types.BooleanFilter:
		s.bools = mapSlice(e, copyBool)
	case []types.KeywordFilter:
		s.keywords = mapSlice(e, copyKeyword)
	}
	return s
}

// mapSlice applies fn to each element of in.
func mapSlice[T any](in []T, fn func(T) T) []T {
	out := make([]T, len(in))
	for i, x := range in {
		out[i] = fn(x)
	}
	return out
}

// clone copies the value p points to, keeping nil as nil.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func copyString(x types.StringFilter) types.StringFilter {
	return types.StringFilter{Comparison: x.Comparison, Value: clone(x.Value)}
}

func copyNumber(x types.NumberFilter) types.NumberFilter {
	return types.NumberFilter{Eq: clone(x.Eq), Gt: clone(x.Gt), Gte: clone(x.Gte), Lt: clone(x.Lt), Lte: clone(x.Lte)}
}

func copyDate(x types.DateFilter) types.DateFilter {
	out := types.DateFilter{Start: clone(x.Start), End: clone(x.End)}
	if x.DateRange != nil {
		out.DateRange = &types.DateRange{Comparison: x.DateRange.Comparison, Unit: x.DateRange.Unit, Value: clone(x.DateRange.Value)}
	}
	return out
}

func copyMap(x types.MapFilter) types.MapFilter {
	return types.MapFilter{Comparison: x.Comparison, Key: clone(x.Key), Value: clone(x.Value)}
}

func copyIP(x types.IpFilter) types.IpFilter { return types.IpFilter{Cidr: clone(x.Cidr)} }

func copyBool(x types.BooleanFilter) types.BooleanFilter {
	return types.BooleanFilter{Value: clone(x.Value)}
}

func copyKeyword(x types.KeywordFilter) types.KeywordFilter {
	return types.KeywordFilter{Value: clone(x.Value)}
}
