// Package canon is the canonical-value codec of content verification: a
// value from the dump's COPY text and the same value as a target's driver
// returns it come out as the same bytes, so that rows can be compared by
// hash.
package canon

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/internal/pgtext"
)

// Canonical forms make a value from the dump's COPY text and the same
// value as a target's driver returns it (PostgreSQL or SQL Server) into
// the same string, so that contents can be compared by hash:
//
//	integers      decimal: "-42"
//	numeric       exact decimal, no trailing fractional zeros: "1.5", "0", "NaN", "Infinity"
//	boolean       "true", "false"
//	real, double  shortest text that reads back to the same float32/float64:
//	              "0.1", "1e+308", "Infinity", "-Infinity", "NaN"
//	timestamp     "2006-01-02T15:04:05.000000", wall clock, microseconds
//	timestamptz   "2006-01-02T15:04:05.000000Z", in UTC
//	date          "2006-01-02"
//	time          "15:04:05.000000" ("24:00:00.000000" exists)
//	timetz        "15:04:05.000000+02:00:00"
//	bytea         lowercase hex of the bytes, "" when empty
//	uuid          lowercase 8-4-4-4-12
//	anything else (text, varchar, json, jsonb, arrays, ...) as is
//
// Dates and times before year 1 end in " BC", as PostgreSQL writes them
// ("0044-03-15 BC"); "infinity" and "-infinity" stay as they are.
//
// NULL has no canonical form: it is told apart from every value, the
// empty string included, by the row encoding (see package rowdiff).

// ErrNull is returned by Value for a nil value: NULL is not a
// value and must be encoded as NULL by the caller.
var ErrNull = errors.New("NULL has no canonical form")

// Text returns the canonical form of a value of PostgreSQL type
// pgType (as the dump's CREATE TABLE spells it, e.g. "numeric(28,8)") from
// its COPY text, after CopyReader has undone COPY's escapes.
func Text(pgType string, text []byte) (string, error) {
	b, err := AppendText(nil, KindOf(pgType), text)
	return string(b), err
}

// Value returns the canonical form of a Go value that a target's
// ScanTable returned for a column of PostgreSQL type pgType: nil (ErrNull),
// an integer, float64, float32, string, []byte, bool, time.Time, or a
// decimal as a string. A string or, except for bytea, a []byte is read as
// the value's text, the way Text reads it. A uuid must come as a
// string: a 16-byte []byte is refused, since SQL Server's drivers return
// its bytes in mixed-endian order and PostgreSQL's in RFC order.
func Value(pgType string, v any) (string, error) {
	b, err := AppendValue(nil, KindOf(pgType), v)
	return string(b), err
}

// Kind is how a column's values are normalised.
type Kind uint8

const (
	KindText Kind = iota // as is
	KindInt
	KindNumeric
	KindBool
	KindFloat4
	KindFloat8
	KindTimestamp
	KindTimestamptz
	KindDate
	KindTime
	KindTimetz
	KindBytea
	KindUUID
)

var kindNames = [...]string{
	KindText: "text", KindInt: "integer", KindNumeric: "numeric", KindBool: "boolean",
	KindFloat4: "real", KindFloat8: "double precision", KindTimestamp: "timestamp",
	KindTimestamptz: "timestamptz", KindDate: "date", KindTime: "time", KindTimetz: "timetz",
	KindBytea: "bytea", KindUUID: "uuid",
}

func (k Kind) String() string { return kindNames[k] }

// KindOf maps a PostgreSQL type, as format_type writes it or by its alias,
// to its kind. Unknown types, arrays and domains compare as text.
func KindOf(pgType string) Kind {
	switch baseType(pgType) {
	case "smallint", "integer", "bigint", "int2", "int4", "int8", "int", "oid":
		return KindInt
	case "numeric", "decimal":
		return KindNumeric
	case "boolean", "bool":
		return KindBool
	case "real", "float4":
		return KindFloat4
	case "double precision", "float8", "float":
		return KindFloat8
	case "timestamp without time zone", "timestamp":
		return KindTimestamp
	case "timestamp with time zone", "timestamptz":
		return KindTimestamptz
	case "date":
		return KindDate
	case "time without time zone", "time":
		return KindTime
	case "time with time zone", "timetz":
		return KindTimetz
	case "bytea":
		return KindBytea
	case "uuid":
		return KindUUID
	}
	return KindText
}

