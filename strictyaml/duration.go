package strictyaml

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written the way Prometheus and Alertmanager
// write them: "15d", "2w", "1y", "36h", "90m", or combinations from the
// largest unit down like "1d12h" or "1w2d". Go's own forms ("1.5h", "500ms")
// are accepted too. A year is 365 days, a week 7.
type Duration time.Duration

// durationHint is the expected form, quoted by every duration error.
const durationHint = "must be a duration like 15d, 2w or 36h"

// ParseDuration parses s as a non-negative Duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := model.ParseDuration(s); err == nil && s != "" {
		return Duration(d), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return Duration(d), nil
	}
	return 0, fmt.Errorf("%s (got %q)", durationHint, s)
}

// UnmarshalYAML decodes a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s (got %s)", durationHint, describe(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// String renders d the way it is written, like "15d", "2w" or "1h30m";
// values finer than a millisecond in Go's form.
func (d Duration) String() string {
	td := time.Duration(d)
	if td >= 0 && td%time.Millisecond == 0 {
		return model.Duration(td).String()
	}
	return td.String()
}
