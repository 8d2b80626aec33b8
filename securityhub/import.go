package securityhub

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"
)

// Error codes Import puts in FailedFinding.ErrorCode for findings it never
// sent or whose request failed without an API error code. The first two are
// Security Hub's own codes for the same faults, so callers handle one
// vocabulary; the message says the check was made client-side. Codes
// reported by Security Hub (FailedFindings, or the error of a failed
// request) are passed through unchanged.
const (
	// CodeInvalidFinding: not a JSON object, or a field BatchImportFindings
	// requires is missing or null.
	CodeInvalidFinding = "InvalidInput"
	// CodeFindingTooLarge: larger than MaxFindingBytes once compacted.
	CodeFindingTooLarge = "FindingSizeExceeded"
	// CodeRequestFailed: the request carrying the finding failed (or was
	// never sent because an earlier one failed) without an API error code,
	// e.g. a network error or a cancelled context.
	CodeRequestFailed = "RequestFailed"
)

// requiredFields are the AwsSecurityFinding members BatchImportFindings
// requires (the SDK's validator checks the same list).
var requiredFields = [...]string{
	"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId",
	"CreatedAt", "UpdatedAt", "Title", "Description", "Resources",
}

// ImportResult accounts for every finding passed to Import: each one is
// either counted in Imported or listed in Failed, never dropped.
type ImportResult struct {
	// Imported is the number of findings Security Hub accepted.
	Imported int
	// Failed lists the findings that were not imported, by input position.
	Failed []FailedFinding
	// Requests is the number of BatchImportFindings calls made (an SDK-level
	// retry of one call is not counted again).
	Requests int
}

// FailedFinding is one finding Import could not import, and why.
type FailedFinding struct {
	// Index is the finding's position in the slice passed to Import.
	Index int
	// ID and ProductArn identify the finding when it could be parsed.
	ID         string
	ProductArn string
	// ErrorCode is Security Hub's code (e.g. InvalidInput) or one of the
	// Code* constants of this package.
	ErrorCode    string
	ErrorMessage string
}

// pendingFinding is a validated finding waiting to be sent.
type pendingFinding struct {
	index      int
	id         string
	productArn string
	body       []byte // compacted JSON object
}

// Import sends findings (raw ASFF JSON objects) to Security Hub with
// BatchImportFindings, in order, in batches of at most MaxBatchFindings
// findings and MaxBatchBytes bytes. Findings that are not JSON objects, lack
// a required field or exceed MaxFindingBytes are reported as failed without
// being sent. Findings Security Hub rejects with a retryable code (see
// Options.RetryableFailure) are resent after a backoff, up to MaxAttempts
// times in all; the rest are reported with Security Hub's code and message.
// A failed finding is not resent when a later version of it (same
// ProductArn and Id) was also passed to this call, so an old version never
// overwrites a newer one; it is reported with its failure instead.
//
// Import returns an error only when a request fails after its retries (or
// ctx ends); the findings of that request and of every later one are then
// reported in Failed with the request's error code, and the result still
// accounts for every finding.
func (c *Client) Import(ctx context.Context, findings [][]byte) (ImportResult, error) {
	var res ImportResult
	pending := make([]pendingFinding, 0, len(findings))
	for i, raw := range findings {
		p, failure := prepareFinding(i, raw)
		if failure != nil {
			res.Failed = append(res.Failed, *failure)
			continue
		}
		pending = append(pending, p)
	}
	latest := latestVersions(pending)
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 1 {
			if err := c.backoffFailures(ctx, attempt-1, len(pending)); err != nil {
				res.Failed = append(res.Failed, failAll(pending, err)...)
				return res.sorted(), fmt.Errorf("import findings: %w", err)
			}
		}
		retry, err := c.importRound(ctx, pending, attempt, latest, &res)
		if err != nil {
			return res.sorted(), err
		}
		pending = retry
	}
	return res.sorted(), nil
}

