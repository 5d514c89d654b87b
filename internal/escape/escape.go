// Package escape makes text that comes from a backup (entry names, table
// names, versions, error messages quoting them) safe to print for people:
// a hostile archive must not move the cursor, rewrite a line or forge one.
// JSON output and log lines escape on their own; every human-readable
// summary passes such text through Text or Lines.
package escape

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s unchanged when every rune is printable (spaces included),
// else s quoted with its control characters, invalid bytes and other
// non-printable runes written as Go escapes ("\x1b", "\r", "\n", "\u202e").
// The quotes show that the text was escaped.
func Text(s string) string {
	if Safe(s) {
		return s
	}
	return strconv.Quote(s)
}

// Safe reports whether s prints as itself: valid UTF-8 without control
// or other non-printable characters.
func Safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Lines is Text for a message that may span lines on purpose (errors
// joined with errors.Join): each line is escaped on its own, and every
// line after the first starts with indent, so that no line of the message
// can pass for a line of the program's own output.
func Lines(s, indent string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		lines[i] = Text(line)
		if i > 0 {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}
