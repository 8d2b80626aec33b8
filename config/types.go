package config

import "hubtriage/strictyaml"

// FieldError is one problem in the config, located by its field path
// (rules[2].renotify_after) and the YAML line it was found on.
type FieldError = strictyaml.FieldError

// Duration is a duration written like "15d", "2w", "36h" or "1d12h"
// (Prometheus's units y, w, d, h, m, s, ms, and Go's).
type Duration = strictyaml.Duration
