package securityhub_test

import (
	"bytes"
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
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"hubtriage/asff"
	"hubtriage/internal/fixtures"
	"hubtriage/internal/shtest"
	"hubtriage/securityhub"
)

// arrayFindings reads the real findings of the arrays/ fixtures.
func arrayFindings(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"findingsmanager-19-mixed.json", "findingsmanager-4-archived.json",
		"findingsmanager-5-suppressed-archived.json", "xsoar-10-archived-controls.json"} {
		var arr []json.RawMessage
		if err := json.Unmarshal(fixtures.Read(t, "arrays/"+name), &arr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range arr {
			out = append(out, f)
		}
	}
	return out
}

func TestGetFindingsPages(t *testing.T) {
	srv := shtest.New(t)
	fs := synthetic(t, "page", 250, 0)
	if err := srv.Load(fs...); err != nil {
		t.Fatal(err)
	}
	c, clock, _ := testClient(t, srv.AWSConfig(), func(o *securityhub.Options) {
		o.ReadRate = securityhub.Rate{PerSecond: 3, Burst: 1}
	})
	pages := collect(t, func(fn func([][]byte) error) error { return c.GetFindings(context.Background(), nil, fn) })

	var sizes []int
	for _, p := range pages {
		sizes = append(sizes, len(p))
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Fatalf("page sizes %v, want [100 100 50]", sizes)
	}
	for i, raw := range flatten(pages) {
		if want := idOf(t, fs[i]); idOf(t, raw) != want {
			t.Fatalf("finding %d is %s, want %s (every finding once, in order)", i, idOf(t, raw), want)
		}
	}
	if got := len(srv.FirstAttempts(shtest.GetFindings)); got != 3 {
		t.Fatalf("%d GetFindings requests, want 3", got)
	}
	// Every attempt is paced, an SDK retry included (a loaded machine can
	// cut a response short; see shtest.Request.Attempt).
	attempts := srv.Count(shtest.GetFindings)
	if want := time.Duration(attempts-1) * time.Second / 3; clock.elapsed().Round(time.Millisecond) != want.Round(time.Millisecond) {
		t.Fatalf("%d attempts at 3/s burst 1 paced %v, want %v", attempts, clock.elapsed(), want)
	}
}

// TestGetFindingsRawBytes shows why GetFindings reads the body raw: a real
// finding carries Severity.Normalized as the string "40", which the SDK's
// typed deserializer rejects, while GetFindings passes it on byte for byte.
func TestGetFindingsRawBytes(t *testing.T) {
	srv := shtest.New(t)
	raw := fixtures.Read(t, "findings/control-consolidated-CloudTrail.2.json")
	if err := srv.Load(raw); err != nil {
		t.Fatal(err)
	}
	_, err := sdk.NewFromConfig(srv.AWSConfig()).GetFindings(context.Background(), &sdk.GetFindingsInput{})
	if err == nil || !strings.Contains(err.Error(), "expected Integer") {
		t.Fatalf("the SDK's typed GetFindings returned %v; want it to reject Normalized \"40\" (if it no longer does, the raw path is a choice, not a need)", err)
	}
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	got := flatten(collect(t, func(fn func([][]byte) error) error { return c.GetFindings(context.Background(), nil, fn) }))
	var want bytes.Buffer
	if err := json.Compact(&want, raw); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], want.Bytes()) {
		t.Fatalf("GetFindings returned %d findings; want the stored finding byte for byte", len(got))
	}
}

func TestGetFindingsFilters(t *testing.T) {
	srv := shtest.New(t)
	fs := arrayFindings(t)
	if err := srv.Load(fs...); err != nil {
		t.Fatal(err)
	}
	decoded := map[string]*asff.Finding{}
	for _, raw := range srv.Findings() {
		f, err := asff.DecodeFinding(raw)
		if err != nil {
			t.Fatal(err)
		}
		decoded[f.ProductArn+"|"+f.ID] = f
	}
	eq := func(v string) []types.StringFilter {
		return []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(v)}}
	}
	cut := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		filters *types.AwsSecurityFindingFilters
		want    func(*asff.Finding) bool
	}{
		{"RecordState", &types.AwsSecurityFindingFilters{RecordState: eq("ARCHIVED")},
			func(f *asff.Finding) bool { return f.RecordState == "ARCHIVED" }},
		{"WorkflowStatus", &types.AwsSecurityFindingFilters{WorkflowStatus: eq("SUPPRESSED")},
			func(f *asff.Finding) bool { return f.WorkflowStatus == "SUPPRESSED" }},
		{"ACTIVE and NEW", &types.AwsSecurityFindingFilters{RecordState: eq("ACTIVE"), WorkflowStatus: eq("NEW")},
			func(f *asff.Finding) bool { return f.RecordState == "ACTIVE" && f.WorkflowStatus == "NEW" }},
		{"UpdatedAt since", &types.AwsSecurityFindingFilters{UpdatedAt: []types.DateFilter{{Start: aws.String(cut.Format(time.RFC3339))}}},
			func(f *asff.Finding) bool { return !f.UpdatedAt.Before(cut) }},
		{"ProductArn prefix", &types.AwsSecurityFindingFilters{ProductArn: []types.StringFilter{{
			Comparison: types.StringFilterComparisonPrefix, Value: aws.String("arn:aws:securityhub:eu-west-1::product/aws/inspector")}}},
			func(f *asff.Finding) bool {
				return strings.HasPrefix(f.ProductArn, "arn:aws:securityhub:eu-west-1::product/aws/inspector")
			}},
	}
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got []string
			for k, f := range decoded {
				if tt.want(f) {
					want = append(want, k)
				}
			}
			for _, raw := range flatten(collect(t, func(fn func([][]byte) error) error {
				return c.GetFindings(context.Background(), tt.filters, fn)
			})) {
				f, err := asff.DecodeFinding(raw)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f.ProductArn+"|"+f.ID)
			}
			slices.Sort(want)
			slices.Sort(got)
			if len(want) == 0 || len(want) == len(decoded) {
				t.Fatalf("case selects %d of %d fixtures; it cannot tell filtering from not filtering", len(want), len(decoded))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d findings %v\nwant %d %v", len(got), got, len(want), want)
			}
		})
	}
}

