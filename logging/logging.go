// Package logging builds the slog.Logger of every hubtriage command and of
// the Lambda from the two choices an operator makes: the format (text for a
// terminal, json for a log pipeline) and the lowest level written.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing to w in format (text or json, any case) at
// level (debug, info, warn or error, any case; also slog's "info+2" forms).
// An unknown format or level is an error naming the accepted values.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level must be debug, info, warn or error (got %q)", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case FormatText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format must be text or json (got %q)", format)
}
