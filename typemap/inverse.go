package typemap

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// SQLServerColumn is a SQL Server column type as sys.columns describes it.
type SQLServerColumn struct {
	// Type is the system type's name, lower case: "nvarchar", "decimal".
	Type string
	// MaxLength is sys.columns.max_length: bytes, -1 for (max).
	MaxLength int
	Precision int
	Scale     int
}

// ErrNoInverse is wrapped by PostgresType when a SQL Server type has no
// PostgreSQL type that holds its values exactly.
var ErrNoInverse = errors.New("no PostgreSQL type holds its values exactly")

// PostgresType is the PostgreSQL type Mendix uses for a SQL Server column
// type: the inverse of the default rules (bigint, int, smallint, bit,
// nvarchar(n|max), nchar, decimal(p,s), float, real, date, datetime2,
// datetimeoffset, time, varbinary, uniqueidentifier), plus the SQL Server
// types whose values a PostgreSQL type holds exactly (tinyint, varchar,
// char, datetime, smalldatetime, money, binary, text, ntext, image, xml).
// Anything else is an error wrapping ErrNoInverse.
func PostgresType(c SQLServerColumn) (pgcatalog.Type, error) {
	t := pgcatalog.Type{Length: -1, Precision: -1, Scale: -1, Kind: 'b'}
	set := func(base, text string) (pgcatalog.Type, error) {
		t.Base, t.Text = base, text
		return t, nil
	}
	switch strings.ToLower(c.Type) {
	case "bigint":
		return set("bigint", "bigint")
	case "int":
		return set("integer", "integer")
	case "smallint", "tinyint":
		return set("smallint", "smallint")
	case "bit":
		return set("boolean", "boolean")
	case "float":
		if c.Precision > 0 && c.Precision <= 24 {
			return set("real", "real")
		}
		return set("double precision", "double precision")
	case "real":
		return set("real", "real")
	case "decimal", "numeric":
		t.Precision, t.Scale = c.Precision, c.Scale
		return set("numeric", fmt.Sprintf("numeric(%d,%d)", c.Precision, c.Scale))
	case "money":
		t.Precision, t.Scale = 19, 4
		return set("numeric", "numeric(19,4)")
	case "smallmoney":
		t.Precision, t.Scale = 10, 4
		return set("numeric", "numeric(10,4)")
	case "nvarchar", "varchar":
		if c.MaxLength == -1 {
			return set("text", "text")
		}
		t.Length = c.MaxLength
		if c.Type == "nvarchar" {
			t.Length /= 2
		}
		return set("character varying", fmt.Sprintf("character varying(%d)", t.Length))
	case "nchar", "char":
		t.Length = c.MaxLength
		if c.Type == "nchar" {
			t.Length /= 2
		}
		return set("character", fmt.Sprintf("character(%d)", t.Length))
	case "text", "ntext", "xml", "sysname":
		return set("text", "text")
	case "varbinary", "binary", "image", "timestamp", "rowversion":
		return set("bytea", "bytea")
	case "uniqueidentifier":
		return set("uuid", "uuid")
	case "date":
		return set("date", "date")
	case "datetime2":
		return fractionalType(t, "timestamp", "without time zone", c.Scale)
	case "datetime":
		// 1/300 s ticks, which SQL Server shows rounded to milliseconds.
		return fractionalType(t, "timestamp", "without time zone", 3)
	case "smalldatetime":
		return fractionalType(t, "timestamp", "without time zone", 0)
	case "datetimeoffset":
		return fractionalType(t, "timestamp", "with time zone", c.Scale)
	case "time":
		return fractionalType(t, "time", "without time zone", c.Scale)
	}
	return t, fmt.Errorf("SQL Server type %s: %w", c.Type, ErrNoInverse)
}

// fractionalType is timestamp or time with fractional digits: six (a
// scale of 6 or 7, the 7th digit must then be zero in every value) is the
// type without a modifier, as Mendix declares it.
func fractionalType(t pgcatalog.Type, name, zone string, scale int) (pgcatalog.Type, error) {
	t.Base = name + " " + zone
	if scale >= 6 || scale < 0 {
		t.Text = t.Base
		return t, nil
	}
	t.Precision = scale
	t.Text = fmt.Sprintf("%s(%d) %s", name, scale, zone)
	return t, nil
}