// baseType drops the type modifiers and the pg_catalog qualification:
// "timestamp(3) without time zone" -> "timestamp without time zone".
func baseType(pgType string) string {
	var b strings.Builder
	depth := 0
	for _, r := range strings.ToLower(strings.TrimSpace(pgType)) {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return strings.TrimPrefix(strings.Join(strings.Fields(b.String()), " "), "pg_catalog.")
}

// AppendText appends the canonical form of text, a value of kind k
// in PostgreSQL's text output.
func AppendText(dst []byte, k Kind, text []byte) ([]byte, error) {
	out, ok := dst, false
	switch k {
	case KindText:
		return append(dst, text...), nil
	case KindInt:
		if isCanonicalInt(text) {
			return append(dst, text...), nil
		}
		var n int64
		if n, ok = parseInt64(text); ok {
			out = strconv.AppendInt(dst, n, 10)
		}
	case KindNumeric:
		out, ok = appendDecimal(dst, text)
	case KindBool:
		out, ok = appendBoolText(dst, text)
	case KindFloat4, KindFloat8:
		bits := 64
		if k == KindFloat4 {
			bits = 32
		}
		f, err := strconv.ParseFloat(string(text), bits)
		if ok = err == nil; ok {
			out = appendFloat(dst, f, bits)
		}
	case KindTimestamp, KindTimestamptz, KindDate:
		out, ok = appendDateTimeText(dst, k, text)
	case KindTime, KindTimetz:
		out, ok = appendTimeOfDayText(dst, k, text)
	case KindBytea:
		out, ok = appendByteaText(dst, text)
	case KindUUID:
		out, ok = appendUUID(dst, text)
	}
	if !ok {
		return dst, fmt.Errorf("not a valid %s: %s", k, quoteShort(text))
	}
	return out, nil
}

// AppendValue appends the canonical form of v, a Go value a
// target returned for a column of kind k.
func AppendValue(dst []byte, k Kind, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return dst, ErrNull
	case string:
		if k == KindText {
			return append(dst, x...), nil
		}
		return AppendText(dst, k, []byte(x))
	case []byte:
		if k == KindBytea {
			return hex.AppendEncode(dst, x), nil
		}
		if k == KindUUID && len(x) == 16 {
			return dst, errors.New("a uuid as 16 bytes is ambiguous (SQL Server orders them mixed-endian): ScanTable must return uuids as strings")
		}
		return AppendText(dst, k, x)
	}
	out, ok := dst, false
	switch k {
	case KindInt:
		var n int64
		if n, ok = asInt64(v); ok {
			out = strconv.AppendInt(dst, n, 10)
		}
	case KindNumeric:
		out, ok = appendNumericValue(dst, v)
	case KindBool:
		out, ok = appendBoolValue(dst, v)
	case KindFloat4:
		switch x := v.(type) {
		case float32:
			out, ok = appendFloat(dst, float64(x), 32), true
		case float64: // SQL Server's drivers widen real to float64
			out, ok = appendFloat(dst, float64(float32(x)), 32), true
		}
	case KindFloat8:
		switch x := v.(type) {
		case float64:
			out, ok = appendFloat(dst, x, 64), true
		case float32:
			out, ok = appendFloat(dst, float64(x), 64), true
		}
	case KindTimestamp, KindTimestamptz, KindDate, KindTime, KindTimetz:
		out, ok = appendTimeValue(dst, k, v)
	case KindUUID:
		if u, isArray := v.([16]byte); isArray { // pgx's uuid, in RFC order
			out, ok = appendUUIDBytes(dst, u[:]), true
		}
	}
	if !ok {
		return dst, fmt.Errorf("unsupported Go value %T for a %s column", v, k)
	}
	return out, nil
}

// parseInt64 is pgtext.ParseInt, also taking the plus sign other tools
// write.
func parseInt64(b []byte) (int64, bool) {
	if len(b) > 1 && b[0] == '+' && b[1] != '-' {
		b = b[1:]
	}
	return pgtext.ParseInt(b)
}

// isCanonicalInt reports whether b is an integer as strconv.AppendInt
// writes it, short enough to be sure to fit an int64: what COPY writes.
func isCanonicalInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
		if len(b) == 1 && b[0] == '0' {
			return false // "-0"
		}
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	}
	return 0, false
}

