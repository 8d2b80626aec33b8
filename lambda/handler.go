// Package lambda is hubtriage's AWS Lambda entry point. It turns EventBridge
// events into runs of the same pipeline `hubtriage replay` drives, and has
// no triage logic of its own:
//
//   - "Security Hub Findings - Imported", "Security Hub Findings - Custom
//     Action" and "Findings Imported V2" (OCSF) events, GuardDuty's own
//     "GuardDuty Finding" events (which name an instance's security groups,
//     see asff) and, for manual invocations, any payload asff.Stream reads
//     (a finding, an array, a GetFindings response) run the pipeline over
//     the findings they carry;
//   - other Security Hub events ("Security Hub Insight Results") carry no
//     findings: they are a "skipped" decision, not an error, so they are
//     not retried into the dead-letter queue;
//   - "Scheduled Event" events (an EventBridge schedule) retry the deliveries
//     earlier runs parked and then run reconcile.
//
// An invocation returns an error when work it was responsible for failed: a
// finding of its event whose delivery or state update failed (the pipeline's
// "error" decision), a malformed event, or, on the schedule, a parked
// delivery that still fails or a failed reconcile. Lambda's asynchronous
// retries then invoke it again, and what still fails lands in the on-failure
// destination (the dead-letter queue), so no finding is lost; the store's
// claims make the retries send nothing twice.
//
// Setup builds everything once per cold start (config from a bundled file or
// an SSM parameter, secrets from Secrets Manager); Invoke is called per event.
package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"hubtriage/asff"
	"hubtriage/pipeline"
)

// EventBridge detail types the handler accepts.
const (
	DetailImported     = "Security Hub Findings - Imported"
	DetailCustomAction = "Security Hub Findings - Custom Action"
	DetailImportedV2   = "Findings Imported V2"
	DetailScheduled    = "Scheduled Event"
	// SourceSecurityHub is the source of every Security Hub event.
	SourceSecurityHub = "aws.securityhub"
)

// Kinds of invocation, as reported in Response.Kind.
const (
	KindFindings = "findings"
	KindSchedule = "schedule"
)

// Log keys.
const (
	keyRequestID  = "request_id"
	keyEventID    = "event_id"
	keyDetailType = "detail_type"
)

// Errors an invocation returns; each wraps the details.
var (
	// ErrUnsupportedEvent is returned for an EventBridge event from another
	// service than Security Hub (e.g. "EC2 Instance State-change
	// Notification"): the rule routing it here is misconfigured.
	ErrUnsupportedEvent = errors.New("unsupported event")
	// ErrMalformedEvent is returned when the payload is not JSON or its
	// findings do not decode.
	ErrMalformedEvent = errors.New("malformed event")
	// ErrFindingsFailed is returned when some finding of the event was not
	// fully processed (its delivery failed, or its state could not be
	// read or written). The finding is parked in the store and retried.
	ErrFindingsFailed = errors.New("findings failed")
	// ErrPendingFailed is returned by a scheduled invocation when parked
	// deliveries still fail.
	ErrPendingFailed = errors.New("parked deliveries still fail")
)

// Reconciler runs one reconcile pass: it asks Security Hub for the current
// state of every tracked finding and forgets those no longer active. It
// returns a short description of what it did, for the log and the response.
type Reconciler func(ctx context.Context) (string, error)

// Options configures a Handler.
type Options struct {
	// Logger receives one JSON record per decision and per invocation; nil
	// discards.
	Logger *slog.Logger
	// Reconcile runs on scheduled events. When nil, scheduled events only
	// retry parked deliveries and log that reconcile is not configured.
	Reconcile Reconciler
}

// Handler processes EventBridge events with one pipeline. It is safe for
// concurrent use, though Lambda invokes it one event at a time.
type Handler struct {
	pipeline  *pipeline.Pipeline
	reconcile Reconciler
	log       *slog.Logger
}

// New returns a Handler running p.
func New(p *pipeline.Pipeline, opt Options) *Handler {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{pipeline: p, reconcile: opt.Reconcile, log: log}
}

