package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hubtriage/internal/motoserver"
	"hubtriage/securityhub"
)

func TestMain(m *testing.M) {
	code := motoserver.Main(m)
	removeBinary()
	os.Exit(code)
}

// TestReplayImportsCorrelationsOnce replays the correlation fixtures twice
// against moto_server's Security Hub: the first run imports each
// correlated finding, the second imports nothing new.
func TestReplayImportsCorrelationsOnce(t *testing.T) {
	moto := motoserver.Start(t)
	moto.Reset(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hubtriage.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
securityhub: {region: us-east-1, endpoint: %q}
correlation: {import: true}
rules:
  - name: incidents
    filter: {GeneratorId: [{Value: hubtriage/, Comparison: PREFIX}]}
`, moto.URL)), 0o600)
	inputs, _ := filepath.Glob("../../correlate/testdata/findings/*.json")
	args := append([]string{"replay", "--config", cfg, "--state", filepath.Join(dir, "s.db"), "--now", "2024-05-20T12:00:00Z"}, inputs...)

	first := execute(t, "", args...)
	if first.code != 0 {
		t.Fatalf("first replay: exit %d\n%s", first.code, first.stderr)
	}
	correlated := map[string]bool{}
	alerted := 0
	for _, d := range first.decisions {
		switch {
		case d["decision"] == "correlate":
			correlated[d["finding_id"].(string)] = true
		case d["rule"] == "incidents" && d["decision"] == "notify":
			alerted++
		}
	}
	if len(correlated) != 3 {
		t.Fatalf("correlated findings %v, want the three built-ins", correlated)
	}
	if alerted != 3 {
		t.Errorf("alert rule notified %d correlated findings, want 3", alerted)
	}
	client, err := securityhub.New(moto.AWSConfig(), securityhub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	err = client.GetFindings(context.Background(), nil, func(page [][]byte) error {
		for _, f := range page {
			for id := range correlated {
				if strings.Contains(string(f), `"Id":"`+id+`"`) || strings.Contains(string(f), `"Id": "`+id+`"`) {
					imported[id] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imported) != len(correlated) {
		t.Fatalf("imported into Security Hub: %v, want %v", imported, correlated)
	}

	second := execute(t, "", args...)
	if second.code != 0 {
		t.Fatalf("second replay: exit %d\n%s", second.code, second.stderr)
	}
	for _, d := range second.decisions {
		if d["decision"] == "correlate" || (d["rule"] == "incidents" && d["decision"] != "duplicate") {
			t.Errorf("second replay of the same events: %v", d)
		}
	}
}