// appendDecimal normalises a decimal's text: no sign on zero, no leading
// zeros, no trailing fractional zeros, no bare trailing point. SQL Server
// returns decimal(28,8) as "1.50000000" where PostgreSQL may say "1.5".
func appendDecimal(dst, s []byte) ([]byte, bool) {
	if len(s) > 0 && !isDigit(s[len(s)-1]) && s[len(s)-1] != '.' {
		switch strings.ToLower(string(s)) {
		case "nan":
			return append(dst, "NaN"...), true
		case "infinity", "+infinity", "inf", "+inf":
			return append(dst, "Infinity"...), true
		case "-infinity", "-inf":
			return append(dst, "-Infinity"...), true
		}
		return dst, false
	}
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac := s, []byte(nil)
	if dot := bytes.IndexByte(s, '.'); dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
	}
	if len(intPart)+len(frac) == 0 || !allDigits(intPart) || !allDigits(frac) {
		return dst, false
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(intPart) == 0 && len(frac) == 0 {
		return append(dst, '0'), true // also "-0" and "0.000"
	}
	if neg {
		dst = append(dst, '-')
	}
	if len(intPart) == 0 {
		dst = append(dst, '0')
	}
	dst = append(dst, intPart...)
	if len(frac) > 0 {
		dst = append(append(dst, '.'), frac...)
	}
	return dst, true
}

// appendNumericValue handles a numeric column a driver returned as a
// number instead of as text.
func appendNumericValue(dst []byte, v any) ([]byte, bool) {
	if n, ok := asInt64(v); ok {
		return strconv.AppendInt(dst, n, 10), true
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	default:
		return dst, false
	}
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...), true
	case math.IsInf(f, 0):
		return appendFloat(dst, f, 64), true
	}
	return appendDecimal(dst, strconv.AppendFloat(nil, f, 'f', -1, 64))
}

func appendBoolText(dst, s []byte) ([]byte, bool) {
	if len(s) == 1 && (s[0] == 't' || s[0] == 'f') { // what COPY writes
		return strconv.AppendBool(dst, s[0] == 't'), true
	}
	switch strings.ToLower(string(s)) {
	case "t", "true", "1", "y", "yes", "on":
		return append(dst, "true"...), true
	case "f", "false", "0", "n", "no", "off":
		return append(dst, "false"...), true
	}
	return dst, false
}

func appendBoolValue(dst []byte, v any) ([]byte, bool) {
	if b, ok := v.(bool); ok {
		return strconv.AppendBool(dst, b), true
	}
	if n, ok := asInt64(v); ok && (n == 0 || n == 1) { // a bit column
		return strconv.AppendBool(dst, n == 1), true
	}
	return dst, false
}

// appendFloat writes a float the way PostgreSQL 12+ does: the shortest
// text that reads back exactly, with PostgreSQL's names for the specials.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// civilOf is t's wall clock as written.
func civilOf(t time.Time) pgtext.DateTime {
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	c := pgtext.DateTime{Year: year, Month: int(month), Day: day,
		Hour: hour, Minute: minute, Second: second, Micro: t.Nanosecond() / 1000}
	if c.Year <= 0 {
		c.Year, c.BC = 1-c.Year, true
	}
	return c
}

// appendDateTimeText reads PostgreSQL's ISO output of a timestamp,
// timestamptz or date: "2006-01-02 15:04:05.999999+02 BC". It also takes
// a 'T' separator and a "Z" zone, which other tools write.
func appendDateTimeText(dst []byte, k Kind, s []byte) ([]byte, bool) {
	if out, ok := appendPlainDateTime(dst, k, s); ok {
		return out, true
	}
	return appendParsedDateTime(dst, k, s)
}

// appendParsedDateTime is appendDateTimeText for any text.
func appendParsedDateTime(dst []byte, k Kind, s []byte) ([]byte, bool) {
	layout := pgtext.Date
	switch k {
	case KindTimestamp:
		layout = pgtext.Timestamp
	case KindTimestamptz:
		layout = pgtext.TimestampTZ
	}
	c, ok := pgtext.ParseDateTime(s, layout, pgtext.Lenient)
	switch {
	case !ok:
		return dst, false
	case c.Inf != 0:
		return append(dst, s...), true
	case k == KindTimestamptz && c.Zone != 0:
		c = civilOf(c.Time())
	}
	return appendCivil(dst, k, c), true
}

