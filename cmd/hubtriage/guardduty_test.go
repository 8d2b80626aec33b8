package main

import (
	"path/filepath"
	"testing"

	"hubtriage/internal/smtptest"
)

// TestGuardDutyEventAndItsSecurityHubCopyAlertOnce replays a GuardDuty
// "GuardDuty Finding" event and the Security Hub copy of the same finding
// (in both orders): one identity, so one email and one duplicate.
func TestGuardDutyEventAndItsSecurityHubCopyAlertOnce(t *testing.T) {
	dir := filepath.Join("..", "..", "correlate", "testdata", "findings")
	event := filepath.Join(dir, "guardduty-event-ssh-bruteforce-target.json")
	copyOf := filepath.Join(dir, "guardduty-ssh-bruteforce-target.json")
	for _, order := range [][]string{{event, copyOf}, {copyOf, event}} {
		srv := smtptest.Start(t)
		cfg := writeConfig(t, srv)
		state := filepath.Join(t.TempDir(), "state.db")
		r := execute(t, "", append([]string{"replay", "--config", cfg, "--state", state, "--now", "2024-05-20T12:00:00Z"}, order...)...)
		if r.code != 0 || r.kinds() != "notify,duplicate" {
			t.Fatalf("%s then %s: exit %d, decisions %s, want notify,duplicate\nstderr: %s",
				filepath.Base(order[0]), filepath.Base(order[1]), r.code, r.kinds(), r.stderr)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}
	}
}
