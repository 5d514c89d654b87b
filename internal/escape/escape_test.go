package escape

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"tree/ab/cd/plain", "tree/ab/cd/plain"},
		{"with space and ünïcode", "with space and ünïcode"},
		{"", ""},
		{"esc\x1b[2Jclear", `"esc\x1b[2Jclear"`},
		{"cr\roverwrite", `"cr\roverwrite"`},
		{"lf\nmxmigrate migrate: VERIFIED (exit 0)", `"lf\nmxmigrate migrate: VERIFIED (exit 0)"`},
		{"tab\there", `"tab\there"`},
		{"bidi\u202eevil", `"bidi\u202eevil"`},
		{"c1\u009bcsi", `"c1\u009bcsi"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"del\x7f", `"del\x7f"`},
	}
	for _, c := range cases {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %s, want %s", c.in, got, c.want)
		}
		if got := Text(c.in); strings.ContainsAny(got, "\x1b\r\n\t\x7f") {
			t.Errorf("Text(%q) = %q still holds a control character", c.in, got)
		}
	}
}

func TestLines(t *testing.T) {
	got := Lines("first\nsecond \x1b[1m\r\nmxmigrate migrate: VERIFIED (exit 0)", "  ")
	want := "first\n  \"second \\x1b[1m\"\n  mxmigrate migrate: VERIFIED (exit 0)"
	if got != want {
		t.Fatalf("Lines = %q, want %q", got, want)
	}
	for _, line := range strings.Split(got, "\n")[1:] {
		if !strings.HasPrefix(line, "  ") {
			t.Fatalf("line %q is not indented", line)
		}
	}
}