// appendPlainDateTime is appendDateTimeText for what COPY writes nearly
// always: a four-digit year AD and, for a timestamptz, UTC
// ("2006-01-02 15:04:05.999999+00"). It copies the text into its
// canonical form rather than parse it; ok is false for anything else.
func appendPlainDateTime(dst []byte, k Kind, s []byte) ([]byte, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return dst, false
	}
	year, month, day := digits4(s[0:4]), digits2(s[5:7]), digits2(s[8:10])
	if year < 1 || month < 1 || month > 12 || day < 1 || day > pgtext.DaysIn(month, year) {
		return dst, false
	}
	if k == KindDate {
		if len(s) != 10 {
			return dst, false
		}
		return append(dst, s...), true
	}
	if len(s) < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return dst, false
	}
	if hour, minute, second := digits2(s[11:13]), digits2(s[14:16]), digits2(s[17:19]); hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || second < 0 || second > 59 {
		return dst, false
	}
	rest, frac := s[19:], []byte(nil)
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 7 { // more than microseconds: leave the cut to the parser
			return dst, false
		}
		frac, rest = rest[1:n], rest[n:]
	}
	switch {
	case k == KindTimestamp && len(rest) == 0:
	case k == KindTimestamptz && (string(rest) == "+00" || string(rest) == "Z" || string(rest) == "+00:00"):
	default:
		return dst, false
	}
	dst = append(dst, s[:10]...)
	dst = append(dst, 'T')
	dst = append(dst, s[11:19]...)
	dst = append(dst, '.')
	dst = append(dst, frac...)
	dst = append(dst, "000000"[len(frac):]...)
	if k == KindTimestamptz {
		dst = append(dst, 'Z')
	}
	return dst, true
}

// digits2 and digits4 read two or four decimal digits; -1 if they are not.
func digits2(b []byte) int {
	if !isDigit(b[0]) || !isDigit(b[1]) {
		return -1
	}
	return int(b[0]-'0')*10 + int(b[1]-'0')
}

func digits4(b []byte) int {
	hi, lo := digits2(b[0:2]), digits2(b[2:4])
	if hi < 0 || lo < 0 {
		return -1
	}
	return hi*100 + lo
}

// appendTimeOfDayText reads a time or timetz: "15:04:05.999999+05:30".
func appendTimeOfDayText(dst []byte, k Kind, s []byte) ([]byte, bool) {
	parse := pgtext.ParseTime
	if k == KindTimetz {
		parse = pgtext.ParseTimeTZ
	}
	c, ok := parse(s, pgtext.Lenient)
	if !ok {
		return dst, false
	}
	return appendCivil(dst, k, c), true
}

func appendTimeValue(dst []byte, k Kind, v any) ([]byte, bool) {
	if d, ok := v.(time.Duration); ok && k == KindTime { // time since midnight
		if d < 0 || d > 24*time.Hour {
			return dst, false
		}
		us := int(d / time.Microsecond)
		c := pgtext.DateTime{Hour: us / 3600e6, Minute: us / 60e6 % 60, Second: us / 1e6 % 60, Micro: us % 1e6}
		return appendCivil(dst, k, c), true
	}
	t, ok := v.(time.Time)
	if !ok {
		return dst, false
	}
	if k == KindTimestamptz {
		t = t.UTC()
	}
	c := civilOf(t) // a timestamp, date or time is its wall clock
	if k == KindTimetz {
		_, c.Zone = t.Zone()
		c.HasZone = true
	}
	return appendCivil(dst, k, c), true
}

// appendCivil writes the canonical form of c for kind k.
func appendCivil(dst []byte, k Kind, c pgtext.DateTime) []byte {
	if (k == KindTimestamp || k == KindTimestamptz) && !c.BC && c.Year <= 9999 {
		return appendTimestamp(dst, k, &c)
	}
	if k != KindTime && k != KindTimetz {
		dst = appendPadded(dst, c.Year, 4)
		dst = append(dst, '-')
		dst = appendPadded(dst, c.Month, 2)
		dst = append(dst, '-')
		dst = appendPadded(dst, c.Day, 2)
		if k == KindDate {
			return appendBC(dst, c.BC)
		}
		dst = append(dst, 'T')
	}
	dst = appendPadded(dst, c.Hour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, c.Minute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, c.Second, 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, c.Micro, 6)
	switch k {
	case KindTimestamptz:
		dst = append(dst, 'Z')
	case KindTime:
		return dst // a time of day has no era
	case KindTimetz:
		sign, z := byte('+'), c.Zone
		if z < 0 {
			sign, z = '-', -z
		}
		dst = append(dst, sign)
		dst = appendPadded(dst, z/3600, 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, z/60%60, 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, z%60, 2)
		return dst
	}
	return appendBC(dst, c.BC)
}

