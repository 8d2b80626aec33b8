package filter

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/internal/fixtures/asfftest"
)

func TestFieldTableMatchesSDK(t *testing.T) {
	sdk := reflect.TypeFor[types.AwsSecurityFindingFilters]()
	elem := map[kind]reflect.Type{
		kindString: reflect.TypeFor[types.StringFilter](),
		kindNumber: reflect.TypeFor[types.NumberFilter](),
		kindDate:   reflect.TypeFor[types.DateFilter](),
		kindMap:    reflect.TypeFor[types.MapFilter](),
	}
	for name, f := range fields {
		sf, ok := sdk.FieldByName(name)
		if !ok {
			t.Errorf("%s is not an AwsSecurityFindingFilters field", name)
			continue
		}
		if sf.Type.Kind() != reflect.Slice || sf.Type.Elem() != elem[f.kind] {
			t.Errorf("%s is %v in the SDK, the table says []%v", name, sf.Type, elem[f.kind])
		}
	}
	for _, name := range []string{"ProductName", "CompanyName", "ProductArn", "AwsAccountId", "Region", "Id",
		"GeneratorId", "Type", "Title", "Description", "SeverityLabel", "SeverityNormalized", "RecordState",
		"WorkflowStatus", "WorkflowState", "ComplianceStatus", "ComplianceSecurityControlId", "ResourceType",
		"ResourceId", "ResourceRegion", "ResourcePartition", "ResourceTags", "ProductFields", "UserDefinedFields",
		"FirstObservedAt", "LastObservedAt", "UpdatedAt", "CreatedAt"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("required field %s is not supported", name)
		}
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
		Sample:        []types.BooleanFilter{{Value: aws.Bool(true)}},
		SeverityLabel: []types.StringFilter{{Value: aws.String("HIGH"), Comparison: "LIKE"}},
		Title:         []types.StringFilter{{Comparison: types.StringFilterComparisonEquals}},
	})
	if !errors.Is(err, ErrUnsupportedField) {
		t.Errorf("Sample: got %v, want ErrUnsupportedField", err)
	}
	want := "Sample: not supported by hubtriage"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	for _, frag := range []string{
		`SeverityLabel[0].Comparison: must be one of EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS (got "LIKE")`,
		"Title[0].Value: required",
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
