package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// Log lines escape control characters from the backup in both formats.
func TestLoggerEscapesControlCharacters(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log, err := NewLogger(&buf, format, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("backup anomaly", "entry", "tree/\x1b[2K\rmxmigrate migrate: VERIFIED (exit 0)\n", "problem", "x")
		out := buf.String()
		if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\x1b\r\n") {
			t.Errorf("%s log line holds a control character: %q", format, out)
		}
	}
}
