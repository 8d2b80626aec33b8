package deploy

import (
	"testing"

	"hubtriage/config"
	"hubtriage/eventpattern"
)

// TestExampleConfig keeps the README's example config valid and its pattern
// deployable: within EventBridge's default quota in as many patterns as the
// template takes.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load("hubtriage.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.State.Backend != "dynamodb" || cfg.Channels["secops"].SES == nil {
		t.Errorf("example config: backend %q, channels %v; want dynamodb and an SES channel", cfg.State.Backend, cfg.Channels)
	}
	p := eventpattern.FromConfig(cfg, eventpattern.Options{})
	// The template takes up to four patterns (FindingsEventPattern, 2, 3, 4).
	if parts, err := p.Split(eventpattern.DefaultMaxLength); err != nil || len(parts) > 4 {
		t.Errorf("the example's pattern is %d patterns (%v) within EventBridge's default quota; the template takes 4", len(parts), err)
	}
	if len(p.Notes) != 0 {
		t.Errorf("the example's filters should all be expressible, notes: %v", p.Notes)
	}
}
