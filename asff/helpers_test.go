package asff

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// collected is everything one Stream call delivered.
type collected struct {
	findings []*Finding
	errs     []*DecodeError
	order    []string // "F:<id>" or "E:<line>" in delivery order
}

// streamAll runs Stream over r and collects the results; any error that is
// not a *DecodeError fails the test.
func streamAll(t testing.TB, name string, r io.Reader, opt Options) collected {
	t.Helper()
	var c collected
	err := Stream(context.Background(), name, r, opt, func(res Result) error {
		c.add(t, res)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream(%s): %v", name, err)
	}
	return c
}

func (c *collected) add(t testing.TB, res Result) {
	t.Helper()
	switch {
	case res.Err != nil && res.Finding != nil:
		t.Fatalf("result has both a finding and an error: %v", res.Err)
	case res.Err != nil:
		var de *DecodeError
		if !errors.As(res.Err, &de) {
			t.Fatalf("error is %T, want *DecodeError: %v", res.Err, res.Err)
		}
		c.errs = append(c.errs, de)
		c.order = append(c.order, "E:"+de.Reason)
	case res.Finding != nil:
		c.findings = append(c.findings, res.Finding)
		c.order = append(c.order, "F:"+res.Finding.ID)
	default:
		t.Fatal("empty result")
	}
}

// streamString streams s with default options.
func streamString(t testing.TB, s string) collected {
	t.Helper()
	return streamAll(t, "input.json", strings.NewReader(s), Options{})
}

// streamFile streams one fixture file.
func streamFile(t testing.TB, path string) collected {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return streamAll(t, filepath.Base(path), f, Options{})
}

// minimal returns a small valid finding with the given id.
func minimal(id string) string {
	return `{"SchemaVersion":"2018-10-08","Id":"` + id + `","ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/guardduty","AwsAccountId":"111122223333","Severity":{"Label":"HIGH"}}`
}