// importRound sends pending in batches once and returns the findings to
// resend. Final failures and successes are recorded in res.
func (c *Client) importRound(ctx context.Context, pending []pendingFinding, attempt int,
	latest map[FindingRef]int, res *ImportResult) ([]pendingFinding, error) {
	var retry []pendingFinding
	batches := packBatches(pending)
	for b, batch := range batches {
		res.Requests++
		out, err := c.importBatch(ctx, batch)
		if err != nil {
			for _, rest := range batches[b:] {
				res.Failed = append(res.Failed, failAll(rest, err)...)
			}
			res.Failed = append(res.Failed, failAll(retry, err)...)
			return nil, fmt.Errorf("import findings: batch %d of %d (%d findings): %w", b+1, len(batches), len(batch), err)
		}
		retry = append(retry, c.record(batch, out.FailedFindings, attempt, latest, res)...)
	}
	return retry, nil
}

// record records the outcome of one accepted request in res and returns the
// findings of batch to resend.
func (c *Client) record(batch []pendingFinding, entries []types.ImportFindingsError, attempt int,
	latest map[FindingRef]int, res *ImportResult) []pendingFinding {
	var retry []pendingFinding
	failed, unmatched := matchFailures(batch, entries)
	res.Failed = append(res.Failed, unmatched...)
	for _, p := range batch {
		f, ok := failed[p.index]
		switch {
		case !ok:
			res.Imported++
		case !c.opts.RetryableFailure(f.ErrorCode) || attempt == c.opts.MaxAttempts:
			res.Failed = append(res.Failed, f)
		case latest[p.ref()] != p.index:
			f.ErrorMessage += " (not resent: a later version of this finding was passed to the same Import)"
			res.Failed = append(res.Failed, f)
		default:
			retry = append(retry, p)
		}
	}
	return retry
}

// ref is the finding's identity in Security Hub.
func (p pendingFinding) ref() FindingRef { return FindingRef{ProductArn: p.productArn, ID: p.id} }

// latestVersions maps each finding identity to the input position of its
// last version.
func latestVersions(pending []pendingFinding) map[FindingRef]int {
	latest := make(map[FindingRef]int, len(pending))
	for _, p := range pending {
		latest[p.ref()] = p.index
	}
	return latest
}

// backoffFailures waits before resending findings Security Hub reported as
// retryable failures.
func (c *Client) backoffFailures(ctx context.Context, retryNumber, n int) error {
	delay, err := c.opts.Backoff.BackoffDelay(retryNumber, nil)
	if err != nil {
		return fmt.Errorf("backoff before resending %d failed findings: %w", n, err)
	}
	c.opts.Logger.Info("resending findings Security Hub failed with a retryable code",
		"findings", n, "retry", retryNumber, "delay", delay)
	return c.opts.Clock.Sleep(ctx, delay)
}

// importBatch makes one BatchImportFindings call carrying batch verbatim.
func (c *Client) importBatch(ctx context.Context, batch []pendingFinding) (*sdk.BatchImportFindingsOutput, error) {
	// A non-nil empty slice satisfies the SDK's input validation; the body
	// it serializes is then replaced by the raw findings.
	in := &sdk.BatchImportFindingsInput{Findings: []types.AwsSecurityFinding{}}
	return c.api.BatchImportFindings(ctx, in, withMiddleware(
		addRawRequestBody(batchBody(batch)),
		addPaceAttempts(c.importRate),
	))
}

