package typemap

import (
	"math/big"
	"strconv"
	"time"
)

// Parsers of PostgreSQL's output text, as COPY TO writes it (and so
// pg_dump, which sets DateStyle ISO, IntervalStyle postgres and
// extra_float_digits 3, but leaves the time zone and bytea_output as the
// session has them). They accept exactly the forms the output functions
// write and refuse anything else: text that is not one of them means a
// damaged dump or a column of another type, not a value to fit.

// parseInt reads int2out/int4out/int8out's text: an optional minus sign
// and decimal digits.
func parseInt(b []byte) (int64, bool) {
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

// parseBool reads boolout's t or f.
func parseBool(b []byte) (bool, bool) {
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

// parseFloat reads float4out/float8out's text: shortest round-trip digits
// (or 9/17 significant digits from servers before 12), "NaN", "Infinity"
// and "-Infinity". bits is 32 for real.
func parseFloat(b []byte, bits int) (float64, bool) {
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

// numericText is numeric_out's text, read: a finite value is
// small×10^exp when big is nil, big×10^exp otherwise.
type numericText struct {
	small int64
	big   *big.Int
	exp   int
	nan   bool
	inf   int
}

// parseNumeric reads numeric_out's text: "NaN", "Infinity", "-Infinity"
// or an optional minus sign, digits and optionally a point and digits
// (numeric_out never writes an exponent). The exponent is minus the
// number of digits after the point, as pgx's binary decoding has it.
func parseNumeric(b []byte) (numericText, bool) {
	switch string(b) {
	case "NaN":
		return numericText{nan: true}, true
	case "Infinity":
		return numericText{inf: 1}, true
	case "-Infinity":
		return numericText{inf: -1}, true
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
			return numericText{}, false
		}
	}
	if digits == 0 || point == len(b)-1 {
		return numericText{}, false
	}
	var out numericText
	if point >= 0 {
		out.exp = -(len(b) - point - 1)
	}
	if digits <= 18 {
		out.small = n
		if neg {
			out.small = -n
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
	out.big, _ = new(big.Int).SetString(string(text), 10)
	return out, true
}

func (n numericText) number() number {
	switch {
	case n.nan:
		return number{nan: true}
	case n.inf != 0:
		return number{inf: n.inf}
	case n.big != nil:
		return number{coef: n.big, exp: n.exp}
	}
	return number{coef: big.NewInt(n.small), exp: n.exp}
}

// parseUUIDText reads uuid_out's text: 8-4-4-4-12 lower-case hex digits.
func parseUUIDText(b []byte) ([16]byte, bool) {
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
		hi, ok1 := fromHex(b[i])
		lo, ok2 := fromHex(b[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

// parseBytea reads byteaout's text in either bytea_output format: hex
// (`\x` then two hex digits a byte) or escape (printable ASCII as itself,
// a backslash doubled, any other byte as a backslash and three octal
// digits). An escape-format value never starts with `\x`: its backslashes
// are doubled. The result is a new slice, never nil.
func parseBytea(b []byte) ([]byte, bool) {
	if len(b) >= 2 && b[0] == '\\' && b[1] == 'x' {
		hexText := b[2:]
		if len(hexText)%2 != 0 {
			return nil, false
		}
		out := make([]byte, len(hexText)/2)
		for i := range out {
			hi, ok1 := fromHex(hexText[2*i])
			lo, ok2 := fromHex(hexText[2*i+1])
			if !ok1 || !ok2 {
				return nil, false
			}
			out[i] = hi<<4 | lo
		}
		return out, true
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
	out := make([]byte, 0, size)
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch {
		case i+1 < len(b) && b[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(b) && isOctal(b[i+1]) && b[i+1] <= '3' && isOctal(b[i+2]) && isOctal(b[i+3]):
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 4
		default:
			return nil, false
		}
	}
	return out, true
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// dateTimeText is a date, timestamp or timestamptz read from its text, or
// one of the infinities (inf ±1).
type dateTimeText struct {
	t   time.Time // in UTC
	inf int
}

// parseDateTime reads date_out, timestamp_out and timestamptz_out's text
// in DateStyle ISO: "infinity", "-infinity" or
//
//	YYYY-MM-DD[ HH:MM:SS[.ffffff][±HH[:MM[:SS]]]][ BC]
//
// where the year has four or more digits and BC follows the offset. A
// timestamptz is converted to UTC by its offset, which is the dump
// session's time zone (seconds appear for local mean time before a zone's
// first standard offset, e.g. +05:53:28).
func parseDateTime(b []byte, withTime, withOffset bool) (dateTimeText, bool) {
	switch string(b) {
	case "infinity":
		return dateTimeText{inf: 1}, true
	case "-infinity":
		return dateTimeText{inf: -1}, true
	}
	bc := false
	if n := len(b); n > 3 && string(b[n-3:]) == " BC" {
		bc, b = true, b[:n-3]
	}
	p := textCursor{b: b}
	year, ok := p.digits(4, 9)
	if !ok || !p.byte('-') {
		return dateTimeText{}, false
	}
	month, ok1 := p.digits(2, 2)
	ok2 := p.byte('-')
	day, ok3 := p.digits(2, 2)
	if !ok1 || !ok2 || !ok3 {
		return dateTimeText{}, false
	}
	var hour, minute, second, micro, offset int
	if withTime {
		if !p.byte(' ') {
			return dateTimeText{}, false
		}
		var ok bool
		if hour, minute, second, micro, ok = p.clock(); !ok || hour > 23 {
			return dateTimeText{}, false
		}
		if withOffset {
			if offset, ok = p.offset(); !ok {
				return dateTimeText{}, false
			}
		}
	}
	if !p.done() || year == 0 || month < 1 || month > 12 || day < 1 {
		return dateTimeText{}, false
	}
	if bc {
		year = 1 - year // 1 BC is year 0, as Go and ISO 8601 count
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, time.UTC)
	if t.Day() != day { // 31 April and the like
		return dateTimeText{}, false
	}
	return dateTimeText{t: t.Add(-time.Duration(offset) * time.Second)}, true
}

// parseTimeOfDay reads time_out's text HH:MM:SS[.ffffff] as microseconds
// since midnight; 24:00:00 is a valid time.
func parseTimeOfDay(b []byte) (int64, bool) {
	p := textCursor{b: b}
	hour, minute, second, micro, ok := p.clock()
	if !ok || !p.done() {
		return 0, false
	}
	us := ((int64(hour)*60+int64(minute))*60+int64(second))*1_000_000 + int64(micro)
	if us > 24*3600*1_000_000 {
		return 0, false
	}
	return us, true
}

// textCursor reads fixed-format text from the front.
type textCursor struct {
	b []byte
	i int
}

func (p *textCursor) done() bool { return p.i == len(p.b) }

func (p *textCursor) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// digits reads between least and most decimal digits.
func (p *textCursor) digits(least, most int) (int, bool) {
	n, start := 0, p.i
	for p.i < len(p.b) && p.i-start < most && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
	}
	return n, p.i-start >= least
}

// clock reads HH:MM:SS[.f{1,6}], the fraction in microseconds.
func (p *textCursor) clock() (hour, minute, second, micro int, ok bool) {
	hour, ok1 := p.digits(2, 2)
	ok2 := p.byte(':')
	minute, ok3 := p.digits(2, 2)
	ok4 := p.byte(':')
	second, ok5 := p.digits(2, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || minute > 59 || second > 59 {
		return 0, 0, 0, 0, false
	}
	if p.byte('.') {
		start := p.i
		frac, ok := p.digits(1, 6)
		if !ok {
			return 0, 0, 0, 0, false
		}
		for n := p.i - start; n < 6; n++ {
			frac *= 10
		}
		micro = frac
	}
	if hour == 24 && (minute != 0 || second != 0 || micro != 0) {
		return 0, 0, 0, 0, false
	}
	return hour, minute, second, micro, hour <= 24
}

// offset reads ±HH[:MM[:SS]] as seconds east of UTC.
func (p *textCursor) offset() (int, bool) {
	sign := 1
	switch {
	case p.byte('+'):
	case p.byte('-'):
		sign = -1
	default:
		return 0, false
	}
	h, ok := p.digits(2, 2)
	if !ok {
		return 0, false
	}
	secs := h * 3600
	for _, unit := range []int{60, 1} {
		if !p.byte(':') {
			break
		}
		n, ok := p.digits(2, 2)
		if !ok || n > 59 {
			return 0, false
		}
		secs += n * unit
	}
	return sign * secs, true
}
