package filter

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/internal/fixtures/asfftest"
)

// sdkKinds maps each SDK filter type to the kind that parses it.
var sdkKinds = map[reflect.Type]kind{
	reflect.TypeFor[types.StringFilter]():  kindString,
	reflect.TypeFor[types.NumberFilter]():  kindNumber,
	reflect.TypeFor[types.DateFilter]():    kindDate,
	reflect.TypeFor[types.MapFilter]():     kindMap,
	reflect.TypeFor[types.IpFilter]():      kindIP,
	reflect.TypeFor[types.BooleanFilter](): kindBool,
	reflect.TypeFor[types.KeywordFilter](): kindKeyword,
}

// TestEverySDKFieldIsSupported walks types.AwsSecurityFindingFilters: every
// field of the SDK hubtriage builds with is in the field table with the
// kind of its filter type, and the table has nothing else. A new SDK field
// fails here until it is given a matcher.
func TestEverySDKFieldIsSupported(t *testing.T) {
	sdk := reflect.TypeFor[types.AwsSecurityFindingFilters]()
	seen := 0
	for i := range sdk.NumField() {
		sf := sdk.Field(i)
		if !sf.IsExported() {
			continue
		}
		seen++
		f, ok := fields[sf.Name]
		if !ok {
			t.Errorf("%s (%v) has no matcher", sf.Name, sf.Type)
			continue
		}
		k, known := sdkKinds[sf.Type.Elem()]
		if sf.Type.Kind() != reflect.Slice || !known || k != f.kind {
			t.Errorf("%s is %v in the SDK, the table says []%v", sf.Name, sf.Type, f.kind)
		}
	}
	if len(fields) != seen {
		t.Errorf("the table has %d fields, the SDK %d", len(fields), seen)
	}
}

func TestSDKConversion(t *testing.T) {
	f := mustJSON(t, `{
		"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}, {"Value": "HIGH", "Comparison": "EQUALS"}],
		"SeverityNormalized": [{"Gte": 70}],
		"UpdatedAt": [{"DateRange": {"Value": 7, "Unit": "DAYS"}}, {"Start": "2024-01-01T00:00:00Z", "End": "2024-02-01T00:00:00Z"}],
		"ResourceTags": [{"Key": "Env", "Value": "prod", "Comparison": "EQUALS"}]
	}`)
	got := f.SDK()
	want := &types.AwsSecurityFindingFilters{
		SeverityLabel: []types.StringFilter{
			{Value: aws.String("CRITICAL"), Comparison: types.StringFilterComparisonEquals},
			{Value: aws.String("HIGH"), Comparison: types.StringFilterComparisonEquals},
		},
		//lint:ignore SA1019 deprecated by AWS but still a filter field, so still supported
		SeverityNormalized: []types.NumberFilter{{Gte: aws.Float64(70)}},
		UpdatedAt: []types.DateFilter{
			{DateRange: &types.DateRange{Value: aws.Int32(7), Unit: types.DateRangeUnitDays}},
			{Start: aws.String("2024-01-01T00:00:00Z"), End: aws.String("2024-02-01T00:00:00Z")},
		},
		ResourceTags: []types.MapFilter{{Key: aws.String("Env"), Value: aws.String("prod"), Comparison: types.MapFilterComparisonEquals}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SDK() = %+v\nwant %+v", got, want)
	}
	if names := f.Fields(); !reflect.DeepEqual(names, []string{"SeverityLabel", "SeverityNormalized", "UpdatedAt", "ResourceTags"}) {
		t.Errorf("Fields() = %v", names)
	}

	// The result is a copy: changing it must not change the filter.
	*got.SeverityLabel[0].Value = "LOW"
	got.ResourceTags[0].Key = aws.String("Team")
	if again := f.SDK(); aws.ToString(again.SeverityLabel[0].Value) != "CRITICAL" || aws.ToString(again.ResourceTags[0].Key) != "Env" {
		t.Error("mutating SDK() output changed the filter")
	}
}

func TestSDKRoundTrip(t *testing.T) {
	for _, src := range []string{cliFilter, benchFilter} {
		f := mustJSON(t, src)
		back, err := FromSDK(f.SDK())
		if err != nil {
			t.Fatalf("FromSDK: %v", err)
		}
		if !reflect.DeepEqual(back.SDK(), f.SDK()) {
			t.Errorf("round trip changed the filter:\n%+v\n%+v", back.SDK(), f.SDK())
		}
		mixed := asfftest.Array(t, "arrays/findingsmanager-19-mixed.json")
		mixed = append(mixed, sshFinding(), twoResources())
		if a, b := matching(f, mixed, now), matching(back, mixed, now); !equalInts(a, b) {
			t.Errorf("round-tripped filter matched %v, original %v", b, a)
		}
	}
}

func TestFromSDKErrors(t *testing.T) {
	_, err := FromSDK(&types.AwsSecurityFindingFilters{
		Sample:            []types.BooleanFilter{{}},
		SeverityLabel:     []types.StringFilter{{Value: aws.String("HIGH"), Comparison: "LIKE"}},
		Title:             []types.StringFilter{{Comparison: types.StringFilterComparisonEquals}},
		NetworkSourceIpV4: []types.IpFilter{{Cidr: aws.String("2001:db8::/32")}},
	})
	for _, frag := range []string{
		`SeverityLabel[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS, CONTAINS_WORD (got "LIKE")`,
		"Title[0].Value: required",
		"Sample[0].Value: required (true or false)",
		`NetworkSourceIpV4[0].Cidr: NetworkSourceIpV4 holds IPv4 addresses, so "2001:db8::/32" can never match`,
	} {
		if err == nil || !containsLine(err.Error(), frag) {
			t.Errorf("error %q lacks line %q", err, frag)
		}
	}
	if f, err := FromSDK(nil); err != nil || !f.Empty() {
		t.Errorf("FromSDK(nil) = %v, %v; want an empty filter", f, err)
	}
}

// containsLine reports whether one line of s equals line.
func containsLine(s, line string) bool {
	return slices.Contains(strings.Split(s, "\n"), line)
}
