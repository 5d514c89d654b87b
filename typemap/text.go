package typemap

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/internal/pgtext"
)

// textFunc converts one non-NULL value from PostgreSQL's output text, as a
// COPY row holds it once COPY's own escapes are undone. Like convertFunc,
// with clamp it returns the nearest value the target holds where there is
// one, a value that does not fit is a *Misfit error, and any other error
// means the text is not what PostgreSQL writes for the column's type.
type textFunc func(text []byte, clamp bool) (any, error)

// ConvertText converts a non-NULL field's text (PostgreSQL's output text
// for the column's source type, as COPY TO writes it, escapes undone) into
// the value Convert gives for the same value as pgx decodes it, applying
// OnInvalid in the same way. A value that does not fit comes back as a
// *Misfit error; text that is not the source type's output form is
// another error, whatever OnInvalid says: it means a damaged dump or a
// mapping made for another type, which no rule should hide.
func (c *Column) ConvertText(text []byte) (any, error) {
	return c.settle(c.fromText(text, c.OnInvalid == Clamp))
}

// notTextForm is the error for text that is not the source type's output.
func notTextForm(typ string) error {
	return fmt.Errorf("not PostgreSQL's text form of %s (a damaged dump, or a column of another type)", typ)
}

// textConverterFor builds the text converter of a column whose source
// kind is src (real: PostgreSQL's real, which pgx reads as float32) and
// whose pgx-value converter for target t is conv. Common pairs parse
// straight to the target's value; the others read the text as the value
// pgx would give and call conv, so that both paths agree by construction.
func textConverterFor(src sourceKind, typ string, real bool, t Target, conv convertFunc) textFunc {
	bad := func() (any, error) { return nil, notTextForm(typ) }
	switch t.kind() {
	case kindString:
		unicode := t.Name == "nvarchar" || t.Name == "nchar"
		return func(text []byte, clamp bool) (any, error) {
			s, ok := stringForm(src, text)
			if !ok {
				return bad()
			}
			if unicode {
				return fitUnicode(s, t, clamp)
			}
			return fitASCII(s, t, clamp)
		}
	case kindInt:
		if src == srcInt {
			fit := intFit(t.Name)
			return func(text []byte, clamp bool) (any, error) {
				n, ok := pgtext.ParseInt(text)
				if !ok {
					return bad()
				}
				return fit(n, clamp)
			}
		}
	case kindFloat:
		if src == srcFloat {
			fit, bits := floatFit(t.Name == "real"), floatBits(real)
			return func(text []byte, clamp bool) (any, error) {
				f, ok := pgtext.ParseFloat(text, bits)
				if !ok {
					return bad()
				}
				return fit(f, clamp)
			}
		}
	case kindDecimal:
		f := newDecimalFit(t.Precision, t.Scale)
		switch src {
		case srcInt:
			return func(text []byte, clamp bool) (any, error) {
				n, ok := pgtext.ParseInt(text)
				if !ok {
					return bad()
				}
				return f.int64(n, 0, clamp)
			}
		case srcNumeric:
			return func(text []byte, clamp bool) (any, error) {
				n, ok := pgtext.ParseNumeric(text)
				switch {
				case !ok:
					return bad()
				case n.Big == nil && !n.NaN && n.Inf == 0:
					return f.int64(n.Small, n.Exp, clamp)
				}
				return f.number(numberOf(n), clamp)
			}
		case srcFloat:
			bits := floatBits(real)
			return func(text []byte, clamp bool) (any, error) {
				v, ok := pgtext.ParseFloat(text, bits)
				if !ok {
					return bad()
				}
				return f.float(v, clamp)
			}
		}
	case kindBit:
		if src == srcBool {
			return func(text []byte, _ bool) (any, error) {
				b, ok := pgtext.ParseBool(text)
				if !ok {
					return bad()
				}
				return b, nil
			}
		}
	case kindBinary:
		if src == srcBytes {
			return func(text []byte, clamp bool) (any, error) {
				b, ok := pgtext.DecodeBytea(text)
				if !ok {
					return bad()
				}
				return fitBinary(b, t, clamp)
			}
		}
	case kindGUID:
		if src == srcUUID {
			return func(text []byte, _ bool) (any, error) {
				u, ok := pgtext.ParseUUID(text)
				if !ok {
					return bad()
				}
				return guidWire(u), nil
			}
		}
	case kindDatetime2, kindDatetimeOffset:
		f := newDateTimeFit(t.Scale, t.kind() == kindDatetimeOffset)
		if src == srcTimestamp || src == srcTimestampTZ || src == srcDate {
			layout := dateTimeLayout(src)
			return func(text []byte, clamp bool) (any, error) {
				d, ok := pgtext.ParseDateTime(text, layout, pgtext.Exact)
				switch {
				case !ok:
					return bad()
				case d.Inf != 0:
					return f.infinity(d.Inf, clamp)
				}
				return f.time(d.Time(), clamp)
			}
		}
	case kindDate:
		if src == srcTimestamp || src == srcDate {
			layout := dateTimeLayout(src)
			return func(text []byte, clamp bool) (any, error) {
				d, ok := pgtext.ParseDateTime(text, layout, pgtext.Exact)
				switch {
				case !ok:
					return bad()
				case d.Inf != 0:
					return dateInfinity(d.Inf, clamp)
				}
				return fitDate(d.Time(), clamp)
			}
		}
	case kindTime:
		if src == srcTime {
			fit := timeFit(t.Scale)
			return func(text []byte, clamp bool) (any, error) {
				d, ok := pgtext.ParseTime(text, pgtext.Exact)
				if !ok {
					return bad()
				}
				return fit(d.Micros(), clamp)
			}
		}
	}
	return func(text []byte, clamp bool) (any, error) {
		v, ok := pgxValue(src, real, text)
		if !ok {
			return bad()
		}
		return conv(v, clamp)
	}
}

