package deploy

import (
	"testing"

	"hubtriage/config"
	"hubtriage/eventpattern"
)

// TestExampleConfig keeps the README's example config valid and its pattern
// within EventBridge's limits.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load("hubtriage.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.State.Backend != "dynamodb" || cfg.Channels["secops"].SES == nil {
		t.Errorf("example config: backend %q, channels %v; want dynamodb and an SES channel", cfg.State.Backend, cfg.Channels)
	}
	p := eventpattern.FromConfig(cfg, eventpattern.Options{})
	if parts, err := p.Split(eventpattern.DefaultMaxLength); err != nil || len(parts) != 1 {
		t.Errorf("the example's pattern is %d patterns (%v), want one within EventBridge's default quota", len(parts), err)
	}
	if len(p.Notes) != 0 {
		t.Errorf("the example's filters should all be expressible, notes: %v", p.Notes)
	}
}
