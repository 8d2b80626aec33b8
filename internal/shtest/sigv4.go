package shtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// verifySignature recomputes the SigV4 signature of r over body with the
// server's credentials and compares it with the one the client sent. This is
// what catches a client that changes the body after signing it: real
// Security Hub rejects such requests, moto_server does not check.
func verifySignature(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	scope, signedHeaders, ok := parseAuthorization(auth)
	if !ok {
		return fmt.Errorf("missing or malformed SigV4 Authorization header %q", auth)
	}
	// scope: <access key>/<date>/<region>/<service>/aws4_request
	parts := strings.Split(scope, "/")
	if len(parts) != 5 || parts[0] != AccessKey {
		return fmt.Errorf("credential scope %q: want access key %s", scope, AccessKey)
	}
	signingTime, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	for _, h := range signedHeaders {
		if h != "host" && h != "content-length" {
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	hash := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(hash[:]), parts[3], parts[2], signingTime)
	if err != nil {
		return fmt.Errorf("recompute signature: %w", err)
	}
	if got := req.Header.Get("Authorization"); got != auth {
		return errors.New("the request signature does not match the request body and headers")
	}
	return nil
}

// parseAuthorization extracts the credential scope and signed header names
// of a SigV4 Authorization header.
func parseAuthorization(auth string) (scope string, signedHeaders []string, ok bool) {
	rest, found := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", nil, false
	}
	for _, field := range strings.Split(rest, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "Credential":
			scope = value
		case "SignedHeaders":
			signedHeaders = strings.Split(value, ";")
		}
	}
	return scope, signedHeaders, scope != "" && len(signedHeaders) > 0
}
