package app

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"hubtriage/config"
	"hubtriage/notify"
	"hubtriage/notify/ses"
	"hubtriage/notify/smtp"
)

// BuildChannels is the one place channels are built from config. Adding a
// channel kind touches this function and the channel's own package only.
// Secrets are resolved here, so a missing one stops the run before any work.
func BuildChannels(ctx context.Context, cfg *config.Config) (map[string]notify.Channel, error) {
	out := make(map[string]notify.Channel, len(cfg.Channels))
	for name, c := range cfg.Channels {
		var (
			ch  notify.Channel
			err error
		)
		switch {
		case c.Email != nil:
			ch, err = buildSMTP(name, c.Email, cfg.Secret)
		case c.SES != nil:
			ch, err = buildSES(ctx, name, c.SES)
		default:
			err = fmt.Errorf("no channel kind configured")
		}
		if err != nil {
			return nil, fmt.Errorf("channels.%s: %w", name, err)
		}
		out[name] = ch
	}
	return out, nil
}

// buildSMTP builds an SMTP channel, resolving its credentials with secret
// (config.Config.Secret, which knows where *_env names are looked up).
func buildSMTP(name string, e *config.Email, secret func(env, file string) (string, error)) (notify.Channel, error) {
	user := e.SMTP.Username
	if e.SMTP.UsernameEnv != "" {
		var err error
		if user, err = secret(e.SMTP.UsernameEnv, ""); err != nil {
			return nil, err
		}
	}
	pass, err := secret(e.SMTP.PasswordEnv, e.SMTP.PasswordFile)
	if err != nil {
		return nil, err
	}
	return smtp.New(name, smtp.Config{
		Host: e.SMTP.Host, Port: e.SMTP.Port, Username: user, Password: pass,
		TLS: e.SMTP.TLS, From: e.From, To: e.To, Timeout: e.SMTP.SendTimeout(),
	})
}

func buildSES(ctx context.Context, name string, s *config.SES) (notify.Channel, error) {
	awsCfg, err := LoadAWS(ctx, s.Region)
	if err != nil {
		return nil, err
	}
	return newSES(name, s, awsCfg)
}

func newSES(name string, s *config.SES, awsCfg aws.Config) (notify.Channel, error) {
	return ses.New(name, ses.Config{
		Region: s.Region, From: s.From, To: s.To, ConfigurationSet: s.ConfigurationSet, Endpoint: s.Endpoint,
	}, awsCfg)
}
