package securityhub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// FindingRef identifies one finding: Security Hub keys findings by the pair
// (ProductArn, Id).
type FindingRef struct {
	ProductArn string
	ID         string
}

// getFindingsPage is the part of a GetFindings response the client reads.
type getFindingsPage struct {
	Findings  []json.RawMessage
	NextToken *string
}

// GetFindings calls fn with each page of findings matching filters (nil
// matches all), in the order Security Hub returns them, following NextToken
// with pages of up to MaxPageSize. Each finding is the raw JSON object from
// the response, exactly as sent; fn may keep the slices. Empty pages are not
// passed to fn. An error from fn stops paging and is returned unwrapped.
func (c *Client) GetFindings(ctx context.Context, filters *types.AwsSecurityFindingFilters, fn func(page [][]byte) error) error {
	return c.pages(ctx, "get findings", func(token *string, body *[]byte) error {
		_, err := c.api.GetFindings(ctx, &sdk.GetFindingsInput{
			Filters: filters, MaxResults: aws.Int32(MaxPageSize), NextToken: token,
		}, withMiddleware(addCaptureResponseBody(body), addPaceAttempts(c.readRate)))
		return err
	}, fn)
}

// GetFindingsV2 is GetFindings for the new Security Hub: it pages through
// the OCSF findings matching filters (nil matches all) with the same
// contract. Each finding is the raw OCSF JSON object, exactly as sent.
func (c *Client) GetFindingsV2(ctx context.Context, filters *types.OcsfFindingFilters, fn func(page [][]byte) error) error {
	return c.pages(ctx, "get findings v2", func(token *string, body *[]byte) error {
		_, err := c.api.GetFindingsV2(ctx, &sdk.GetFindingsV2Input{
			Filters: filters, MaxResults: aws.Int32(MaxPageSize), NextToken: token,
		}, withMiddleware(addCaptureResponseBody(body), addPaceAttempts(c.readRate)))
		return err
	}, fn)
}

// pages runs call once per page, with the previous page's NextToken,
// until a page has none; call captures the raw response body. op names the
// operation in errors.
func (c *Client) pages(ctx context.Context, op string, call func(token *string, body *[]byte) error, fn func(page [][]byte) error) error {
	var token *string
	for pageNo := 1; ; pageNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var body []byte
		if err := call(token, &body); err != nil {
			return fmt.Errorf("%s page %d: %w", op, pageNo, err)
		}
		var page getFindingsPage
		if err := json.Unmarshal(body, &page); err != nil {
			return fmt.Errorf("%s page %d: decode response (%d bytes): %w", op, pageNo, len(body), err)
		}
		if len(page.Findings) > 0 {
			findings := make([][]byte, len(page.Findings))
			for i, f := range page.Findings {
				findings[i] = f
			}
			if err := fn(findings); err != nil {
				return err
			}
		}
		next := aws.ToString(page.NextToken)
		if next == "" {
			return nil
		}
		if next == aws.ToString(token) {
			return fmt.Errorf("%s page %d: Security Hub returned the same NextToken again", op, pageNo)
		}
		token = &next
	}
}

// FindingsByID calls fn with pages of the findings refs name, looking them up
// MaxFilterValues Ids at a time per ProductArn (a ref with an empty
// ProductArn matches its Id under any product). Only findings that match a
// ref exactly are passed on, so servers that ignore filters cannot widen the
// result; refs that match nothing are simply absent. Duplicate refs are
// looked up once.
func (c *Client) FindingsByID(ctx context.Context, refs []FindingRef, fn func(page [][]byte) error) error {
	want := make(map[FindingRef]bool, len(refs))
	var products []string
	idsByProduct := map[string][]string{}
	for _, r := range refs {
		if want[r] {
			continue
		}
		want[r] = true
		if _, seen := idsByProduct[r.ProductArn]; !seen {
			products = append(products, r.ProductArn)
		}
		idsByProduct[r.ProductArn] = append(idsByProduct[r.ProductArn], r.ID)
	}
	keep := func(page [][]byte) error {
		matched, err := matchRefs(page, want)
		if err != nil || len(matched) == 0 {
			return err
		}
		return fn(matched)
	}
	for _, product := range products {
		ids := idsByProduct[product]
		for start := 0; start < len(ids); start += MaxFilterValues {
			chunk := ids[start:min(start+MaxFilterValues, len(ids))]
			if err := c.GetFindings(ctx, idFilters(product, chunk), keep); err != nil {
				return fmt.Errorf("find %d findings by id (product %q): %w", len(chunk), product, err)
			}
		}
	}
	return nil
}

// idFilters matches any of ids, under product when it is not empty.
func idFilters(product string, ids []string) *types.AwsSecurityFindingFilters {
	f := &types.AwsSecurityFindingFilters{}
	for _, id := range ids {
		f.Id = append(f.Id, types.StringFilter{Comparison: types.StringFilterComparisonEquals, Value: aws.String(id)})
	}
	if product != "" {
		f.ProductArn = []types.StringFilter{{Comparison: types.StringFilterComparisonEquals, Value: aws.String(product)}}
	}
	return f
}

// matchRefs keeps the findings of page that want names.
func matchRefs(page [][]byte, want map[FindingRef]bool) ([][]byte, error) {
	var out [][]byte
	for i, raw := range page {
		var ref struct{ ProductArn, Id string }
		if err := json.Unmarshal(raw, &ref); err != nil {
			return nil, fmt.Errorf("finding %d of page: read Id and ProductArn: %w", i, err)
		}
		if want[FindingRef{ProductArn: ref.ProductArn, ID: ref.Id}] || want[FindingRef{ID: ref.Id}] {
			out = append(out, raw)
		}
	}
	return out, nil
}
