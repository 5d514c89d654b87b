// Package ui is how mxmigrate talks to its operator: structured logs (text
// or JSON) on stderr, progress bars on a terminal and plain progress lines
// elsewhere, and nothing interactive when no one is there to answer.
package ui

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/mxmigrate/mxmigrate/internal/redact"
)

// NewLogger returns a logger writing to w in format "text" or "json".
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: use text or json", format)
	}
}

// IsTerminal reports whether f is an interactive terminal. CI sets CI=true
// and some runners attach a pseudo-terminal: treat those as not one.
func IsTerminal(f *os.File) bool {
	if os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// redactAttr keeps credentials out of every log line, whichever package
// logged a URL or an error.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(redact.Text(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(redact.Text(err.Error()))
		}
	}
	return a
}
