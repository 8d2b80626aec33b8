package smtp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// retryable decides whether sending the same message later may succeed.
// An SMTP reply code decides when there is one (4xx yes, 5xx no); otherwise
// problems of configuration (certificates, authentication mechanisms,
// unparseable addresses) are permanent and everything else (network errors,
// timeouts, cancellation) is worth retrying.
func retryable(err error) bool {
	if code := replyCode(err); code >= 400 && code < 600 {
		return code < 500
	}
	return !permanent(err)
}

// replyCode finds the SMTP reply code carried by err, or 0.
func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// permanent recognises failures without a reply code that retrying cannot fix.
func permanent(err error) bool {
	var (
		se        *gomail.SendError
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		record    tls.RecordHeaderError
	)
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return true
		}
	}
	switch {
	case errors.As(err, &verify), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &record):
		return true
	case errors.Is(err, gomail.ErrPlainAuthNotSupported), errors.Is(err, gomail.ErrLoginAuthNotSupported),
		errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
		return true
	}
	return false
}

// secretForms lists the password as it may appear in an error: verbatim, in
// base64, and inside the base64 AUTH PLAIN and LOGIN responses.
func secretForms(username, password string) []string {
	if password == "" {
		return nil
	}
	b64 := base64.StdEncoding.EncodeToString
	return []string{
		b64([]byte("\x00" + username + "\x00" + password)),
		b64([]byte(username + "\x00" + username + "\x00" + password)),
		b64([]byte(password)),
		password,
	}
}