func TestGetFindingsRetriesThrottling(t *testing.T) {
	srv := shtest.New(t)
	if err := srv.Load(synthetic(t, "thr", 120, 0)...); err != nil {
		t.Fatal(err)
	}
	srv.Throttle(shtest.GetFindings, 2)
	c, _, backoff := testClient(t, srv.AWSConfig(), nil)
	got := flatten(collect(t, func(fn func([][]byte) error) error { return c.GetFindings(context.Background(), nil, fn) }))
	if len(got) != 120 {
		t.Fatalf("got %d findings, want 120", len(got))
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	// A loaded machine can add an SDK retry of a cut-short 200 (see
	// shtest.Request.Attempt), so count pages by first attempt and check
	// only that the two throttled attempts were backed off.
	calls := backoff.calls()
	if pages := len(srv.FirstAttempts(shtest.GetFindings)); throttled != 2 || pages != 2 || len(calls) < 2 || calls[0] != 1 || calls[1] != 2 {
		t.Fatalf("%d throttled, %d pages and backoffs %v; want 2 throttled + 2 pages, backed off [1 2]", throttled, pages, calls)
	}
}

func TestGetFindingsStopsOnCallbackError(t *testing.T) {
	srv := shtest.New(t)
	if err := srv.Load(synthetic(t, "stop", 250, 0)...); err != nil {
		t.Fatal(err)
	}
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	stop := errors.New("stop here")
	err := c.GetFindings(context.Background(), nil, func([][]byte) error { return stop })
	if err != stop {
		t.Fatalf("GetFindings = %v, want the callback's error unwrapped", err)
	}
	if n := len(srv.FirstAttempts(shtest.GetFindings)); n != 1 {
		t.Fatalf("%d requests after the callback failed on page 1, want 1", n)
	}
}

func TestGetFindingsServerError(t *testing.T) {
	srv := shtest.New(t)
	srv.FailRequests(shtest.GetFindings, 1, 400, "InvalidAccessException")
	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	err := c.GetFindings(context.Background(), nil, func([][]byte) error { return nil })
	var invalid *types.InvalidAccessException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "get findings page 1") {
		t.Fatalf("GetFindings = %v, want an InvalidAccessException naming page 1", err)
	}
}

func TestFindingsByID(t *testing.T) {
	srv := shtest.New(t)
	const productA = "arn:aws::securityhub:us-east-1::product/aws/guardduty"
	const productB = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
	a := synthetic(t, "byid", 50, 0)
	b := synthetic(t, "byid", 3, 0) // same Ids as a[0:3], other product
	for i := range b {
		b[i] = bytes.Replace(b[i], []byte(productA), []byte(productB), 1)
	}
	if err := srv.Load(append(a, b...)...); err != nil {
		t.Fatal(err)
	}
	var refs []securityhub.FindingRef
	want := map[securityhub.FindingRef]bool{}
	for i := 5; i < 50; i++ { // 45 of product A
		r := securityhub.FindingRef{ProductArn: productA, ID: idOf(t, a[i])}
		refs, want[r] = append(refs, r), true
	}
	rb := securityhub.FindingRef{ProductArn: productB, ID: idOf(t, b[1])}
	refs, want[rb] = append(refs, rb, refs[0], securityhub.FindingRef{ProductArn: productA, ID: "no-such-finding"}), true

	c, _, _ := testClient(t, srv.AWSConfig(), nil)
	got := map[securityhub.FindingRef]int{}
	for _, raw := range flatten(collect(t, func(fn func([][]byte) error) error {
		return c.FindingsByID(context.Background(), refs, fn)
	})) {
		var f struct{ ProductArn, Id string }
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		got[securityhub.FindingRef{ProductArn: f.ProductArn, ID: f.Id}]++
	}
	if len(got) != len(want) {
		t.Fatalf("got %d distinct findings, want %d", len(got), len(want))
	}
	for r, n := range got {
		if !want[r] || n != 1 {
			t.Fatalf("finding %+v returned %d times; wanted: %v", r, n, want[r])
		}
	}
	// 46 product-A Ids (45 + the missing one) in chunks of 20, plus one
	// request for product B; no request carries more than 20 Id values.
	var idCounts []int
	for _, r := range srv.FirstAttempts(shtest.GetFindings) {
		var filters struct{ Id, ProductArn []types.StringFilter }
		if err := json.Unmarshal(r.Filters, &filters); err != nil {
			t.Fatal(err)
		}
		if len(filters.ProductArn) != 1 {
			t.Fatalf("request without a ProductArn filter: %s", r.Filters)
		}
		idCounts = append(idCounts, len(filters.Id))
	}
	if fmt.Sprint(idCounts) != "[20 20 6 1]" {
		t.Fatalf("Id values per request %v, want [20 20 6 1]", idCounts)
	}
}
