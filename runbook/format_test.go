package runbook

import (
	"testing"
	"time"
)

func TestHumanCount(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {12261584, "12,261,584"}, {-4500, "-4,500"}}
	for _, tt := range tests {
		if got := humanCount(tt.in); got != tt.want {
			t.Errorf("humanCount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0m"}, {20 * time.Second, "under a minute"}, {90 * time.Second, "2m"},
		{time.Hour, "1h"}, {66 * time.Minute, "1h 6m"}, {170 * time.Minute, "2h 50m"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.in); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ in, code, cell string }{
		{"plain", "`plain`", "plain"},
		{"a`b", "``a`b``", "a`b"},
		{"`x", "`` `x ``", "`x"},
		{"a|b\nc", "`a|b\nc`", `a\|b c`},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.code {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.code)
		}
		if got := mdCell(tt.in); got != tt.cell {
			t.Errorf("mdCell(%q) = %q, want %q", tt.in, got, tt.cell)
		}
	}
}
