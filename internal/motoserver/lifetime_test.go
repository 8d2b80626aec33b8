package motoserver_test

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"hubtriage/internal/motoserver"
)

// helperEnv selects what TestHelperProcess does when the test binary is
// re-run as a child by the tests below.
const helperEnv = "MOTOSERVER_TEST_HELPER"

// runHelper re-runs this test binary to execute TestHelperProcess in mode
// with the given extra environment, returning its combined output and error.
func runHelper(t *testing.T, mode string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// withoutMoto is an environment in which moto_server cannot be found.
func withoutMoto(extra ...string) []string {
	env := []string{"PATH=" + os.TempDir(), "CI=", "HUBTRIAGE_REQUIRE_MOTO="}
	return append(env, extra...)
}

func TestMissingServerSkipsLocallyButFailsUnderCI(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantFail bool
	}{
		{"local", withoutMoto(), false},
		{"CI set", withoutMoto("CI=true"), true},
		{"required", withoutMoto("HUBTRIAGE_REQUIRE_MOTO=1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runHelper(t, "start", tt.env...)
			if !strings.Contains(out, motoserver.NotFoundMessage) {
				t.Fatalf("output lacks %q:\n%s", motoserver.NotFoundMessage, out)
			}
			if failed := err != nil; failed != tt.wantFail {
				t.Fatalf("child failed=%v, want %v:\n%s", failed, tt.wantFail, out)
			}
			if !tt.wantFail && !strings.Contains(out, "--- SKIP") {
				t.Fatalf("child did not skip:\n%s", out)
			}
		})
	}
}

func TestWithoutMainServerStopsAfterLastUser(t *testing.T) {
	motoserver.Start(t) // skip here, not in the child, when moto is missing
	out, err := runHelper(t, "refcount")
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "server stopped") {
		t.Fatalf("child did not confirm the server stopped:\n%s", out)
	}
}

// TestHelperProcess is not a real test: runHelper runs it in a child process.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "start":
		motoserver.Start(t)
	case "refcount":
		var url string
		t.Run("user", func(t *testing.T) { url = motoserver.Start(t).URL })
		if _, err := http.Get(url + "/moto-api/data.json"); err == nil {
			t.Fatalf("server at %s still answers after its only user finished", url)
		}
		t.Log("server stopped")
	default:
		t.Skip("helper process for other tests")
	}
}