// Response is what an invocation returns (Lambda's async invocations
// discard it; a synchronous `aws lambda invoke` shows it).
type Response struct {
	Kind       string `json:"kind"`
	EventID    string `json:"event_id,omitempty"`
	DetailType string `json:"detail_type,omitempty"`
	Read       int64  `json:"read"`
	Matched    int64  `json:"matched"`
	Notified   int64  `json:"notified"`
	Duplicates int64  `json:"duplicates"`
	Resolved   int64  `json:"resolved"`
	Filtered   int64  `json:"filtered"`
	Errors     int64  `json:"errors"`
	Skipped    int64  `json:"skipped"`
	// Failed counts the error decisions the invocation is responsible for
	// (and so returned an error for).
	Failed int `json:"failed"`
	// Reconcile describes the reconcile pass of a scheduled invocation.
	Reconcile string `json:"reconcile,omitempty"`
}

// header is the part of an EventBridge event the handler dispatches on.
type header struct {
	ID         string `json:"id"`
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	// RequestPayload is set when the payload is a Lambda on-failure
	// destination record (a message of the dead-letter queue): the event
	// that failed, which is handled instead (see Invoke).
	RequestPayload json.RawMessage `json:"requestPayload"`
	RequestContext json.RawMessage `json:"requestContext"`
}

// Invoke handles one event. Its signature is the one lambda.Start takes.
// A returned error is one of the types in errors.go (*UnsupportedEvent,
// *MalformedEvent, *FindingsFailed, *PendingFailed, *InvocationFailed),
// whose names Lambda reports as the errorType.
//
// A Lambda on-failure destination record, the body of a message in the
// dead-letter queue, is unwrapped and its original event handled, so
// redriving the queue is invoking the function with each message body.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (Response, error) {
	resp, err := h.invoke(ctx, payload)
	return resp, typed(err)
}

func (h *Handler) invoke(ctx context.Context, payload json.RawMessage) (Response, error) {
	hd, err := readHeader(payload)
	if err == nil && len(hd.RequestContext) > 0 && len(hd.RequestPayload) > 0 {
		payload = hd.RequestPayload
		hd, err = readHeader(payload)
	}
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With(keyRequestID, lc.AwsRequestID)
	}
	if err != nil {
		log.Error("reject event", "err", err)
		return Response{Kind: KindFindings}, err
	}
	log = log.With(keyEventID, hd.ID, keyDetailType, hd.DetailType)
	switch hd.DetailType {
	case DetailScheduled:
		return h.schedule(ctx, log, hd)
	case DetailImported, DetailCustomAction, DetailImportedV2, asff.DetailTypeGuardDuty, "":
		return h.findings(ctx, log, hd, payload)
	}
	if hd.Source == SourceSecurityHub {
		return h.findings(ctx, log, hd, payload) // decided "skipped": it carries no findings
	}
	err = fmt.Errorf("%w: detail-type %q from %q (want a Security Hub event, %q or %q)",
		ErrUnsupportedEvent, hd.DetailType, hd.Source, asff.DetailTypeGuardDuty, DetailScheduled)
	log.Error("reject event", "err", err)
	return Response{Kind: KindFindings, EventID: hd.ID, DetailType: hd.DetailType}, err
}

// readHeader reads the event's id and detail-type. A payload that is not
// an object (an array of findings) has an empty header.
func readHeader(payload []byte) (header, error) {
	var hd header
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return hd, fmt.Errorf("%w: empty payload", ErrMalformedEvent)
	}
	if trimmed[0] != '{' {
		return hd, nil
	}
	if err := json.Unmarshal(trimmed, &hd); err != nil {
		return hd, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	return hd, nil
}

// findings runs the pipeline over the findings the event carries.
func (h *Handler) findings(ctx context.Context, log *slog.Logger, hd header, payload []byte) (Response, error) {
	resp := Response{Kind: KindFindings, EventID: hd.ID, DetailType: hd.DetailType}
	name := "event"
	if hd.ID != "" {
		name = "event " + hd.ID
	}
	// Run also retries the deliveries earlier runs parked (Decision.Retry):
	// those are not this event's to fail; everything else (the event's
	// findings, their correlated findings, decode errors) is.
	src := func(ctx context.Context, fn func(asff.Result) error) error {
		return asff.Stream(ctx, name, bytes.NewReader(payload), asff.Options{Workers: 1}, fn)
	}
	var failed []pipeline.Decision
	sum, err := h.pipeline.Run(ctx, src, func(d pipeline.Decision) error {
		mine := !d.Retry
		logDecision(ctx, log, d, mine)
		if (d.Decision == pipeline.DecisionError || d.Decision == pipeline.DecisionPending) && mine {
			failed = append(failed, d)
		}
		return nil
	})
	resp.fill(sum, len(failed))
	log.LogAttrs(ctx, levelOf(err == nil && len(failed) == 0), "invocation done", summaryAttrs(resp)...)
	if err != nil {
		return resp, fmt.Errorf("run pipeline: %w", err)
	}
	return resp, failure(failed)
}