// dateTimeLayout is the text layout of a date, timestamp or timestamptz.
func dateTimeLayout(src sourceKind) pgtext.Layout {
	switch src {
	case srcTimestamp:
		return pgtext.Timestamp
	case srcTimestampTZ:
		return pgtext.TimestampTZ
	}
	return pgtext.Date
}

func floatBits(real bool) int {
	if real {
		return 32
	}
	return 64
}

// stringForm is the string the staging query's ::text cast reads for a
// character target. It is the output text itself except where
// PostgreSQL's cast to text differs from the type's output function:
// boolean casts to true/false, inet and cidr to text with the mask always
// written; and bytea, whose output format is the dump session's
// bytea_output, always reads as hex, the server's default.
func stringForm(src sourceKind, text []byte) (string, bool) {
	switch src {
	case srcBool:
		b, ok := pgtext.ParseBool(text)
		if !ok {
			return "", false
		}
		if b {
			return "true", true
		}
		return "false", true
	case srcBytes:
		if len(text) >= 2 && text[0] == '\\' && text[1] == 'x' {
			return string(text), true
		}
		b, ok := pgtext.DecodeBytea(text)
		if !ok {
			return "", false
		}
		return formatByteaHex(b), true
	case srcInet:
		// network_show writes the mask that inet_out leaves out when it
		// covers the whole address.
		if !bytes.ContainsRune(text, '/') {
			if bytes.ContainsRune(text, ':') {
				return string(text) + "/128", true
			}
			return string(text) + "/32", true
		}
	}
	return string(text), true
}

// formatByteaHex writes bytes as byteaout's hex format: \x and two
// lower-case hex digits a byte.
func formatByteaHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2+2*len(b))
	out[0], out[1] = '\\', 'x'
	for i, c := range b {
		out[2+2*i], out[3+2*i] = digits[c>>4], digits[c&0xf]
	}
	return string(out)
}

// pgxValue reads text as the Go value pgx decodes for a column of source
// kind src (real: float4) read without a cast. Kinds read through a cast
// to text, and text kinds, give the string.
func pgxValue(src sourceKind, real bool, text []byte) (any, bool) {
	switch src {
	case srcInt:
		n, ok := pgtext.ParseInt(text)
		return n, ok
	case srcFloat:
		f, ok := pgtext.ParseFloat(text, floatBits(real))
		if real {
			return float32(f), ok
		}
		return f, ok
	case srcNumeric:
		n, ok := pgtext.ParseNumeric(text)
		if !ok {
			return nil, false
		}
		switch {
		case n.NaN:
			return pgtype.Numeric{NaN: true, Valid: true}, true
		case n.Inf > 0:
			return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, true
		case n.Inf < 0:
			return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, true
		}
		// As pgx decodes numeric: zero as 0, an integer without its
		// trailing zeros, a fraction to its scale.
		d := numberOf(n)
		switch {
		case d.coef.Sign() == 0:
			d.exp = 0
		case d.exp >= 0:
			ten, r := big.NewInt(10), new(big.Int)
			for {
				q, _ := new(big.Int).QuoRem(d.coef, ten, r)
				if r.Sign() != 0 {
					break
				}
				d.coef = q
				d.exp++
			}
		}
		return pgtype.Numeric{Int: d.coef, Exp: int32(d.exp), Valid: true}, true
	case srcBool:
		return pgtext.ParseBool(text)
	case srcBytes:
		return pgtext.DecodeBytea(text)
	case srcUUID:
		return pgtext.ParseUUID(text)
	case srcTimestamp, srcTimestampTZ, srcDate:
		d, ok := pgtext.ParseDateTime(text, dateTimeLayout(src), pgtext.Exact)
		switch {
		case !ok:
			return nil, false
		case d.Inf > 0:
			return pgtype.Infinity, true
		case d.Inf < 0:
			return pgtype.NegativeInfinity, true
		case src == srcTimestampTZ:
			// pgx gives a timestamptz in the local time zone.
			return d.Time().In(time.Local), true
		}
		return d.Time(), true
	case srcTime:
		d, ok := pgtext.ParseTime(text, pgtext.Exact)
		return pgtype.Time{Microseconds: d.Micros(), Valid: true}, ok
	}
	return string(text), true
}

// readValue is the value the old path reads for the column: pgx's value,
// or the string under the column's ::text cast.
func (c *Column) readValue(text []byte) (any, bool) {
	if c.Target.kind() == kindString {
		return stringForm(c.source, text)
	}
	return pgxValue(c.source, c.real, text)
}

// formatText renders a field for an error message as FormatValue renders
// the value the old path read; text that does not parse is shown quoted.
func (c *Column) formatText(text []byte) string {
	if v, ok := c.readValue(text); ok {
		return FormatValue(v)
	}
	return FormatValue(strings.Clone(string(text)))
}