// AppendCopyText appends v, a value go-mssqldb returned for a column whose
// PostgreSQL type is t (as PostgresType gave it), as COPY TO writes it in
// text format, escapes included; nil is \N. Values PostgreSQL cannot hold
// exactly (a NUL character, a time with 100-nanosecond digits) are errors.
func AppendCopyText(dst []byte, t pgcatalog.Type, v any) ([]byte, error) {
	if v == nil {
		return append(dst, `\N`...), nil
	}
	switch t.Base {
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(dst, x, 10), nil
		case int32:
			return strconv.AppendInt(dst, int64(x), 10), nil
		case int16:
			return strconv.AppendInt(dst, int64(x), 10), nil
		case uint8:
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			if b {
				return append(dst, 't'), nil
			}
			return append(dst, 'f'), nil
		}
	case "double precision", "real":
		bits := 64
		if t.Base == "real" {
			bits = 32
		}
		switch x := v.(type) {
		case float64:
			return appendFloat(dst, x, bits), nil
		case float32:
			return appendFloat(dst, float64(x), 32), nil
		}
	case "numeric":
		switch x := v.(type) {
		case []byte:
			return appendEscaped(dst, string(x))
		case string:
			return appendEscaped(dst, x)
		}
	case "character varying", "character", "text":
		switch x := v.(type) {
		case string:
			if t.Base == "character" && t.Length > 0 {
				// char(n) pads with spaces, as PostgreSQL's bpchar prints.
				if n := utf8.RuneCountInString(x); n < t.Length {
					x += strings.Repeat(" ", t.Length-n)
				}
			}
			return appendEscaped(dst, x)
		case []byte:
			return appendEscaped(dst, string(x))
		}
	case "bytea":
		if b, ok := v.([]byte); ok {
			// \x and hex digits; COPY doubles the backslash.
			dst = append(dst, `\\x`...)
			const hexDigits = "0123456789abcdef"
			for _, c := range b {
				dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
			}
			return dst, nil
		}
	case "uuid":
		switch x := v.(type) {
		case []byte:
			if len(x) == 16 {
				return append(dst, guidText(x)...), nil
			}
		case string:
			return append(dst, strings.ToLower(x)...), nil
		}
	case "date":
		if x, ok := v.(time.Time); ok {
			return x.AppendFormat(dst, "2006-01-02"), nil
		}
	case "timestamp without time zone", "timestamp with time zone", "time without time zone":
		x, ok := v.(time.Time)
		if !ok {
			break
		}
		if x.Nanosecond()%1000 != 0 {
			return dst, fmt.Errorf("%s has digits below the microsecond, which %s cannot hold", x.Format(time.RFC3339Nano), t.Text)
		}
		switch t.Base {
		case "time without time zone":
			return x.AppendFormat(dst, "15:04:05.999999"), nil
		case "timestamp with time zone":
			return x.UTC().AppendFormat(dst, "2006-01-02 15:04:05.999999+00"), nil
		}
		return x.AppendFormat(dst, "2006-01-02 15:04:05.999999"), nil
	}
	return dst, fmt.Errorf("a %T value cannot be written as %s", v, t.Text)
}

// appendFloat writes a float as PostgreSQL 12 and later print it: the
// shortest text that reads back as the same value.
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

// appendEscaped writes text as COPY TO does (CopyAttributeOutText): a
// backslash before backslash, and \b \f \n \r \t \v for those control
// characters; other bytes as they are. PostgreSQL text cannot hold NUL.
func appendEscaped(dst []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return dst, errors.New("text with a NUL character, which PostgreSQL cannot store")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\v':
			dst = append(dst, '\\', 'v')
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// guidText is the lower-case text of a uniqueidentifier as SQL Server
// sends it: its first three groups little-endian.
func guidText(b []byte) string {
	u := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
