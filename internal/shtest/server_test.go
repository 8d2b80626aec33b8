package shtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"hubtriage/internal/shtest"
)

const product = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"

// mk returns a valid ASFF finding with Id id, overridden by the members of
// set (a nil value removes the member).
func mk(t *testing.T, id string, set map[string]any) []byte {
	t.Helper()
	f := map[string]any{
		"SchemaVersion": "2018-10-08", "Id": id, "ProductArn": product,
		"GeneratorId": "hubtriage-test", "AwsAccountId": "111122223333",
		"Types":     []string{"Software and Configuration Checks"},
		"CreatedAt": "2024-05-01T10:00:00Z", "UpdatedAt": "2024-05-01T10:00:00Z",
		"Severity": map[string]any{"Label": "HIGH"}, "Title": "t " + id, "Description": "d",
		"Resources":   []map[string]any{{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::bucket-" + id}},
		"RecordState": "ACTIVE", "Workflow": map[string]any{"Status": "NEW"},
	}
	for k, v := range set {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// query returns the sorted Ids GetFindings answers for filters.
func query(t *testing.T, srv *shtest.Server, filters *types.AwsSecurityFindingFilters) ([]string, error) {
	t.Helper()
	var ids []string
	err := shtest.Client(t, srv.AWSConfig(), 0).GetFindings(context.Background(), filters, func(page [][]byte) error {
		for _, raw := range page {
			var f struct{ Id string }
			if err := json.Unmarshal(raw, &f); err != nil {
				return err
			}
			ids = append(ids, f.Id)
		}
		return nil
	})
	slices.Sort(ids)
	return ids, err
}

// member reads one top-level member of the stored finding id.
func member(t *testing.T, srv *shtest.Server, id, name string) string {
	t.Helper()
	raw, ok := srv.Finding(product, id)
	if !ok {
		t.Fatalf("finding %s not stored", id)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return string(f[name])
}

func sf(cmp types.StringFilterComparison, v string) types.StringFilter {
	return types.StringFilter{Comparison: cmp, Value: aws.String(v)}
}

func TestStringFilters(t *testing.T) {
	srv := shtest.New(t)
	err := srv.Load(
		mk(t, "a-1", nil),
		mk(t, "a-2", map[string]any{"RecordState": "ARCHIVED"}),
		mk(t, "b-1", map[string]any{"Workflow": map[string]any{"Status": "SUPPRESSED"}}),
		mk(t, "b-2", map[string]any{"Workflow": map[string]any{"Status": "RESOLVED"}, "RecordState": "ARCHIVED"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		filters types.AwsSecurityFindingFilters
		want    []string
		wantErr string
	}{
		{"none", types.AwsSecurityFindingFilters{}, []string{"a-1", "a-2", "b-1", "b-2"}, ""},
		{"EQUALS values are ORed", types.AwsSecurityFindingFilters{Id: []types.StringFilter{
			sf(types.StringFilterComparisonEquals, "a-1"), sf(types.StringFilterComparisonEquals, "b-2")}}, []string{"a-1", "b-2"}, ""},
		{"attributes are ANDed", types.AwsSecurityFindingFilters{
			Id:          []types.StringFilter{sf(types.StringFilterComparisonPrefix, "b-")},
			RecordState: []types.StringFilter{sf(types.StringFilterComparisonEquals, "ARCHIVED")}}, []string{"b-2"}, ""},
		{"negatives are ANDed", types.AwsSecurityFindingFilters{WorkflowStatus: []types.StringFilter{
			sf(types.StringFilterComparisonNotEquals, "SUPPRESSED"), sf(types.StringFilterComparisonNotEquals, "RESOLVED")}}, []string{"a-1", "a-2"}, ""},
		{"positive and negative together", types.AwsSecurityFindingFilters{Id: []types.StringFilter{
			sf(types.StringFilterComparisonPrefix, "a-"), sf(types.StringFilterComparisonNotContains, "2")}}, []string{"a-1"}, ""},
		{"PREFIX_NOT_EQUALS", types.AwsSecurityFindingFilters{Id: []types.StringFilter{
			sf(types.StringFilterComparisonPrefixNotEquals, "a-")}}, []string{"b-1", "b-2"}, ""},
		{"CONTAINS", types.AwsSecurityFindingFilters{ResourceId: []types.StringFilter{
			sf(types.StringFilterComparisonContains, "bucket-b")}}, []string{"b-1", "b-2"}, ""},
		{"nothing matches", types.AwsSecurityFindingFilters{ProductArn: []types.StringFilter{
			sf(types.StringFilterComparisonEquals, "arn:other")}}, nil, ""},
		{"EQUALS with NOT_EQUALS is rejected", types.AwsSecurityFindingFilters{Id: []types.StringFilter{
			sf(types.StringFilterComparisonEquals, "a-1"), sf(types.StringFilterComparisonNotEquals, "a-2")}}, nil, "cannot be combined"},
		{"unsupported attribute is rejected, not ignored", types.AwsSecurityFindingFilters{CompanyName: []types.StringFilter{
			sf(types.StringFilterComparisonEquals, "AWS")}}, nil, "Filters.CompanyName: shtest does not implement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query(t, srv, &tt.filters)
			if tt.wantErr != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidInputException" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want InvalidInputException containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDateFilters(t *testing.T) {
	srv := shtest.New(t)
	srv.SetNow(func() time.Time { return time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC) })
	err := srv.Load(
		mk(t, "old", map[string]any{"UpdatedAt": "2024-04-01T00:00:00Z"}),
		mk(t, "edge", map[string]any{"UpdatedAt": "2024-05-01T00:00:00.000Z"}),
		mk(t, "new", map[string]any{"UpdatedAt": "2024-05-09T12:30:00.123Z"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    types.DateFilter
		want []string
	}{
		{"Start is inclusive", types.DateFilter{Start: aws.String("2024-05-01T00:00:00Z")}, []string{"edge", "new"}},
		{"End is inclusive", types.DateFilter{End: aws.String("2024-05-01T00:00:00Z")}, []string{"edge", "old"}},
		{"Start and End", types.DateFilter{Start: aws.String("2024-04-02T00:00:00Z"), End: aws.String("2024-05-09T00:00:00Z")}, []string{"edge"}},
		{"last 5 days", types.DateFilter{DateRange: &types.DateRange{Value: aws.Int32(5), Unit: types.DateRangeUnitDays}}, []string{"new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := query(t, srv, &types.AwsSecurityFindingFilters{UpdatedAt: []types.DateFilter{tt.f}})
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSortAndInvalidToken(t *testing.T) {
	srv := shtest.New(t)
	if err := srv.Load(
		mk(t, "x", map[string]any{"UpdatedAt": "2024-05-03T00:00:00Z"}),
		mk(t, "y", map[string]any{"UpdatedAt": "2024-05-01T00:00:00Z"}),
		mk(t, "z", map[string]any{"UpdatedAt": "2024-05-02T00:00:00Z"}),
	); err != nil {
		t.Fatal(err)
	}
	api := sdk.NewFromConfig(srv.AWSConfig())
	out, err := api.GetFindings(context.Background(), &sdk.GetFindingsInput{
		SortCriteria: []types.SortCriterion{{Field: aws.String("UpdatedAt"), SortOrder: types.SortOrderDescending}},
		MaxResults:   aws.Int32(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range out.Findings {
		ids = append(ids, aws.ToString(f.Id))
	}
	if fmt.Sprint(ids) != "[x z]" || out.NextToken == nil {
		t.Fatalf("first page %v (NextToken %v), want [x z] and a token", ids, out.NextToken)
	}
	_, err = api.GetFindings(context.Background(), &sdk.GetFindingsInput{NextToken: aws.String("forged")})
	var invalid *types.InvalidInputException
	if !errors.As(err, &invalid) {
		t.Fatalf("forged NextToken: %v, want InvalidInputException", err)
	}
}

func TestReimportKeepsCustomerFields(t *testing.T) {
	srv := shtest.New(t)
	c := shtest.Client(t, srv.AWSConfig(), 0)
	ctx := context.Background()
	imp := func(raw []byte) {
		t.Helper()
		if res, err := c.Import(ctx, [][]byte{raw}); err != nil || res.Imported != 1 {
			t.Fatalf("Import: %+v, %v", res, err)
		}
	}
	imp(mk(t, "f", map[string]any{"Compliance": map[string]any{"Status": "FAILED"}}))

	api := sdk.NewFromConfig(srv.AWSConfig())
	upd, err := api.BatchUpdateFindings(ctx, &sdk.BatchUpdateFindingsInput{
		FindingIdentifiers: []types.AwsSecurityFindingIdentifier{
			{Id: aws.String("f"), ProductArn: aws.String(product)},
			{Id: aws.String("missing"), ProductArn: aws.String(product)},
		},
		Workflow: &types.WorkflowUpdate{Status: types.WorkflowStatusResolved},
		Note:     &types.NoteUpdate{Text: aws.String("fixed by hand"), UpdatedBy: aws.String("ops")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(upd.ProcessedFindings) != 1 || len(upd.UnprocessedFindings) != 1 || aws.ToString(upd.UnprocessedFindings[0].ErrorCode) != "FindingNotFound" {
		t.Fatalf("BatchUpdateFindings answered %+v", upd)
	}
	if got := member(t, srv, "f", "UpdatedAt"); got != `"2024-05-01T10:00:00Z"` {
		t.Fatalf("BatchUpdateFindings changed UpdatedAt to %s", got)
	}

	steps := []struct {
		name         string
		set          map[string]any
		wantWorkflow string
	}{
		{"provider resends NEW: customer's RESOLVED stays", map[string]any{"Compliance": map[string]any{"Status": "PASSED"}}, `{"Status":"RESOLVED"}`},
		{"compliance PASSED to FAILED reopens", map[string]any{"Compliance": map[string]any{"Status": "FAILED"}}, `{"Status":"NEW"}`},
	}
	for _, st := range steps {
		imp(mk(t, "f", st.set))
		if got := member(t, srv, "f", "Workflow"); got != st.wantWorkflow {
			t.Fatalf("%s: Workflow %s, want %s", st.name, got, st.wantWorkflow)
		}
		if !strings.Contains(member(t, srv, "f", "Note"), "fixed by hand") {
			t.Fatalf("%s: Note lost: %s", st.name, member(t, srv, "f", "Note"))
		}
	}

	// RESOLVED again, then archived and re-activated by the provider.
	if _, err := api.BatchUpdateFindings(ctx, &sdk.BatchUpdateFindingsInput{
		FindingIdentifiers: []types.AwsSecurityFindingIdentifier{{Id: aws.String("f"), ProductArn: aws.String(product)}},
		Workflow:           &types.WorkflowUpdate{Status: types.WorkflowStatusResolved},
	}); err != nil {
		t.Fatal(err)
	}
	imp(mk(t, "f", map[string]any{"RecordState": "ARCHIVED"}))
	if got := member(t, srv, "f", "Workflow"); got != `{"Status":"RESOLVED"}` {
		t.Fatalf("archiving changed Workflow to %s", got)
	}
	imp(mk(t, "f", map[string]any{"RecordState": "ACTIVE"}))
	if got := member(t, srv, "f", "Workflow"); got != `{"Status":"NEW"}` {
		t.Fatalf("ARCHIVED to ACTIVE left Workflow %s, want NEW", got)
	}
}

func TestImportValidation(t *testing.T) {
	srv := shtest.New(t)
	api := sdk.NewFromConfig(srv.AWSConfig(), func(o *sdk.Options) {
		// Send raw bodies: the SDK would refuse these findings itself.
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Serialize.Add(middleware.SerializeMiddlewareFunc("raw", func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				req := in.Request.(*smithyhttp.Request)
				var err error
				in.Request, err = req.SetStream(strings.NewReader(ctx.Value(bodyKey{}).(string)))
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleSerialize(ctx, in)
			}), middleware.After)
		})
	})
	send := func(body string) (*sdk.BatchImportFindingsOutput, error) {
		ctx := context.WithValue(context.Background(), bodyKey{}, body)
		return api.BatchImportFindings(ctx, &sdk.BatchImportFindingsInput{Findings: []types.AwsSecurityFinding{}})
	}
	out, err := send(`{"Findings":[` + string(mk(t, "ok", nil)) + `,` + string(mk(t, "no-title", map[string]any{"Title": nil})) + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.SuccessCount) != 1 || len(out.FailedFindings) != 1 ||
		aws.ToString(out.FailedFindings[0].Id) != "no-title" || aws.ToString(out.FailedFindings[0].ErrorCode) != "InvalidInput" ||
		!strings.Contains(aws.ToString(out.FailedFindings[0].ErrorMessage), "'Title'") {
		t.Fatalf("answer %+v, want no-title failed with InvalidInput naming Title", out)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = string(mk(t, fmt.Sprint(i), nil))
	}
	_, err = send(`{"Findings":[` + strings.Join(many, ",") + `]}`)
	var invalid *types.InvalidInputException
	if !errors.As(err, &invalid) {
		t.Fatalf("101 findings: %v, want InvalidInputException", err)
	}
}

type bodyKey struct{}

func TestSignatureChecked(t *testing.T) {
	srv := shtest.New(t)
	tests := []struct {
		name string
		opt  func(*sdk.Options)
	}{
		{"wrong secret key", func(o *sdk.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(shtest.AccessKey, "wrong", "")
		}},
		{"body changed after signing", func(o *sdk.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("tamper", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					req := in.Request.(*smithyhttp.Request)
					var err error
					in.Request, err = req.SetStream(strings.NewReader(`{"MaxResults":1}`))
					if err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sdk.NewFromConfig(srv.AWSConfig(), tt.opt).GetFindings(context.Background(), &sdk.GetFindingsInput{MaxResults: aws.Int32(2)})
			var apiErr smithy.APIError
			var httpErr *smithyhttp.ResponseError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidSignatureException" ||
				!errors.As(err, &httpErr) || httpErr.HTTPStatusCode() != http.StatusForbidden {
				t.Fatalf("GetFindings = %v, want HTTP 403 InvalidSignatureException", err)
			}
		})
	}
}

func TestLoadRejectsFindingsWithoutIdentity(t *testing.T) {
	srv := shtest.New(t)
	for _, raw := range []string{`[]`, `{"Id":"x"}`, `{"ProductArn":"p","Id":3}`, `{`} {
		if err := srv.Load([]byte(raw)); err == nil {
			t.Errorf("Load(%s) succeeded", raw)
		}
	}
	if n := len(srv.Findings()); n != 0 {
		t.Fatalf("%d findings stored after failed loads", n)
	}
}

func TestFailFindingOnUpdate(t *testing.T) {
	srv := shtest.New(t)
	if err := srv.Load(mk(t, "u", nil)); err != nil {
		t.Fatal(err)
	}
	srv.FailFinding(shtest.BatchUpdateFindings, "u", "ConcurrentUpdateError", "busy", 1)
	api := sdk.NewFromConfig(srv.AWSConfig())
	in := &sdk.BatchUpdateFindingsInput{
		FindingIdentifiers: []types.AwsSecurityFindingIdentifier{{Id: aws.String("u"), ProductArn: aws.String(product)}},
		Workflow:           &types.WorkflowUpdate{Status: types.WorkflowStatusSuppressed},
	}
	for i, want := range []string{`{"Status":"NEW"}`, `{"Status":"SUPPRESSED"}`} {
		if _, err := api.BatchUpdateFindings(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		if got := member(t, srv, "u", "Workflow"); got != want {
			t.Fatalf("after update %d: Workflow %s, want %s", i+1, got, want)
		}
	}
}

// TestGetFindingsV2FiltersAndPages: the fake evaluates the OCSF filters it
// supports, pages, and rejects the filters it does not evaluate.
func TestGetFindingsV2FiltersAndPages(t *testing.T) {
	srv := shtest.New(t)
	var findings [][]byte
	for i := range 130 {
		sev := "Medium"
		if i%2 == 1 {
			sev = "Low"
		}
		findings = append(findings, []byte(fmt.Sprintf(`{"finding_info":{"uid":"f%d","modified_time_dt":"2025-01-01T00:00:00.000Z"},`+
			`"metadata":{"product":{"uid":"p"}},"severity":%q,"severity_id":%d}`, i, sev, 3-i%2)))
	}
	if err := srv.LoadOCSF(findings...); err != nil {
		t.Fatal(err)
	}
	c := shtest.Client(t, srv.AWSConfig(), shtest.Attempts)
	medium := &types.OcsfFindingFilters{CompositeFilters: []types.CompositeFilter{{
		StringFilters: []types.OcsfStringFilter{{FieldName: "severity", Filter: &types.StringFilter{Value: aws.String("Medium"), Comparison: types.StringFilterComparisonEquals}}},
		DateFilters:   []types.OcsfDateFilter{{FieldName: "finding_info.modified_time_dt", Filter: &types.DateFilter{Start: aws.String("2024-12-31T00:00:00Z"), End: aws.String("2025-01-02T00:00:00Z")}}},
	}}}
	for _, tt := range []struct {
		filters *types.OcsfFindingFilters
		want    int
	}{{nil, 130}, {medium, 65}} {
		n := 0
		if err := c.GetFindingsV2(context.Background(), tt.filters, func(page [][]byte) error { n += len(page); return nil }); err != nil || n != tt.want {
			t.Errorf("filters %v: %d findings, err %v; want %d", tt.filters, n, err, tt.want)
		}
	}
	if got := srv.Count(shtest.GetFindingsV2); got != 3 { // 100 + 30, then 65 in one page
		t.Errorf("%d GetFindingsV2 requests, want 3", got)
	}
	unsupported := &types.OcsfFindingFilters{CompositeFilters: []types.CompositeFilter{{
		MapFilters: []types.OcsfMapFilter{{FieldName: "resources.tags", Filter: &types.MapFilter{Key: aws.String("k"), Value: aws.String("v"), Comparison: types.MapFilterComparisonEquals}}},
	}}}
	err := c.GetFindingsV2(context.Background(), unsupported, func([][]byte) error { return nil })
	var invalid *types.ValidationException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "MapFilters") {
		t.Errorf("unsupported filter: %v, want ValidationException naming MapFilters", err)
	}
}
