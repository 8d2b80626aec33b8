// Package ses is the email channel that sends notifications through the
// Amazon SES v2 SendEmail API.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"hubtriage/notify"
)

// Config says which identity sends to whom.
type Config struct {
	Region           string   // overrides the AWS config's region when set
	From             string   // a verified SES identity, e.g. "Hub Triage <hubtriage@example.com>"
	To               []string // all recipients of every message
	ConfigurationSet string   // optional SES configuration set
	Endpoint         string   // optional endpoint override (e.g. a local emulator)
}

// Channel sends each notification as one SES message with a text and an
// HTML body to all recipients. It is safe for concurrent use.
type Channel struct {
	name   string
	cfg    Config
	client *sesv2.Client
}

var _ notify.Channel = (*Channel)(nil)

// New validates cfg and builds an SES v2 client from awsCfg, with the
// region and endpoint overrides of cfg applied before optFns.
func New(name string, cfg Config, awsCfg aws.Config, optFns ...func(*sesv2.Options)) (*Channel, error) {
	if err := validate(cfg); err != nil {
		return nil, fmt.Errorf("ses channel %q: %w", name, err)
	}
	fns := make([]func(*sesv2.Options), 0, len(optFns)+1)
	fns = append(fns, func(o *sesv2.Options) {
		if cfg.Region != "" {
			o.Region = cfg.Region
		}
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	fns = append(fns, optFns...)
	return &Channel{name: name, cfg: cfg, client: sesv2.NewFromConfig(awsCfg, fns...)}, nil
}

// validate checks the addresses.
func validate(cfg Config) error {
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return fmt.Errorf("from %q: %w", cfg.From, err)
	}
	if len(cfg.To) == 0 {
		return errors.New("at least one recipient (to) is required")
	}
	for i, to := range cfg.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("to[%d] %q: %w", i, to, err)
		}
	}
	return nil
}

// Name is the channel's configured name.
func (c *Channel) Name() string { return c.name }

// Notify renders n and sends it with SendEmail. It returns nil once SES
// returned a MessageId. retry is true for throttling, quota, 5xx and network
// errors (after the SDK's own retries) and false for rejections such as an
// unverified sender or a bad request.
func (c *Channel) Notify(ctx context.Context, n notify.Notification) (retry bool, err error) {
	m, err := notify.Render(n)
	if err != nil {
		return false, fmt.Errorf("ses channel %q: %w", c.name, err)
	}
	out, err := c.client.SendEmail(ctx, c.input(m))
	if err != nil {
		return retryable(err), fmt.Errorf("ses channel %q: send email: %w", c.name, err)
	}
	if out == nil || aws.ToString(out.MessageId) == "" {
		return true, fmt.Errorf("ses channel %q: send email: no MessageId in the response", c.name)
	}
	return false, nil
}

// input builds the SendEmail request for a rendered message.
func (c *Channel) input(m notify.Message) *sesv2.SendEmailInput {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(c.cfg.From),
		Destination:      &types.Destination{ToAddresses: c.cfg.To},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: utf8Content(m.Subject),
			Body:    &types.Body{Text: utf8Content(m.Text), Html: utf8Content(m.HTML)},
			Headers: []types.MessageHeader{{Name: aws.String("Auto-Submitted"), Value: aws.String("auto-generated")}},
		}},
	}
	if c.cfg.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(c.cfg.ConfigurationSet)
	}
	return in
}

// utf8Content wraps s as UTF-8 content.
func utf8Content(s string) *types.Content {
	return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}

// throttling are the error codes that mean "slow down" or "quota reached"
// rather than "never".
var throttling = map[string]bool{
	"TooManyRequestsException": true,
	"LimitExceededException":   true,
	"Throttling":               true,
	"ThrottlingException":      true,
	"RequestLimitExceeded":     true,
}

// retryable decides whether sending the same message later may succeed:
// throttling and server faults yes, other API errors (client faults) no,
// and failures without a response (network, timeout, cancellation,
// credentials not yet available) yes.
func retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (throttling[ae.ErrorCode()] || ae.ErrorFault() == smithy.FaultServer) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode() // 0: the request got no response
		return s == 0 || s == http.StatusTooManyRequests || s >= 500
	}
	return ae == nil
}
