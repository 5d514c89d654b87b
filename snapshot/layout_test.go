package snapshot

import "testing"

func TestValidUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{uuidA, true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"ABCDEF01-2345-6789-ABCD-EF0123456789", true},
		{"", false},
		{"xyz", false},
		{"0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", false},      // no dashes
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4", false},   // one short
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4dd", false}, // one long
		{"0a1b2c3d-4e5f-4a6b-8c7d_9e0f1a2b3c4d", false},  // wrong separator
		{"0a1b2c3g-4e5f-4a6b-8c7d-9e0f1a2b3c4d", false},  // not hex
		{"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.tmp", false},
		{"{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4}", false},
	}
	for _, tt := range tests {
		if got := ValidUUID(tt.in); got != tt.want {
			t.Errorf("ValidUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUnsafePath(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"tree/ab/cd/x", ""},
		{".metadata", ""},
		{"..metadata", ""}, // a name starting with dots is not a parent reference
		{"/etc/passwd", "absolute path; skipped"},
		{`\windows\system32`, "absolute path; skipped"},
		{`C:\evil`, "absolute path; skipped"},
		{"..", `path contains ".."; skipped`},
		{"tree/../../x", `path contains ".."; skipped`},
		{`tree\..\x`, `path contains ".."; skipped`},
	}
	for _, tt := range tests {
		if got := unsafePath(tt.in); got != tt.want {
			t.Errorf("unsafePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
