package typemap

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/internal/pgtext"
)

// convertFunc converts one non-NULL value. With clamp it returns the
// nearest value the target holds where there is one; otherwise a value
// that does not fit is a *Misfit error. Any other error means the value is
// not of a Go type the source column can produce: a bug, not data.
type convertFunc func(v any, clamp bool) (any, error)

// converterFor picks the converter from a source kind to a target, and
// the cast under which the staging query must read the column.
func converterFor(src sourceKind, t Target) (convertFunc, string, error) {
	allowed := func(kinds ...sourceKind) bool {
		for _, k := range kinds {
			if k == src {
				return true
			}
		}
		return false
	}
	var conv convertFunc
	switch t.kind() {
	case kindString:
		// Anything reads as text; PostgreSQL's text form is the value.
		cast := ""
		if src != srcText {
			cast = "text"
		}
		return stringConverter(t), cast, nil
	case kindInt:
		if allowed(srcInt, srcNumeric, srcFloat, srcBool) {
			conv = intConverter(t.Name)
		}
	case kindFloat:
		if allowed(srcInt, srcNumeric, srcFloat) {
			conv = floatConverter(t.Name == "real")
		}
	case kindDecimal:
		if allowed(srcInt, srcNumeric, srcFloat) {
			conv = decimalConverter(t.Precision, t.Scale)
		}
	case kindBit:
		if allowed(srcBool) {
			conv = toBit
		}
	case kindBinary:
		if allowed(srcBytes) {
			conv = binaryConverter(t)
		}
	case kindGUID:
		if allowed(srcUUID, srcText) {
			conv = toGUID
		}
	case kindDatetime2:
		if allowed(srcTimestamp, srcTimestampTZ, srcDate) {
			conv = dateTimeConverter(t)
		}
	case kindDatetimeOffset:
		if allowed(srcTimestamp, srcTimestampTZ) {
			conv = dateTimeConverter(t)
		}
	case kindDate:
		if allowed(srcDate, srcTimestamp) {
			conv = toDate
		}
	case kindTime:
		if allowed(srcTime) {
			conv = timeConverter(t.Scale)
		}
	}
	if conv == nil {
		return nil, "", fmt.Errorf("no conversion to %s", t)
	}
	return conv, "", nil
}

func unexpected(v any, target string) error {
	return fmt.Errorf("unexpected Go value %T for a %s column", v, target)
}

func toBit(v any, _ bool) (any, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, unexpected(v, "bit")
	}
	return b, nil
}

// stringConverter checks the length SQL Server will count: UTF-16 code
// units for nvarchar and nchar, bytes for varchar and char, which hold
// only ASCII safely (their code page is the collation's).
func stringConverter(t Target) convertFunc {
	unicode := t.Name == "nvarchar" || t.Name == "nchar"
	return func(v any, clamp bool) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, unexpected(v, t.String())
		}
		if unicode {
			return fitUnicode(s, t, clamp)
		}
		return fitASCII(s, t, clamp)
	}
}

func fitUnicode(s string, t Target, clamp bool) (any, error) {
	s, err := fitUnicodeString(s, t, clamp)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// fitUnicodeString is fitUnicode's string.
func fitUnicodeString(s string, t Target, clamp bool) (string, error) {
	if !utf8.ValidString(s) {
		if !clamp {
			return "", misfit("not valid UTF-8")
		}
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if t.Length == Max {
		return s, nil
	}
	// Every byte is at most one UTF-16 unit: short strings need no count.
	if len(s) <= t.Length {
		return s, nil
	}
	units := 0
	for i, r := range s {
		n := utf16.RuneLen(r)
		if units+n > t.Length {
			if !clamp {
				return "", misfit("longer than %d UTF-16 code units (characters beyond the BMP count twice)", t.Length)
			}
			return s[:i], nil
		}
		units += n
	}
	return s, nil
}

func fitASCII(s string, t Target, clamp bool) (any, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return nil, misfit("non-ASCII text depends on the collation's code page in %s: map the column to nvarchar", t.Name)
		}
	}
	if t.Length != Max && len(s) > t.Length {
		if !clamp {
			return nil, misfit("longer than %d bytes", t.Length)
		}
		return s[:t.Length], nil
	}
	return s, nil
}

func binaryConverter(t Target) convertFunc {
	return func(v any, clamp bool) (any, error) {
		b, ok := v.([]byte)
		if !ok {
			return nil, unexpected(v, t.String())
		}
		return fitBinary(b, t, clamp)
	}
}

func fitBinary(b []byte, t Target, clamp bool) (any, error) {
	if b == nil {
		// go-mssqldb writes a nil slice as NULL: an empty bytea is
		// not NULL.
		b = []byte{}
	}
	switch {
	case t.Length == Max:
	case len(b) > t.Length:
		if !clamp {
			return nil, misfit("longer than %d bytes", t.Length)
		}
		b = b[:t.Length]
	case t.Name == "binary" && len(b) < t.Length && !clamp:
		return nil, misfit("shorter than %d bytes: binary(%d) would pad it with zeros", t.Length, t.Length)
	}
	return b, nil
}