// schedule retries parked deliveries, then reconciles.
func (h *Handler) schedule(ctx context.Context, log *slog.Logger, hd header) (Response, error) {
	resp := Response{Kind: KindSchedule, EventID: hd.ID, DetailType: hd.DetailType}
	var failed []pipeline.Decision
	sum, err := h.pipeline.Run(ctx, noFindings, func(d pipeline.Decision) error {
		logDecision(ctx, log, d, true)
		if d.Decision == pipeline.DecisionError {
			failed = append(failed, d)
		}
		return nil
	})
	resp.fill(sum, len(failed))
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("retry parked deliveries: %w", err))
	} else if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%w: %w", ErrPendingFailed, failure(failed)))
	}
	if h.reconcile == nil {
		resp.Reconcile = "not configured"
		log.Warn("reconcile is not configured: scheduled event only retried parked deliveries")
	} else {
		report, rerr := h.reconcile(ctx)
		resp.Reconcile = report
		if rerr != nil {
			errs = append(errs, fmt.Errorf("reconcile: %w", rerr))
		}
	}
	err = errors.Join(errs...)
	attrs := append(summaryAttrs(resp), slog.String("reconcile", resp.Reconcile))
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	log.LogAttrs(ctx, levelOf(err == nil), "invocation done", attrs...)
	return resp, err
}

// noFindings is the empty source: a run over it only retries parked
// deliveries.
func noFindings(context.Context, func(asff.Result) error) error { return nil }

// failure summarises the failed decisions as one error, or nil.
func failure(failed []pipeline.Decision) error {
	if len(failed) == 0 {
		return nil
	}
	const shown = 3
	reasons := make([]string, 0, shown)
	decodeErrors := 0
	for i, d := range failed {
		if d.FindingID == "" {
			decodeErrors++
		}
		if i < shown {
			reasons = append(reasons, describe(d))
		}
	}
	if len(failed) > shown {
		reasons = append(reasons, fmt.Sprintf("and %d more", len(failed)-shown))
	}
	kind := ErrFindingsFailed
	if decodeErrors == len(failed) {
		kind = ErrMalformedEvent
	}
	return fmt.Errorf("%w: %d failed: %s", kind, len(failed), strings.Join(reasons, "; "))
}

func describe(d pipeline.Decision) string {
	if d.FindingID == "" {
		return d.Reason
	}
	return fmt.Sprintf("finding %s: %s", d.FindingID, d.Reason)
}

func (r *Response) fill(s pipeline.Summary, failed int) {
	r.Read, r.Matched, r.Notified, r.Duplicates = s.Read, s.Matched, s.Notified, s.Duplicates
	r.Resolved, r.Filtered, r.Errors, r.Failed = s.Resolved, s.Filtered, s.Errors, failed
	r.Skipped = s.Skipped
}

func summaryAttrs(r Response) []slog.Attr {
	return []slog.Attr{
		slog.String("kind", r.Kind),
		slog.Int64("read", r.Read), slog.Int64("matched", r.Matched), slog.Int64("notified", r.Notified),
		slog.Int64("duplicates", r.Duplicates), slog.Int64("resolved", r.Resolved),
		slog.Int64("filtered", r.Filtered), slog.Int64("skipped", r.Skipped), slog.Int64("errors", r.Errors),
		slog.Int("failed", r.Failed),
	}
}

// logDecision writes one decision as one JSON log record; errors at level
// ERROR so a CloudWatch metric filter on level can alarm on them.
func logDecision(ctx context.Context, log *slog.Logger, d pipeline.Decision, mine bool) {
	attrs := []slog.Attr{
		slog.String("decision", d.Decision), slog.String("rule", d.Rule),
		slog.String("finding_id", d.FindingID), slog.String("product_arn", d.ProductArn),
		slog.String("reason", d.Reason), slog.Any("channels", d.Channels),
	}
	if d.Resource != "" {
		attrs = append(attrs, slog.String("resource", d.Resource), slog.Any("contributing", d.Contributing))
	}
	if !mine {
		attrs = append(attrs, slog.Bool("parked_retry", true))
	}
	log.LogAttrs(ctx, levelOf(d.Decision != pipeline.DecisionError), "decision", attrs...)
}

func levelOf(ok bool) slog.Level {
	if ok {
		return slog.LevelInfo
	}
	return slog.LevelError
}
