package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// byteUnits are the suffixes ParseBytes accepts, with their multipliers.
// Both binary (KiB) and decimal (KB) units mean what they say; a bare
// number is bytes.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseBytes reads a size such as "256MiB", "1.5 GiB", "64m", "500MB" or
// "1048576". K, M, G and T alone are binary units, as in Bytes' output.
func ParseBytes(s string) (int64, error) {
	text := strings.TrimSpace(s)
	i := strings.IndexFunc(text, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(text)
	}
	num, unit := text[:i], strings.ToLower(strings.TrimSpace(text[i:]))
	mult, ok := byteUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("%q is not a size: use a number of bytes or units like 256MiB, 1GiB", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	v := f * mult
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}

// Size is a byte count that reads and prints as a size; it is a
// pflag.Value, so a flag can take "256MiB".
type Size int64

// Set parses a size for a flag.
func (s *Size) Set(text string) error {
	n, err := ParseBytes(text)
	if err != nil {
		return err
	}
	*s = Size(n)
	return nil
}

// String prints the size so that ParseBytes reads it back exactly: in the
// largest binary unit that divides it, else in bytes.
func (s Size) String() string { return ExactBytes(int64(s)) }

// Type names the value in flag help.
func (*Size) Type() string { return "size" }

// ExactBytes prints n with the largest binary unit that divides it
// ("256MiB", "1536KiB", "1000"), so that the text means exactly n.
func ExactBytes(n int64) string {
	if n == 0 {
		return "0"
	}
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB"} {
		div := int64(1) << (10 * (4 - i))
		if n%div == 0 {
			return strconv.FormatInt(n/div, 10) + unit
		}
	}
	return strconv.FormatInt(n, 10)
}