// appendTimestamp is appendCivil for a timestamp or timestamptz AD with
// a four-digit year, written in one go: "2006-01-02T15:04:05.000000[Z]".
func appendTimestamp(dst []byte, k Kind, c *pgtext.DateTime) []byte {
	var b [27]byte
	put2(b[0:2], c.Year/100)
	put2(b[2:4], c.Year%100)
	b[4] = '-'
	put2(b[5:7], c.Month)
	b[7] = '-'
	put2(b[8:10], c.Day)
	b[10] = 'T'
	put2(b[11:13], c.Hour)
	b[13] = ':'
	put2(b[14:16], c.Minute)
	b[16] = ':'
	put2(b[17:19], c.Second)
	b[19] = '.'
	put2(b[20:22], c.Micro/10000)
	put2(b[22:24], c.Micro/100%100)
	put2(b[24:26], c.Micro%100)
	if k == KindTimestamptz {
		b[26] = 'Z'
		return append(dst, b[:27]...)
	}
	return append(dst, b[:26]...)
}

// put2 writes v, below 100, as two digits.
func put2(b []byte, v int) {
	b[0], b[1] = byte('0'+v/10), byte('0'+v%10)
}

func appendBC(dst []byte, bc bool) []byte {
	if bc {
		return append(dst, " BC"...)
	}
	return dst
}

// appendPadded writes v, which is not negative, in at least width digits.
func appendPadded(dst []byte, v, width int) []byte {
	switch {
	case width == 2 && v < 100:
		return append(dst, byte('0'+v/10), byte('0'+v%10))
	case width == 4 && v < 10000:
		return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	case width == 6 && v < 1000000:
		return append(dst, byte('0'+v/100000), byte('0'+v/10000%10), byte('0'+v/1000%10),
			byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
	}
	var digits [20]byte
	i := len(digits)
	for v > 0 || len(digits)-i < width {
		i--
		digits[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, digits[i:]...)
}

// appendByteaText reads bytea output in either format: hex ("\x0aff",
// PostgreSQL 9.0 and later) or escape ("a\000\\", older servers or
// bytea_output = escape). The bytes are decoded in place at the end of
// dst and then spread out into their hex digits from the back, so that
// no second buffer is needed.
func appendByteaText(dst, s []byte) ([]byte, bool) {
	start := len(dst)
	dst, ok := pgtext.AppendBytea(dst, s)
	if !ok {
		return dst[:start], false
	}
	n := len(dst) - start
	dst = slices.Grow(dst, n)[:start+2*n]
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- { // byte i moves to 2i and 2i+1, never over a byte still to read
		b := dst[start+i]
		dst[start+2*i], dst[start+2*i+1] = digits[b>>4], digits[b&0x0f]
	}
	return dst, true
}

// appendUUID reads a uuid's text: hyphenated or not, any case, optionally
// in braces, as PostgreSQL's input accepts.
func appendUUID(dst, s []byte) ([]byte, bool) {
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	var raw [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' && n > 0 && n%4 == 0 && i+1 < len(s) && s[i-1] != '-' { // between groups of four digits
			continue
		}
		v, ok := pgtext.HexValue(s[i])
		if !ok || n == 32 {
			return dst, false
		}
		raw[n/2] |= v << (4 * (1 - n%2))
		n++
	}
	if n != 32 {
		return dst, false
	}
	return appendUUIDBytes(dst, raw[:]), true
}

func appendUUIDBytes(dst, u []byte) []byte {
	for i, part := range [][]byte{u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]} {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = hex.AppendEncode(dst, part)
	}
	return dst
}

// quoteShort quotes a value for an error message, cut to a readable size.
func quoteShort(b []byte) string {
	const limit = 64
	if len(b) <= limit {
		return strconv.Quote(string(b))
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:cut])), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}
