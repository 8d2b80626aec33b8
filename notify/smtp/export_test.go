package smtp

import "crypto/tls"

// NewWithTLSConfig is New trusting tlsCfg instead of the system's roots,
// for tests against a loopback server with its own certificate.
func NewWithTLSConfig(name string, cfg Config, tlsCfg *tls.Config) (*Channel, error) {
	return build(name, cfg, tlsCfg)
}
