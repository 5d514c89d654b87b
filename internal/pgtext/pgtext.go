// Package pgtext reads PostgreSQL's output text of the built-in types, as
// COPY TO writes it (and so pg_dump, which sets DateStyle ISO,
// IntervalStyle postgres and extra_float_digits 3, but leaves the time
// zone and bytea_output as the session has them).
//
// The parsers accept exactly the forms the output functions write and
// refuse anything else: text that is not one of them means a damaged dump
// or a column of another type, not a value to fit. The date and time
// parsers also take, with Lenient, the spellings other tools write (a 'T'
// separator, a "Z" zone, nanoseconds), which content verification meets
// in values a driver returns as text.
//
// Every parser reads a []byte without allocating, except where it returns
// a new value (DecodeBytea, a numeric beyond 18 digits).
package pgtext

import (
	"math/big"
	"strconv"
)

// ParseInt reads int2out/int4out/int8out's text: an optional minus sign
// and decimal digits.
func ParseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// ParseBool reads boolout's t or f.
func ParseBool(b []byte) (bool, bool) {
	if len(b) == 1 {
		switch b[0] {
		case 't':
			return true, true
		case 'f':
			return false, true
		}
	}
	return false, false
}

// ParseFloat reads float4out/float8out's text: shortest round-trip digits
// (or 9/17 significant digits from servers before 12), "NaN", "Infinity"
// and "-Infinity". bits is 32 for real.
func ParseFloat(b []byte, bits int) (float64, bool) {
	if len(b) == 0 || !isFloatText(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), bits)
	if err != nil {
		// Out of range is not what the server writes for a finite value.
		return 0, false
	}
	return f, true
}

// isFloatText refuses the forms strconv accepts and PostgreSQL never
// writes: hexadecimal, underscores, "inf", a plus sign.
func isFloatText(b []byte) bool {
	switch string(b) {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.', c == 'e':
		case c == '-' && (i == 0 || b[i-1] == 'e'):
		case c == '+' && i > 0 && b[i-1] == 'e':
		default:
			return false
		}
	}
	return true
}

// Numeric is numeric_out's text, read: a finite value is Small×10^Exp
// when Big is nil, Big×10^Exp otherwise.
type Numeric struct {
	Small int64
	Big   *big.Int
	Exp   int
	NaN   bool
	Inf   int // +1 for Infinity, -1 for -Infinity
}

// ParseNumeric reads numeric_out's text: "NaN", "Infinity", "-Infinity"
// or an optional minus sign, digits and optionally a point and digits
// (numeric_out never writes an exponent). The exponent is minus the
// number of digits after the point, as pgx's binary decoding has it.
func ParseNumeric(b []byte) (Numeric, bool) {
	switch string(b) {
	case "NaN":
		return Numeric{NaN: true}, true
	case "Infinity":
		return Numeric{Inf: 1}, true
	case "-Infinity":
		return Numeric{Inf: -1}, true
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	point, digits := -1, 0
	var n int64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if digits <= 18 {
				n = n*10 + int64(c-'0')
			}
		case c == '.' && point < 0 && i > 0:
			point = i
		default:
			return Numeric{}, false
		}
	}
	if digits == 0 || point == len(b)-1 {
		return Numeric{}, false
	}
	var out Numeric
	if point >= 0 {
		out.Exp = -(len(b) - point - 1)
	}
	if digits <= 18 {
		out.Small = n
		if neg {
			out.Small = -n
		}
		return out, true
	}
	text := make([]byte, 0, len(b)+1)
	if neg {
		text = append(text, '-')
	}
	for _, c := range b {
		if c != '.' {
			text = append(text, c)
		}
	}
	out.Big, _ = new(big.Int).SetString(string(text), 10)
	return out, true
}

// ParseUUID reads uuid_out's text: 8-4-4-4-12 hex digits.
func ParseUUID(b []byte) ([16]byte, bool) {
	var u [16]byte
	if len(b) != 36 {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if b[i] != '-' {
				return u, false
			}
			i++
			continue
		}
		hi, ok1 := HexValue(b[i])
		lo, ok2 := HexValue(b[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

// DecodeBytea reads byteaout's text (see AppendBytea) into a new slice of
// exactly the value's size, never nil.
func DecodeBytea(b []byte) ([]byte, bool) {
	return AppendBytea(make([]byte, 0, byteaSize(b)), b)
}

// byteaSize is the size of the value b holds, if b is valid.
func byteaSize(b []byte) int {
	if isHexBytea(b) {
		return (len(b) - 2) / 2
	}
	size := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			if i+1 < len(b) && b[i+1] == '\\' {
				i++
			} else {
				i += 3
			}
		}
		size++
	}
	return size
}

func isHexBytea(b []byte) bool { return len(b) >= 2 && b[0] == '\\' && b[1] == 'x' }

// AppendBytea appends the bytes of byteaout's text in either bytea_output
// format: hex (`\x` then two hex digits a byte) or escape (printable ASCII
// as itself, a backslash doubled, any other byte as a backslash and three
// octal digits). An escape-format value never starts with `\x`: its
// backslashes are doubled.
func AppendBytea(dst, b []byte) ([]byte, bool) {
	if isHexBytea(b) {
		hexText := b[2:]
		if len(hexText)%2 != 0 {
			return dst, false
		}
		for i := 0; i < len(hexText); i += 2 {
			hi, ok1 := HexValue(hexText[i])
			lo, ok2 := HexValue(hexText[i+1])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst, true
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\\':
			dst = append(dst, '\\')
			i += 2
		case i+3 < len(b) && isOctal(b[i+1]) && b[i+1] <= '3' && isOctal(b[i+2]) && isOctal(b[i+3]):
			dst = append(dst, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 4
		default:
			return dst, false
		}
	}
	return dst, true
}

// HexValue is the value of a hexadecimal digit of either case.
func HexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
