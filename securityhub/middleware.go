package securityhub

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	sdk "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Why raw bodies instead of the SDK's types: the SDK models a finding as
// types.AwsSecurityFinding, which has no JSON tags and is serialized by
// generated code, so going through it would need a second, hand-written
// mapping from ASFF JSON to ~900 generated structs and back. That mapping is
// lossy by construction (fields newer than the pinned SDK vanish; values
// real findings carry as strings where the model says number fail), and the
// wire format of both operations already *is* ASFF JSON: BatchImportFindings
// takes {"Findings":[<ASFF>...]} and GetFindings returns the same shape. So
// the client lets the SDK do everything it is good at (endpoint, SigV4,
// retries, error decoding) and only swaps the JSON document at the edges:
//
//   - rawRequestBody replaces the serialized request body right after the
//     SDK's serializer, before content length and the SigV4 payload hash are
//     computed, so the signature covers exactly the bytes sent;
//   - captureResponseBody takes a successful response body before the SDK's
//     deserializer sees it and hands that deserializer "{}" instead, so each
//     page is decoded once, by us, without a typed round trip.

// withMiddleware returns a per-call option adding stack mutations; the SDK
// copies Options per call, so appending here never leaks into other calls.
func withMiddleware(fns ...func(*middleware.Stack) error) func(*sdk.Options) {
	return func(o *sdk.Options) { o.APIOptions = append(o.APIOptions, fns...) }
}

// rawRequestBody replaces the request body the SDK serialized with body.
type rawRequestBody struct{ body []byte }

func (*rawRequestBody) ID() string { return "hubtriage.RawRequestBody" }

func (m *rawRequestBody) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{},
			&smithy.SerializationError{Err: fmt.Errorf("unexpected transport request %T", in.Request)}
	}
	req, err := req.SetStream(bytes.NewReader(m.body))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: err}
	}
	in.Request = req
	return next.HandleSerialize(ctx, in)
}

// addRawRequestBody installs rawRequestBody right after the SDK serializer.
func addRawRequestBody(body []byte) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Serialize.Insert(&rawRequestBody{body: body}, "OperationSerializer", middleware.After)
	}
}

// captureResponseBody stores the body of a 2xx response in *dst and gives
// the SDK deserializer an empty JSON object instead. Error responses pass
// through untouched so the SDK still decodes them into typed errors. Each
// attempt overwrites *dst, so after a retried call it holds the last body.
type captureResponseBody struct{ dst *[]byte }

func (*captureResponseBody) ID() string { return "hubtriage.CaptureResponseBody" }

func (m *captureResponseBody) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, md, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("read response body: %w", err)}
	}
	*m.dst = body
	resp.Body = io.NopCloser(strings.NewReader("{}"))
	return out, md, nil
}

// addCaptureResponseBody installs captureResponseBody between the transport
// and the SDK deserializer.
func addCaptureResponseBody(dst *[]byte) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Insert(&captureResponseBody{dst: dst}, "OperationDeserializer", middleware.After)
	}
}

// paceAttempts makes every attempt of a call, retries included, wait for a
// token from l. It sits just inside the SDK's retry loop, before signing.
type paceAttempts struct{ l *limiter }

func (*paceAttempts) ID() string { return "hubtriage.PaceAttempts" }

func (m *paceAttempts) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if err := m.l.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for rate limit: %w", err)
	}
	return next.HandleFinalize(ctx, in)
}

// addPaceAttempts installs paceAttempts right after the retry middleware.
func addPaceAttempts(l *limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Insert(&paceAttempts{l: l}, "Retry", middleware.After)
	}
}
