package units

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1048576", want: 1 << 20},
		{in: "256MiB", want: 256 << 20},
		{in: "256mib", want: 256 << 20},
		{in: "64m", want: 64 << 20},
		{in: "1.5 GiB", want: 3 << 29},
		{in: "500MB", want: 500e6},
		{in: "2k", want: 2048},
		{in: "10B", want: 10},
		{in: "1TiB", want: 1 << 40},
		{in: "", bad: true},
		{in: "MiB", bad: true},
		{in: "12 parsecs", bad: true},
		{in: "1.2.3MiB", bad: true},
		{in: "-5MiB", bad: true},
		{in: "99999999TiB", bad: true},
	} {
		got, err := ParseBytes(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseBytes(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestExactBytesReadsBack(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {1000, "1000"}, {1024, "1KiB"}, {1536 << 10, "1536KiB"},
		{64 << 20, "64MiB"}, {3 << 30, "3GiB"}, {5 << 40, "5TiB"},
	} {
		got := ExactBytes(tc.n)
		if got != tc.want {
			t.Errorf("ExactBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
		if back, err := ParseBytes(got); err != nil || back != tc.n {
			t.Errorf("ParseBytes(ExactBytes(%d)) = %d, %v", tc.n, back, err)
		}
	}
}

func TestSizeFlagValue(t *testing.T) {
	var s Size
	if err := s.Set("128MiB"); err != nil || int64(s) != 128<<20 || s.String() != "128MiB" || s.Type() != "size" {
		t.Fatalf("Size after Set(128MiB) = %d %q %v", s, s.String(), err)
	}
	if err := s.Set("lots"); err == nil {
		t.Fatal("Set(lots) did not fail")
	}
}
