package pgcatalog

// varHeaderSize is PostgreSQL's VARHDRSZ, added to the length and
// precision modifiers of variable-length types.
const varHeaderSize = 4

// newType decodes atttypmod the way PostgreSQL's own typmodout functions
// do, so that callers need not parse format_type's text.
func newType(text, base string, typmod int32, kind byte) Type {
	t := Type{Text: text, Base: base, Length: -1, Precision: -1, Scale: -1, Kind: kind}
	if typmod < 0 {
		return t
	}
	switch base {
	case "numeric":
		m := typmod - varHeaderSize
		t.Precision = int((m >> 16) & 0xffff)
		// The scale is an 11-bit signed field: PostgreSQL 15 allows a
		// negative scale, as in numeric(3,-2).
		t.Scale = int(((m & 0x7ff) ^ 1024) - 1024)
	case "character varying", "character":
		t.Length = int(typmod - varHeaderSize)
	case "bit", "bit varying":
		t.Length = int(typmod)
	case "timestamp without time zone", "timestamp with time zone",
		"time without time zone", "time with time zone":
		t.Precision = int(typmod)
	case "interval":
		// The low 16 bits hold the precision; 0xffff means "not given".
		if p := typmod & 0xffff; p != 0xffff {
			t.Precision = int(p)
		}
	}
	return t
}
