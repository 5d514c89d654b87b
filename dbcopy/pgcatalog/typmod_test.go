package pgcatalog

import "testing"

func TestNewTypeDecodesTypmod(t *testing.T) {
	numeric := func(p, s int32) int32 { return (p<<16 | (s & 0x7ff)) + varHeaderSize }
	tests := []struct {
		base                     string
		typmod                   int32
		length, precision, scale int
	}{
		{"numeric", numeric(28, 8), -1, 28, 8},
		{"numeric", numeric(38, 0), -1, 38, 0},
		{"numeric", numeric(1000, 1000), -1, 1000, 1000},
		{"numeric", numeric(3, -2), -1, 3, -2},
		{"numeric", -1, -1, -1, -1},
		{"character varying", 200 + varHeaderSize, 200, -1, -1},
		{"character varying", -1, -1, -1, -1},
		{"character", 1 + varHeaderSize, 1, -1, -1},
		{"bit", 8, 8, -1, -1},
		{"timestamp without time zone", 3, -1, 3, -1},
		{"timestamp with time zone", 0, -1, 0, -1},
		{"time without time zone", 6, -1, 6, -1},
		{"timestamp without time zone", -1, -1, -1, -1},
		{"interval", 0x7fff0003, -1, 3, -1},
		{"interval", 0x7fffffff, -1, -1, -1},
		{"bigint", -1, -1, -1, -1},
	}
	for _, tc := range tests {
		got := newType("text", tc.base, tc.typmod, 'b')
		if got.Length != tc.length || got.Precision != tc.precision || got.Scale != tc.scale {
			t.Errorf("%s typmod %d: got length %d precision %d scale %d, want %d %d %d",
				tc.base, tc.typmod, got.Length, got.Precision, got.Scale, tc.length, tc.precision, tc.scale)
		}
		if got.Base != tc.base || got.Text != "text" || got.Kind != 'b' {
			t.Errorf("%s: names not kept: %+v", tc.base, got)
		}
	}
}

func TestSequenceNextValue(t *testing.T) {
	const maxInt = int64(9223372036854775807)
	tests := []struct {
		name string
		seq  Sequence
		want int64
		ok   bool
	}{
		{"fresh", Sequence{LastValue: 1, Increment: 1, Min: 1, Max: maxInt}, 1, true},
		{"used", Sequence{LastValue: 41, IsCalled: true, Increment: 1, Min: 1, Max: maxInt}, 42, true},
		{"step", Sequence{LastValue: 40, IsCalled: true, Increment: 10, Min: 1, Max: maxInt}, 50, true},
		{"descending", Sequence{LastValue: -5, IsCalled: true, Increment: -1, Min: -100, Max: -1}, -6, true},
		{"exhausted", Sequence{LastValue: 10, IsCalled: true, Increment: 1, Min: 1, Max: 10}, 0, false},
		{"int64 overflow", Sequence{LastValue: maxInt, IsCalled: true, Increment: 1, Min: 1, Max: maxInt}, 0, false},
		{"cycles", Sequence{LastValue: 10, IsCalled: true, Increment: 1, Min: 3, Max: 10, Cycle: true}, 3, true},
		{"cycles down", Sequence{LastValue: 1, IsCalled: true, Increment: -1, Min: 1, Max: 9, Cycle: true}, 9, true},
	}
	for _, tc := range tests {
		got, ok := tc.seq.NextValue()
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
