package pgdump

import "testing"

func TestMinRestoreMajor(t *testing.T) {
	tests := []struct {
		minor, want int
		version     string
	}{
		{12, 9, "1.12"},
		{13, 11, "1.13"},
		{14, 12, "1.14"},
		{15, 16, "1.15"},
		{16, 17, "1.16"},
		{17, 0, "1.17"},
	}
	for _, tt := range tests {
		h := Header{VersionMajor: 1, VersionMinor: tt.minor, VersionRev: 0}
		if got := h.MinRestoreMajor(); got != tt.want {
			t.Errorf("MinRestoreMajor(1.%d) = %d, want %d", tt.minor, got, tt.want)
		}
		if got := h.Version(); got != tt.version {
			t.Errorf("Version() = %q, want %q", got, tt.version)
		}
	}
}

func TestSectionString(t *testing.T) {
	for s, want := range map[Section]string{
		SectionNone: "none", SectionPreData: "pre-data", SectionData: "data", SectionPostData: "post-data", 0: "Section(0)",
	} {
		if got := s.String(); got != want {
			t.Errorf("Section(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
