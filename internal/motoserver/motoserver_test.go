package motoserver_test

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"hubtriage/internal/motoserver"
)

// TestMain shares one moto_server across the tests, except in the child
// process of TestWithoutMainServerStopsAfterLastUser, which checks Start's
// own reference counting.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "refcount" {
		os.Exit(m.Run())
	}
	os.Exit(motoserver.Main(m))
}

// identities returns the SES email identities moto holds.
func identities(t *testing.T, moto *motoserver.Server) []string {
	t.Helper()
	var names []string
	for _, m := range moto.Models(t, "ses", "EmailIdentity") {
		name, _ := m["email_identity"].(string)
		names = append(names, name)
	}
	return names
}

func TestSharedServerServesAWSClientsAndResets(t *testing.T) {
	moto := motoserver.Start(t)
	if again := motoserver.Start(t); again != moto {
		t.Fatalf("second Start returned a different server: %s vs %s", again.URL, moto.URL)
	}
	moto.Reset(t)
	c := sesv2.NewFromConfig(moto.AWSConfig())
	if _, err := c.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{
		EmailIdentity: aws.String("alerts@example.com"),
	}); err != nil {
		t.Fatalf("create identity through AWSConfig: %v", err)
	}
	if got := identities(t, moto); len(got) != 1 || got[0] != "alerts@example.com" {
		t.Fatalf("identities after create = %v, want [alerts@example.com]", got)
	}
	moto.Reset(t)
	if got := identities(t, moto); len(got) != 0 {
		t.Fatalf("identities after Reset = %v, want none", got)
	}
}