// toGUID returns the 16 bytes in the order SQL Server sends a
// uniqueidentifier: the first three groups little-endian (what
// mssql.UniqueIdentifier.Value does), which go-mssqldb's bulk copy writes
// as they are.
func toGUID(v any, _ bool) (any, error) {
	var u [16]byte
	switch v := v.(type) {
	case [16]byte:
		u = v
	case string:
		parsed, ok := parseUUID(v)
		if !ok {
			return nil, misfit("not a UUID")
		}
		u = parsed
	default:
		return nil, unexpected(v, "uniqueidentifier")
	}
	return guidWire(u), nil
}

// guidWire reorders a UUID's bytes as SQL Server sends them.
func guidWire(u [16]byte) []byte {
	return []byte{
		u[3], u[2], u[1], u[0],
		u[5], u[4],
		u[7], u[6],
		u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15],
	}
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	hexDigits := strings.ReplaceAll(s, "-", "")
	if len(hexDigits) != 32 || (len(s) != 32 && len(s) != 36) {
		return u, false
	}
	for i := 0; i < 16; i++ {
		hi, ok1 := pgtext.HexValue(hexDigits[2*i])
		lo, ok2 := pgtext.HexValue(hexDigits[2*i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[i] = hi<<4 | lo
	}
	return u, true
}

// intRanges are the SQL Server integer types' bounds.
var intRanges = map[string][2]int64{
	"tinyint":  {0, math.MaxUint8},
	"smallint": {math.MinInt16, math.MaxInt16},
	"int":      {math.MinInt32, math.MaxInt32},
	"bigint":   {math.MinInt64, math.MaxInt64},
}

// intFit fits an integer to the SQL Server integer type name.
func intFit(name string) func(n int64, clamp bool) (any, error) {
	bounds := intRanges[name]
	return func(n int64, clamp bool) (any, error) {
		switch {
		case n < bounds[0]:
			if !clamp {
				return nil, misfit("below %s's minimum %d", name, bounds[0])
			}
			return bounds[0], nil
		case n > bounds[1]:
			if !clamp {
				return nil, misfit("above %s's maximum %d", name, bounds[1])
			}
			return bounds[1], nil
		}
		return n, nil
	}
}

func intConverter(name string) convertFunc {
	fit := intFit(name)
	return func(v any, clamp bool) (any, error) {
		switch v := v.(type) {
		case int16:
			return fit(int64(v), clamp)
		case int32:
			return fit(int64(v), clamp)
		case int64:
			return fit(v, clamp)
		case int:
			return fit(int64(v), clamp)
		case bool:
			if v {
				return int64(1), nil
			}
			return int64(0), nil
		case float32:
			return floatToInt(float64(v), clamp, fit)
		case float64:
			return floatToInt(v, clamp, fit)
		default:
			d, err := decimalOf(v)
			if err != nil {
				return nil, err
			}
			return decimalToInt(d, clamp, fit)
		}
	}
}

func floatToInt(f float64, clamp bool, fit func(int64, bool) (any, error)) (any, error) {
	switch {
	case math.IsNaN(f):
		return nil, misfit("NaN has no integer equivalent")
	case f != math.Trunc(f) && !clamp:
		return nil, misfit("not a whole number")
	case f >= 0x1p63:
		return saturate(1, clamp, fit)
	case f < -0x1p63:
		return saturate(-1, clamp, fit)
	}
	return fit(int64(math.Round(f)), clamp)
}

// floatFit fits a float64 to float or, with real, to real.
func floatFit(real bool) func(f float64, clamp bool) (any, error) {
	name, limit := "float", math.MaxFloat64
	if real {
		name, limit = "real", math.MaxFloat32
	}
	return func(f float64, clamp bool) (any, error) {
		switch {
		case math.IsNaN(f):
			return nil, misfit("NaN: SQL Server's %s has none", name)
		case math.IsInf(f, 0) || math.Abs(f) > limit:
			if !clamp {
				return nil, misfit("out of %s's range (SQL Server has no infinity)", name)
			}
			return math.Copysign(limit, f), nil
		case real && float64(float32(f)) != f && !clamp:
			return nil, misfit("%v has no exact real equivalent", f)
		}
		return f, nil
	}
}

func floatConverter(real bool) convertFunc {
	name := "float"
	if real {
		name = "real"
	}
	fit := floatFit(real)
	return func(v any, clamp bool) (any, error) {
		var f float64
		switch v := v.(type) {
		case float64:
			f = v
		case float32:
			f = float64(v)
		case int16, int32, int64, int:
			// Above 2^53 a float64 cannot hold every integer.
			n := asInt64(v)
			f = float64(n)
			if (f >= 0x1p63 || int64(f) != n) && !clamp {
				return nil, misfit("%d has no exact %s equivalent", n, name)
			}
		default:
			d, err := decimalOf(v)
			if err != nil {
				return nil, err
			}
			// numeric to float rounds by nature: only the range is checked.
			if f, err = d.float64(); err != nil {
				return nil, err
			}
		}
		return fit(f, clamp)
	}
}

func asInt64(v any) int64 {
	switch v := v.(type) {
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
