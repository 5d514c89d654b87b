package typemap

import (
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// badText marks a case whose text is not the source type's output form:
// a hard error, not a misfit, whatever the rule says.
type badText struct{}

var (
	tTimetz   = pgType("time with time zone", "time with time zone", -1, -1, -1)
	tInterval = pgType("interval", "interval", -1, -1, -1)
	tInet     = pgType("inet", "inet", -1, -1, -1)
	tIntArray = pgType("integer[]", "integer[]", -1, -1, -1)
	tStamp3   = pgType("timestamp(3) without time zone", "timestamp without time zone", -1, 3, -1)
)

func TestConvertText(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	guidWireBytes := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	tests := []struct {
		name   string
		typ    pgcatalog.Type
		to     string
		action Action
		text   string
		want   any // a misfitValue when the value must not fit, badText when the text is refused
	}{
		// integers.
		{"bigint max", tBigint, "", "", "9223372036854775807", int64(math.MaxInt64)},
		{"bigint min", tBigint, "", "", "-9223372036854775808", int64(math.MinInt64)},
		{"bigint beyond max", tBigint, "", "", "9223372036854775808", badText{}},
		{"bigint beyond min", tBigint, "", "", "-9223372036854775809", badText{}},
		{"integer zero", tInteger, "", "", "0", int64(0)},
		{"minus zero", tInteger, "", "", "-0", int64(0)},
		{"smallint min", tSmallint, "", "", "-32768", int64(-32768)},
		{"integer empty", tInteger, "", "", "", badText{}},
		{"integer lone minus", tInteger, "", "", "-", badText{}},
		{"integer plus sign", tInteger, "", "", "+1", badText{}},
		{"integer space", tInteger, "", "", " 1", badText{}},
		{"integer text \\N", tInteger, "", "", `\N`, badText{}},
		{"integer fraction", tInteger, "", "", "1.0", badText{}},
		{"bad text is not nulled", tBigint, "int", Null, "x", badText{}},
		{"bad text is not clamped", tBigint, "int", Clamp, "x", badText{}},
		{"bigint to int overflow", tBigint, "int", "", "1099511627776", misfitValue{"above int's maximum"}},
		{"bigint to int clamped", tBigint, "int", Clamp, "-1099511627776", int64(math.MinInt32)},
		{"bigint to int null", tBigint, "int", Null, "1099511627776", nil},
		{"smallint to tinyint negative", tSmallint, "tinyint", "", "-1", misfitValue{"below tinyint's minimum 0"}},
		{"bool to int", tBool, "int", "", "t", int64(1)},
		{"bool to int false", tBool, "int", "", "f", int64(0)},
		{"integer to decimal", tInteger, "decimal(5,2)", "", "999", "999.00"},
		{"integer to decimal overflow", tInteger, "decimal(5,2)", "", "1000", misfitValue{"more than 5 digits"}},
		{"bigint min to decimal", tBigint, "decimal(38,0)", "", "-9223372036854775808", "-9223372036854775808"},
		{"bigint to float inexact", tBigint, "float", "", "9007199254740993", misfitValue{"no exact float equivalent"}},
		{"bigint to float exact", tBigint, "float", "", "9007199254740992", float64(1 << 53)},

		// numeric(28,8), Mendix's Decimal, and the others.
		{"numeric max", tNumeric288, "", "", "99999999999999999999.99999999", "99999999999999999999.99999999"},
		{"numeric min", tNumeric288, "", "", "-99999999999999999999.99999999", "-99999999999999999999.99999999"},
		{"numeric smallest", tNumeric288, "", "", "0.00000001", "0.00000001"},
		{"numeric negative smallest", tNumeric288, "", "", "-0.00000001", "-0.00000001"},
		{"numeric zero", tNumeric288, "", "", "0.00000000", "0.00000000"},
		{"numeric negative zero", tNumeric, "decimal(5,1)", "", "-0.000", "0.0"},
		{"numeric padded", tNumeric288, "", "", "1.5", "1.50000000"},
		{"numeric 18 digits", tNumeric288, "", "", "1234567890.12345678", "1234567890.12345678"},
		{"numeric 19 digits", tNumeric288, "", "", "12345678901.12345678", "12345678901.12345678"},
		{"numeric integer", tNumeric288, "", "", "12345678901234567890", "12345678901234567890.00000000"},
		{"numeric too many digits", tNumeric288, "", "", "100000000000000000000.00000000", misfitValue{"more than 28 digits (20 before the decimal point)"}},
		{"numeric overflow clamped", tNumeric288, "", Clamp, "-123456789012345678901234", "-99999999999999999999.99999999"},
		{"numeric too many places", tNumeric, "decimal(10,2)", "", "1.005", misfitValue{"more than 2 decimal places"}},
		{"numeric trailing zeros fit", tNumeric, "decimal(10,2)", "", "1.50000000000000000000000000000", "1.50"},
		{"numeric rounded half away", tNumeric, "decimal(10,2)", Clamp, "-1.005", "-1.01"},
		{"numeric rounded down", tNumeric, "decimal(10,2)", Clamp, "1.004", "1.00"},
		{"numeric huge precision", tNumeric, "decimal(38,10)", "", "1" + strings.Repeat("0", 100) + ".5", misfitValue{"more than 38 digits"}},
		{"numeric huge scale clamped", tNumeric, "decimal(38,10)", Clamp, "0." + strings.Repeat("3", 1000), "0.3333333333"},
		{"numeric NaN", tNumeric, "decimal(38,10)", "", "NaN", misfitValue{"NaN"}},
		{"numeric NaN not clampable", tNumeric, "decimal(38,10)", Clamp, "NaN", misfitValue{"NaN"}},
		{"numeric NaN to null", tNumeric, "decimal(38,10)", Null, "NaN", nil},
		{"numeric infinity", tNumeric, "decimal(4,1)", "", "Infinity", misfitValue{"infinity"}},
		{"numeric infinity clamped", tNumeric, "decimal(4,1)", Clamp, "Infinity", "999.9"},
		{"numeric -infinity clamped", tNumeric, "decimal(4,1)", Clamp, "-Infinity", "-999.9"},
		{"numeric 38 digits", tNumeric, "decimal(38,0)", "", strings.Repeat("9", 38), strings.Repeat("9", 38)},
		{"numeric lower-case nan", tNumeric, "decimal(38,10)", "", "nan", badText{}},
		{"numeric exponent", tNumeric, "decimal(38,10)", "", "1e5", badText{}},
		{"numeric bare point", tNumeric, "decimal(38,10)", "", "1.", badText{}},
		{"numeric leading point", tNumeric, "decimal(38,10)", "", ".5", badText{}},
		{"numeric to bigint", tNumeric288, "bigint", "", "42.00000000", int64(42)},
		{"numeric fraction to bigint", tNumeric288, "bigint", "", "42.50000000", misfitValue{"not a whole number"}},
		{"numeric to bigint overflow", tNumeric, "bigint", "", "1000000000000000000000000000000", misfitValue{"out of the integer range"}},
		{"numeric to bigint clamped", tNumeric, "bigint", Clamp, "-1000000000000000000000000000000", int64(math.MinInt64)},
		{"numeric NaN to bigint", tNumeric, "bigint", Clamp, "NaN", misfitValue{"NaN"}},
		{"numeric to float", tNumeric288, "float", "", "0.10000000", 0.1},
		{"numeric infinity to float", tNumeric, "float", "", "Infinity", misfitValue{"out of float's range"}},
		{"numeric -infinity to float clamped", tNumeric, "float", Clamp, "-Infinity", -math.MaxFloat64},

		// floats: shortest round-trip text; SQL Server has no NaN or infinity.
		{"double", tFloat8, "", "", "1e+308", 1e308},
		{"double max", tFloat8, "", "", "1.7976931348623157e+308", math.MaxFloat64},
		{"double tiny", tFloat8, "", "", "-1e-300", -1e-300},
		{"double denormal", tFloat8, "", "", "5e-324", 5e-324},
		{"double 17 digits", tFloat8, "", "", "0.10000000000000001", 0.1},
		{"double minus zero", tFloat8, "", "", "-0", math.Copysign(0, -1)},
		{"double NaN", tFloat8, "", "", "NaN", misfitValue{"NaN"}},
		{"double NaN clamped", tFloat8, "", Clamp, "NaN", misfitValue{"NaN"}},
		{"double infinity", tFloat8, "", "", "Infinity", misfitValue{"no infinity"}},
		{"double infinity clamped", tFloat8, "", Clamp, "-Infinity", -math.MaxFloat64},
		{"double infinity null", tFloat8, "", Null, "Infinity", nil},
		{"double Go infinity", tFloat8, "", "", "+Inf", badText{}},
		{"double hex", tFloat8, "", "", "0x1p-2", badText{}},
		{"double underscore", tFloat8, "", "", "1_000", badText{}},
		{"double out of range", tFloat8, "", "", "1e309", badText{}},
		{"real", tFloat4, "", "", "1.5", 1.5},
		{"real shortest", tFloat4, "", "", "0.1", float64(float32(0.1))},
		{"real max", tFloat4, "", "", "3.4028235e+38", float64(math.MaxFloat32)},
		{"real smallest", tFloat4, "", "", "1e-45", float64(math.SmallestNonzeroFloat32)},
		{"real 9 digits", tFloat4, "", "", "0.100000001", float64(float32(0.1))},
		{"real infinity clamped", tFloat4, "", Clamp, "Infinity", float64(math.MaxFloat32)},
		{"double to real inexact", tFloat8, "real", "", "0.1", misfitValue{"no exact real equivalent"}},
		{"double to real clamped", tFloat8, "real", Clamp, "0.1", 0.1},
		{"real to float", tFloat4, "float", "", "0.1", float64(float32(0.1))},
		{"float to decimal", tFloat8, "decimal(10,3)", "", "1.25", "1.250"},
		{"float to decimal inexact", tFloat8, "decimal(10,3)", "", "0.0001", misfitValue{"more than 3 decimal places"}},
		{"float NaN to decimal", tFloat8, "decimal(10,3)", "", "NaN", misfitValue{"NaN"}},
		{"real to decimal", tFloat4, "decimal(20,12)", Clamp, "0.1", "0.100000001490"},
		{"float to bigint", tFloat8, "bigint", "", "1e+15", int64(1e15)},
		{"float fraction to bigint", tFloat8, "bigint", "", "1.5", misfitValue{"not a whole number"}},

		// boolean.
		{"bool true", tBool, "", "", "t", true},
		{"bool false", tBool, "", "", "f", false},
		{"bool word", tBool, "", "", "true", badText{}},
		{"bool to nvarchar", tBool, "nvarchar(5)", "", "t", "true"},
		{"bool to nvarchar false", tBool, "nvarchar(5)", "", "f", "false"},

		// text: UTF-16 code units; empty is not NULL; `\N` as text is text.
		{"empty string", tText, "", "", "", ""},
		{"text \\N", tText, "", "", `\N`, `\N`},
		{"escaped tab newline backslash", tText, "", "", "a\tb\nc\\d\re", "a\tb\nc\\d\re"},
		{"beyond the BMP", tText, "", "", "😀 𝄞", "😀 𝄞"},
		{"varchar fits", tVarchar5, "", "", "ab😀c", "ab😀c"},
		{"varchar surrogate overflow", tVarchar5, "", "", "😀😀😀", misfitValue{"longer than 5 UTF-16 code units"}},
		{"varchar clamped at pair", tVarchar5, "", Clamp, "abcd😀", "abcd"},
		{"varchar too long null", tVarchar5, "", Null, "abcdef", nil},
		{"char keeps padding", tChar3, "", "", "a  ", "a  "},
		{"invalid UTF-8", tText, "", "", "a\xffb", misfitValue{"not valid UTF-8"}},
		{"invalid UTF-8 clamped", tText, "", Clamp, "a\xffb", "a\uFFFDb"},
		{"varchar ASCII", tText, "varchar(10)", "", "plain", "plain"},
		{"varchar non-ASCII", tText, "varchar(10)", "", "ünï", misfitValue{"non-ASCII"}},
		{"varchar non-ASCII clamped", tText, "varchar(10)", Clamp, "ünï", misfitValue{"non-ASCII"}},
		{"varchar too long clamped", tText, "varchar(3)", Clamp, "abcdef", "abc"},
		{"jsonb as text", tJSONB, "", "", `{"a": 1, "b": "😀\\n"}`, `{"a": 1, "b": "😀\\n"}`},
		{"json null", tJSONB, "", "", `null`, `null`},

		// other types through a text rule: the output text itself.
		{"timetz", tTimetz, "nvarchar(40)", "", "23:59:59.999999-05:30", "23:59:59.999999-05:30"},
		{"interval", tInterval, "nvarchar(max)", "", "1 year 2 mons -3 days 04:05:06.000007", "1 year 2 mons -3 days 04:05:06.000007"},
		{"integer array", tIntArray, "nvarchar(max)", "", "{1,NULL,3}", "{1,NULL,3}"},
		{"integer as text", tInteger, "nvarchar(20)", "", "-5", "-5"},
		{"numeric as text", tNumeric288, "nvarchar(40)", "", "1.50000000", "1.50000000"},
		{"timestamp as text", tTimestamp, "nvarchar(40)", "", "0044-03-15 10:00:00 BC", "0044-03-15 10:00:00 BC"},
		{"inet as text", tInet, "nvarchar(50)", "", "192.168.0.1", "192.168.0.1/32"},
		{"inet v6 as text", tInet, "nvarchar(50)", "", "::1", "::1/128"},
		{"inet with mask as text", tInet, "nvarchar(50)", "", "10.0.0.0/8", "10.0.0.0/8"},
		{"bytea as text", tBytea, "nvarchar(max)", "", `\x00ff`, `\x00ff`},
		{"escaped bytea as text is hex", tBytea, "nvarchar(max)", "", `a\000\\`, `\x61005c`},

		// bytea in hex and escape format.
		{"bytea hex zero bytes", tBytea, "", "", `\x00ff00`, []byte{0, 0xff, 0}},
		{"bytea hex upper case", tBytea, "", "", `\x0A0B`, []byte{10, 11}},
		{"bytea hex empty", tBytea, "", "", `\x`, []byte{}},
		{"bytea hex odd", tBytea, "", "", `\x0`, badText{}},
		{"bytea hex not hex", tBytea, "", "", `\x0g`, badText{}},
		{"bytea escape zero bytes", tBytea, "", "", `\000a\000`, []byte{0, 'a', 0}},
		{"bytea escape backslash", tBytea, "", "", `\\x00`, []byte{'\\', 'x', '0', '0'}},
		{"bytea escape high bytes", tBytea, "", "", `\377\200~ `, []byte{0xff, 0x80, '~', ' '}},
		{"bytea escape empty", tBytea, "", "", ``, []byte{}},
		{"bytea escape lone backslash", tBytea, "", "", `a\`, badText{}},
		{"bytea escape short octal", tBytea, "", "", `\00`, badText{}},
		{"bytea escape octal too big", tBytea, "", "", `\400`, badText{}},
		{"bytea too long", tBytea, "varbinary(2)", "", `\x010203`, misfitValue{"longer than 2 bytes"}},
		{"bytea too long clamped", tBytea, "varbinary(2)", Clamp, `\001\002\003`, []byte{1, 2}},
		{"bytea binary pads", tBytea, "binary(4)", "", `\x01`, misfitValue{"pad it with zeros"}},

		// uuid: SQL Server's byte order.
		{"uuid", tUUID, "", "", "6f9619ff-8b86-d011-b42d-00c04fc964ff", guidWireBytes},
		{"uuid upper case", tUUID, "", "", "6F9619FF-8B86-D011-B42D-00C04FC964FF", guidWireBytes},
		{"uuid nil", tUUID, "", "", "00000000-0000-0000-0000-000000000000", make([]byte, 16)},
		{"uuid no hyphens", tUUID, "", "", "6f9619ff8b86d011b42d00c04fc964ff", badText{}},
		{"uuid short", tUUID, "", "", "6f9619ff-8b86-d011-b42d-00c04fc964f", badText{}},
		{"uuid to nvarchar", tUUID, "nvarchar(36)", "", "6f9619ff-8b86-d011-b42d-00c04fc964ff", "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{"text uuid", tText, "uniqueidentifier", "", "{6f9619ff-8b86-d011-b42d-00c04fc964ff}", guidWireBytes},
		{"text not a uuid", tText, "uniqueidentifier", "", "6f9619ff", misfitValue{"not a UUID"}},

		// timestamps: microseconds kept, year 1 and 9999, no infinity.
		{"timestamp", tTimestamp, "", "", "2024-02-29 13:14:15.123456", utc(2024, 2, 29, 13, 14, 15, 123456000)},
		{"timestamp no fraction", tTimestamp, "", "", "2024-02-29 13:14:15", utc(2024, 2, 29, 13, 14, 15, 0)},
		{"timestamp short fraction", tTimestamp, "", "", "2024-02-29 13:14:15.5", utc(2024, 2, 29, 13, 14, 15, 500000000)},
		{"timestamp microsecond", tTimestamp, "", "", "2020-01-01 00:00:00.000001", utc(2020, 1, 1, 0, 0, 0, 1000)},
		{"timestamp year 1", tTimestamp, "", "", "0001-01-01 00:00:00", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp year 9999", tTimestamp, "", "", "9999-12-31 23:59:59.999999", utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamp infinity", tTimestamp, "", "", "infinity", misfitValue{"infinity: SQL Server's datetime2 has no infinity"}},
		{"timestamp infinity clamped", tTimestamp, "", Clamp, "infinity", utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamp -infinity clamped", tTimestamp, "", Clamp, "-infinity", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp -infinity null", tTimestamp, "", Null, "-infinity", nil},
		{"timestamp 1 BC", tTimestamp, "", "", "0001-12-31 23:59:59.999999 BC", misfitValue{"before 0001-01-01"}},
		{"timestamp BC clamped", tTimestamp, "", Clamp, "0044-03-15 10:00:00 BC", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamp year 10000", tTimestamp, "", "", "10000-01-01 00:00:00", misfitValue{"after 9999-12-31"}},
		{"timestamp year 294276 clamped", tTimestamp, "", Clamp, "294276-12-31 23:59:59.999999", utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamp to datetime2(3)", tTimestamp, "datetime2(3)", "", "2020-01-01 00:00:00.0015", misfitValue{"more fractional second digits"}},
		{"timestamp to datetime2(3) clamped", tTimestamp, "datetime2(3)", Clamp, "2020-01-01 00:00:00.0015", utc(2020, 1, 1, 0, 0, 0, 1000000)},
		{"timestamp(3) column", tStamp3, "", "", "2024-02-29 23:59:59.999", utc(2024, 2, 29, 23, 59, 59, 999000000)},
		{"timestamp to date", tTimestamp, "date", "", "2020-01-01 10:00:00", misfitValue{"time of day"}},
		{"timestamp to date midnight", tTimestamp, "date", "", "2020-01-01 00:00:00", utc(2020, 1, 1, 0, 0, 0, 0)},
		{"timestamp to datetimeoffset", tTimestamp, "datetimeoffset(6)", "", "2020-01-01 10:00:00", utc(2020, 1, 1, 10, 0, 0, 0)},
		{"timestamp 31 April", tTimestamp, "", "", "2024-04-31 00:00:00", badText{}},
		{"timestamp 29 February 2023", tTimestamp, "", "", "2023-02-29 00:00:00", badText{}},
		{"timestamp hour 24", tTimestamp, "", "", "2024-01-01 24:00:00", badText{}},
		{"timestamp seven fraction digits", tTimestamp, "", "", "2024-01-01 00:00:00.1234567", badText{}},
		{"timestamp with offset", tTimestamp, "", "", "2024-01-01 00:00:00+00", badText{}},
		{"timestamp T", tTimestamp, "", "", "2024-01-01T00:00:00", badText{}},
		{"timestamp year 0", tTimestamp, "", "", "0000-01-01 00:00:00", badText{}},
		{"timestamp Infinity", tTimestamp, "", "", "Infinity", badText{}},

		// timestamptz: the dump's offset, to UTC.
		{"timestamptz UTC", tTimestamptz, "", "", "2021-06-30 21:59:59.999999+00", utc(2021, 6, 30, 21, 59, 59, 999999000)},
		{"timestamptz +02", tTimestamptz, "", "", "2021-06-30 23:59:59.999999+02", utc(2021, 6, 30, 21, 59, 59, 999999000)},
		{"timestamptz +05:30", tTimestamptz, "", "", "2021-07-01 03:29:59.999999+05:30", utc(2021, 6, 30, 21, 59, 59, 999999000)},
		{"timestamptz LMT +05:53:28", tTimestamptz, "", "", "1850-01-01 05:53:28+05:53:28", utc(1850, 1, 1, 0, 0, 0, 0)},
		{"timestamptz LMT -10:29:20", tTimestamptz, "", "", "0001-01-01 00:00:00-10:29:20", utc(1, 1, 1, 10, 29, 20, 0)},
		{"timestamptz +14 across the year", tTimestamptz, "", "", "2000-01-01 00:00:00.000001+14", utc(1999, 12, 31, 10, 0, 0, 1000)},
		{"timestamptz -12", tTimestamptz, "", "", "1999-12-31 12:00:00-12", utc(2000, 1, 1, 0, 0, 0, 0)},
		{"timestamptz year 1", tTimestamptz, "", "", "0001-01-01 00:00:00+00", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamptz before year 1 in UTC", tTimestamptz, "", "", "0001-01-01 00:00:00+01", misfitValue{"before 0001-01-01"}},
		{"timestamptz after 9999 in UTC", tTimestamptz, "", "", "9999-12-31 23:00:00-01", misfitValue{"after 9999-12-31"}},
		{"timestamptz year 9999 from +14", tTimestamptz, "", "", "10000-01-01 13:59:59.999999+14", utc(9999, 12, 31, 23, 59, 59, 999999000)},
		{"timestamptz BC after the offset", tTimestamptz, "", Clamp, "0044-03-15 10:00:00+00:01:15 BC", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamptz infinity", tTimestamptz, "", "", "infinity", misfitValue{"infinity: SQL Server's datetimeoffset has no infinity"}},
		{"timestamptz -infinity clamped", tTimestamptz, "", Clamp, "-infinity", utc(1, 1, 1, 0, 0, 0, 0)},
		{"timestamptz without offset", tTimestamptz, "", "", "2021-06-30 21:59:59", badText{}},
		{"timestamptz offset minutes 60", tTimestamptz, "", "", "2021-06-30 21:59:59+05:60", badText{}},
		{"timestamptz to datetime2", tTimestamptz, "datetime2(6)", "", "2021-07-01 03:29:59.999999+05:30", utc(2021, 6, 30, 21, 59, 59, 999999000)},

		// dates.
		{"date", tDate, "", "", "2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"date year 1", tDate, "", "", "0001-01-01", utc(1, 1, 1, 0, 0, 0, 0)},
		{"date year 9999", tDate, "", "", "9999-12-31", utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date infinity", tDate, "", "", "infinity", misfitValue{"infinity"}},
		{"date infinity clamped", tDate, "", Clamp, "infinity", utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date -infinity clamped", tDate, "", Clamp, "-infinity", utc(1, 1, 1, 0, 0, 0, 0)},
		{"date BC", tDate, "", "", "0001-01-01 BC", misfitValue{"before 0001-01-01"}},
		{"date BC null", tDate, "", Null, "0044-03-15 BC", nil},
		{"date year 10000", tDate, "", "", "10000-01-01", misfitValue{"after 9999-12-31"}},
		{"date year 5874897 clamped", tDate, "", Clamp, "5874897-12-31", utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date to datetime2", tDate, "datetime2(0)", "", "2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"date to datetime2 infinity", tDate, "datetime2(0)", Clamp, "infinity", utc(9999, 12, 31, 23, 59, 59, 0)},
		{"date with time", tDate, "", "", "2024-02-29 00:00:00", badText{}},
		{"date two-digit month", tDate, "", "", "2024-2-29", badText{}},

		// times of day.
		{"time microseconds", tTime, "", "", "23:59:59.999999", utc(1, 1, 1, 23, 59, 59, 999999000)},
		{"time midnight", tTime, "", "", "00:00:00", utc(1, 1, 1, 0, 0, 0, 0)},
		{"time half second", tTime, "", "", "12:00:00.5", utc(1, 1, 1, 12, 0, 0, 500000000)},
		{"time 24:00", tTime, "", "", "24:00:00", misfitValue{"24:00:00"}},
		{"time 24:00 clamped", tTime, "time(0)", Clamp, "24:00:00", utc(1, 1, 1, 23, 59, 59, 0)},
		{"time to time(0)", tTime, "time(0)", "", "12:00:00.5", misfitValue{"more fractional second digits"}},
		{"time 24:00:01", tTime, "", "", "24:00:01", badText{}},
		{"time 25:00", tTime, "", "", "25:00:00", badText{}},
		{"time with offset", tTime, "", "", "12:00:00+02", badText{}},
	}
	for _, tc := range tests {
		c := column(t, tc.typ, tc.to, tc.action)
		got, err := c.ConvertText([]byte(tc.text))
		switch want := tc.want.(type) {
		case misfitValue:
			var m *Misfit
			if !errors.As(err, &m) || !strings.Contains(m.Reason, want.reason) {
				t.Errorf("%s: got %#v, %v; want a misfit containing %q", tc.name, got, err, want.reason)
			}
		case badText:
			var m *Misfit
			if err == nil || errors.As(err, &m) || !strings.Contains(err.Error(), "not PostgreSQL's text form of "+tc.typ.Text) {
				t.Errorf("%s: got %#v, %v; want a text-form error", tc.name, got, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if !sameValue(got, tc.want) || (tc.want != nil && reflect.TypeOf(got) != reflect.TypeOf(tc.want)) {
				t.Errorf("%s: got %#v (%T), want %#v (%T)", tc.name, got, got, tc.want, tc.want)
			}
		}
	}
}

// TestConvertTextAgreesWithConvert feeds the value pgx would decode from
// the same text to Convert: both paths must give the same value or the
// same error.
func TestConvertTextAgreesWithConvert(t *testing.T) {
	tests := []struct {
		typ  pgcatalog.Type
		to   string
		text string
		pgx  any
	}{
		{tNumeric288, "", "1.50000000", num(t, "1.50000000")},
		{tNumeric, "decimal(38,2)", "123456789012345678901234567890.125", num(t, "123456789012345678901234567890.125")},
		{tNumeric, "bigint", "-42", num(t, "-42")},
		{tNumeric, "float", "0.30000000000000004", num(t, "0.30000000000000004")},
		{tFloat4, "decimal(20,12)", "0.1", float32(0.1)},
		{tFloat4, "", "3.4028235e+38", float32(math.MaxFloat32)},
		{tFloat8, "real", "0.5", 0.5},
		{tTimestamptz, "", "2021-07-01 03:29:59.999999+05:30", time.Date(2021, 6, 30, 21, 59, 59, 999999000, time.UTC).Local()},
		{tTime, "time(3)", "01:02:03.000004", nil},
	}
	for _, tc := range tests {
		for _, action := range []Action{Fail, Clamp, Null} {
			c := column(t, tc.typ, tc.to, action)
			v := tc.pgx
			if v == nil {
				var ok bool
				if v, ok = c.readValue([]byte(tc.text)); !ok {
					t.Fatalf("%s: %q does not parse", tc.typ.Text, tc.text)
				}
			}
			want, wantErr := c.Convert(v)
			got, err := c.ConvertText([]byte(tc.text))
			if !reflect.DeepEqual(got, want) || errorText(err) != errorText(wantErr) {
				t.Errorf("%s to %q (%s) %q: got %#v, %v; Convert gives %#v, %v", tc.typ.Text, tc.to, action, tc.text, got, err, want, wantErr)
			}
		}
	}
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func everyTypeMapping(t testing.TB) *Table {
	t.Helper()
	m, err := Parse(strings.NewReader(`{"types": {"numeric": {"to": "decimal(38,10)"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := m.Table(&pgcatalog.Table{
		Name: "myfirstmodule$order",
		Columns: []pgcatalog.Column{
			{Name: "id", Type: tBigint, NotNull: true},
			{Name: "created", Type: tTimestamptz, NotNull: true},
			{Name: "name", Type: tText},
			{Name: "total", Type: tNumeric288},
			{Name: "plain", Type: tNumeric},
			{Name: "stamp", Type: tTimestamp},
		},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id", "created"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func fields(values ...string) []pgdump.Field {
	out := make([]pgdump.Field, len(values))
	for i, v := range values {
		if v == "<NULL>" {
			out[i] = pgdump.Field{Null: true}
		} else {
			out[i] = pgdump.Field{Value: []byte(v)}
		}
	}
	return out
}

func TestConvertFields(t *testing.T) {
	tbl := everyTypeMapping(t)
	dst := make([]any, 6)
	row := fields("7", "2024-01-01 05:30:00+05:30", `\N`, "<NULL>", "<NULL>", "<NULL>")
	if err := tbl.ConvertFields(dst, row); err != nil {
		t.Fatal(err)
	}
	want := []any{int64(7), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), `\N`, nil, nil, nil}
	for i := range want {
		if !sameValue(dst[i], want[i]) {
			t.Errorf("column %d: got %#v, want %#v", i, dst[i], want[i])
		}
	}

	// The error of a misfit and of text that is no timestamp are
	// ConvertRow's for the values pgx would read.
	tests := []struct {
		row     []pgdump.Field
		pgxRow  []any
		wantErr string
	}{
		{
			fields("42", "2024-01-01 05:30:00.5+05:30", "x", "1.00000000", "<NULL>", "infinity"),
			[]any{int64(42), time.Date(2024, 1, 1, 0, 0, 0, 500000000, time.UTC).Local(), "x", num(t, "1.00000000"), nil, pgtype.Infinity},
			`table "myfirstmodule$order" column "stamp" row (id=42, created=`,
		},
		{
			fields("42", "2024-01-01 05:30:00.5+05:30", "x", "1.00000000", "1e5", "<NULL>"),
			nil,
			`column "plain" row (id=42, created=`,
		},
		{
			fields("43", "2024-01-01 05:30:00+05:30", "x", "1.00000000", "12345678901234567890123456789.5", "<NULL>"),
			[]any{int64(43), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Local(), "x", num(t, "1.00000000"), num(t, "12345678901234567890123456789.5"), nil},
			`value 12345678901234567890123456789.5 does not fit decimal(38,10): more than 38 digits`,
		},
	}
	for _, tc := range tests {
		err := tbl.ConvertFields(dst, tc.row)
		var ve *ValueError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.wantErr) || exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("got %v, want a BadInput ValueError containing %s", err, tc.wantErr)
			continue
		}
		if tc.pgxRow != nil {
			if rowErr := tbl.ConvertRow(dst, tc.pgxRow); errorText(rowErr) != err.Error() {
				t.Errorf("ConvertFields error differs from ConvertRow's:\n%v\n%v", err, rowErr)
			}
		}
	}
	if err := tbl.ConvertFields(dst, fields("1")); err == nil {
		t.Error("short row accepted")
	}
}

// BenchmarkConvertFields converts a Mendix-like row: the columns
// BenchmarkConvertRow converts, plus the owner, changedby, createddate and
// changeddate columns every Mendix entity has.
func BenchmarkConvertFields(b *testing.B) {
	tbl, row := benchmarkRow(b)
	dst := make([]any, len(row))
	b.ReportAllocs()
	for b.Loop() {
		if err := tbl.ConvertFields(dst, row); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkRow is a Mendix-like table and row.
func benchmarkRow(b *testing.B) (*Table, []pgdump.Field) {
	tbl, err := New().Table(&pgcatalog.Table{
		Name: "myfirstmodule$order",
		Columns: []pgcatalog.Column{
			{Name: "id", Type: tBigint, NotNull: true},
			{Name: "order", Type: pgType("character varying(200)", "character varying", 200, -1, -1)},
			{Name: "notes", Type: tText},
			{Name: "total", Type: tNumeric288},
			{Name: "quantity", Type: tInteger},
			{Name: "paid", Type: tBool},
			{Name: "orderdate", Type: tTimestamp},
			{Name: "shipped", Type: tTimestamptz},
			{Name: "ref", Type: tUUID},
			{Name: "weight", Type: tFloat8},
			{Name: "system$owner", Type: tBigint},
			{Name: "system$changedby", Type: tBigint},
			{Name: "createddate", Type: tTimestamp},
			{Name: "changeddate", Type: tTimestamp},
		},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	row := fields("123456", "Order 123456", "some notes about the order that are a little longer than a name",
		"12345.12345678", "17", "t", "2024-05-06 07:08:09.123456", "2024-05-06 09:08:09+02",
		"01020304-0506-0708-090a-0b0c0d0e0f10", "1.5", "281474976710657", "<NULL>",
		"2024-05-06 07:08:09.123", "2024-05-06 07:08:10.456")
	return tbl, row
}

// BenchmarkConvertText converts one value of each common kind.
func BenchmarkConvertText(b *testing.B) {
	cases := []struct {
		name string
		c    Column
		text string
	}{
		{"bigint", column(b, tBigint, "", ""), "281474976710657"},
		{"varchar", column(b, tVarchar5, "nvarchar(200)", ""), "Order 123456"},
		{"numeric", column(b, tNumeric288, "", ""), "12345.12345678"},
		{"bool", column(b, tBool, "", ""), "t"},
		{"timestamp", column(b, tTimestamp, "", ""), "2024-05-06 07:08:09.123456"},
		{"timestamptz", column(b, tTimestamptz, "", ""), "2024-05-06 09:08:09+02"},
		{"uuid", column(b, tUUID, "", ""), "01020304-0506-0708-090a-0b0c0d0e0f10"},
		{"float", column(b, tFloat8, "", ""), "1.5"},
	}
	for _, tc := range cases {
		text := []byte(tc.text)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.c.ConvertText(text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzConvertText feeds arbitrary text to every kind of column: no panic,
// and every failure is a misfit or the text-form error.
func FuzzConvertText(f *testing.F) {
	columns := []Column{
		column(f, tBigint, "", ""), column(f, tSmallint, "tinyint", Clamp), column(f, tNumeric288, "", ""),
		column(f, tNumeric, "decimal(38,10)", Clamp), column(f, tNumeric, "bigint", ""), column(f, tNumeric, "float", ""),
		column(f, tFloat8, "", ""), column(f, tFloat4, "decimal(20,5)", Clamp), column(f, tBool, "", ""),
		column(f, tBool, "nvarchar(5)", ""), column(f, tText, "", ""), column(f, tVarchar5, "", Clamp),
		column(f, tText, "varchar(3)", ""), column(f, tText, "uniqueidentifier", ""), column(f, tBytea, "", ""),
		column(f, tBytea, "binary(2)", Clamp), column(f, tBytea, "nvarchar(max)", ""), column(f, tUUID, "", ""),
		column(f, tTimestamp, "", ""), column(f, tTimestamp, "date", Clamp), column(f, tTimestamptz, "", Clamp),
		column(f, tTimestamptz, "datetime2(3)", ""), column(f, tDate, "", ""), column(f, tDate, "datetime2(0)", Clamp),
		column(f, tTime, "", ""), column(f, tTime, "time(0)", Clamp), column(f, tInet, "nvarchar(50)", ""),
	}
	for _, seed := range []string{"", "0", "-9223372036854775808", "1.5", "NaN", "-Infinity", "t", `\x00ff`, `\000\\`,
		"6f9619ff-8b86-d011-b42d-00c04fc964ff", "0044-03-15 10:00:00+05:53:28 BC", "2024-02-29", "24:00:00", "1e+308",
		"99999999999999999999999999999999999999999.5", "10000-01-01 00:00:00.000001-00:00:01", "::1"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		for i := range columns {
			_, err := columns[i].ConvertText(text)
			var m *Misfit
			if err != nil && !errors.As(err, &m) && !strings.Contains(err.Error(), "not PostgreSQL's text form") {
				t.Errorf("%s to %s: %q: %v", columns[i].Source.Text, columns[i].Target, text, err)
			}
		}
	})
}

// TestConvertFieldsFromCopyText reads raw COPY lines with pgdump's reader:
// NULL against the text `\N`, COPY's escapes against bytea's own.
func TestConvertFieldsFromCopyText(t *testing.T) {
	tbl, err := New().Table(&pgcatalog.Table{
		Name:       "t",
		Columns:    []pgcatalog.Column{{Name: "id", Type: tBigint, NotNull: true}, {Name: "name", Type: tText}, {Name: "data", Type: tBytea}},
		PrimaryKey: &pgcatalog.Constraint{Name: "pk", Columns: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	copyText := strings.Join([]string{
		`1	\N	\N`,
		`2	\\N	\\x5c4e`,
		`3	a\tb\nc\\d\re	\\000\\\\a\\377`,
		"4		",
		`5	😀 𝄞	\\x`,
		`6	\x41\101	\\x00`,
		`\.`,
	}, "\n") + "\n"
	want := [][]any{
		{int64(1), nil, nil},
		{int64(2), `\N`, []byte(`\N`)},
		{int64(3), "a\tb\nc\\d\re", []byte{0, '\\', 'a', 0xff}},
		{int64(4), "", []byte{}},
		{int64(5), "😀 𝄞", []byte{}},
		{int64(6), "AA", []byte{0}},
	}
	r := pgdump.NewCopyReader(strings.NewReader(copyText))
	dst := make([]any, 3)
	for i, w := range want {
		row, err := r.Next()
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if err := tbl.ConvertFields(dst, row); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		for j := range w {
			if w[j] == nil && dst[j] != nil || w[j] != nil && !sameValue(dst[j], w[j]) {
				t.Errorf("row %d column %d: got %#v, want %#v", i, j, dst[j], w[j])
			}
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last row: %v, want io.EOF", err)
	}
}

// TestConvertFieldsAllocatesOnlyForValues: a row whose values need no
// memory (NULLs, small integers) converts without allocating. (A misfit
// that a rule turns into NULL costs its error message.)
func TestConvertFieldsAllocatesOnlyForValues(t *testing.T) {
	tbl := everyTypeMapping(t)
	row := fields("7", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "<NULL>")
	dst := make([]any, len(row))
	allocs := testing.AllocsPerRun(100, func() {
		if err := tbl.ConvertFields(dst, row); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a row, want 0", allocs)
	}
}