// prepareFinding compacts and checks one finding; it returns a failure for a
// finding that must not be sent.
func prepareFinding(index int, raw []byte) (pendingFinding, *FailedFinding) {
	fail := func(p pendingFinding, code, format string, args ...any) (pendingFinding, *FailedFinding) {
		return p, &FailedFinding{Index: index, ID: p.id, ProductArn: p.productArn,
			ErrorCode: code, ErrorMessage: fmt.Sprintf(format, args...)}
	}
	p := pendingFinding{index: index}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return fail(p, CodeInvalidFinding, "finding %d is not valid JSON: %v", index, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(compact.Bytes(), &fields); err != nil || fields == nil {
		return fail(p, CodeInvalidFinding, "finding %d is not a JSON object", index)
	}
	p.body = compact.Bytes()
	p.id, _ = jsonString(fields["Id"])
	p.productArn, _ = jsonString(fields["ProductArn"])
	for _, name := range requiredFields {
		if v, ok := fields[name]; !ok || string(v) == "null" {
			return fail(p, CodeInvalidFinding, "finding %d: missing required field %s", index, name)
		}
	}
	if _, ok := jsonString(fields["Id"]); !ok || p.id == "" {
		return fail(p, CodeInvalidFinding, "finding %d: Id must be a non-empty string", index)
	}
	if len(p.body) > MaxFindingBytes {
		return fail(p, CodeFindingTooLarge, "finding %d is %d bytes; Security Hub accepts at most %d bytes (240 KB) per finding",
			index, len(p.body), MaxFindingBytes)
	}
	return p, nil
}

// jsonString decodes a JSON string value.
func jsonString(v json.RawMessage) (string, bool) {
	var s string
	if len(v) == 0 || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// batchEnvelope is the size of `{"Findings":[]}`.
const batchEnvelope = len(`{"Findings":[]}`)

// packBatches splits pending, in order, into batches within Security Hub's
// count and size limits. A batch never holds two findings with the same Id,
// so each FailedFindings entry names exactly one finding of its request.
func packBatches(pending []pendingFinding) [][]pendingFinding {
	var batches [][]pendingFinding
	var cur []pendingFinding
	size := batchEnvelope
	ids := map[string]bool{}
	for _, p := range pending {
		grown := size + len(p.body) + 1 // one comma
		if len(cur) > 0 && (len(cur) == MaxBatchFindings || grown > MaxBatchBytes || ids[p.id]) {
			batches = append(batches, cur)
			cur, size, ids = nil, batchEnvelope, map[string]bool{}
			grown = size + len(p.body)
		}
		cur = append(cur, p)
		size = grown
		ids[p.id] = true
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// batchBody renders the BatchImportFindings request body for batch.
func batchBody(batch []pendingFinding) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Findings":[`)
	for i, p := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p.body)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// matchFailures maps FailedFindings entries to the batch's findings by Id.
// Entries naming an Id the batch does not hold are returned as unmatched
// (Index -1) so they are reported rather than lost.
func matchFailures(batch []pendingFinding, entries []types.ImportFindingsError) (map[int]FailedFinding, []FailedFinding) {
	byID := make(map[string]pendingFinding, len(batch))
	for _, p := range batch {
		byID[p.id] = p
	}
	failed := map[int]FailedFinding{}
	var unmatched []FailedFinding
	for _, e := range entries {
		id, code, msg := deref(e.Id), deref(e.ErrorCode), deref(e.ErrorMessage)
		p, ok := byID[id]
		if !ok {
			unmatched = append(unmatched, FailedFinding{Index: -1, ID: id, ErrorCode: code,
				ErrorMessage: "Security Hub reported a finding that was not in the request: " + msg})
			continue
		}
		failed[p.index] = FailedFinding{Index: p.index, ID: p.id, ProductArn: p.productArn, ErrorCode: code, ErrorMessage: msg}
	}
	return failed, unmatched
}

// failAll reports every finding of ps as failed by err.
func failAll(ps []pendingFinding, err error) []FailedFinding {
	code := CodeRequestFailed
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
		code = apiErr.ErrorCode()
	}
	out := make([]FailedFinding, 0, len(ps))
	for _, p := range ps {
		out = append(out, FailedFinding{Index: p.index, ID: p.id, ProductArn: p.productArn,
			ErrorCode: code, ErrorMessage: err.Error()})
	}
	return out
}

// sorted orders Failed by input position (unmatched entries first).
func (r ImportResult) sorted() ImportResult {
	slices.SortStableFunc(r.Failed, func(a, b FailedFinding) int { return cmp.Compare(a.Index, b.Index) })
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
