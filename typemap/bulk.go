package typemap

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// BulkRow converts COPY rows for go-mssqldb's bulk copy as ConvertFields
// does, with one difference: an nvarchar or nchar value comes as its
// UTF-16LE bytes, which the bulk copy sends as they are, instead of a Go
// string it would re-encode through a []rune and a []uint16. The bytes
// are encoded straight from the field, without a string in between, into
// a buffer the BulkRow reuses: a row's values are valid until the next
// Convert.
type BulkRow struct {
	table   *Table
	unicode []bool // columns whose values come as UTF-16LE
	values  []any
	text    []byte // the row's UTF-16LE values
}

// NewBulkRow returns a converter for t's rows.
func (t *Table) NewBulkRow() *BulkRow {
	r := &BulkRow{
		table:   t,
		unicode: make([]bool, len(t.Columns)),
		values:  make([]any, len(t.Columns)),
		// Never nil: go-mssqldb sends a nil []byte as NULL, and an
		// empty value is a slice of this buffer.
		text: make([]byte, 0, 1024),
	}
	for i, c := range t.Columns {
		r.unicode[i] = c.Target.Name == "nvarchar" || c.Target.Name == "nchar"
	}
	return r
}

// Convert converts fields (one COPY row, in column order, COPY's escapes
// undone): NULL fields to nil, the others to ConvertText's values, but
// nvarchar and nchar values to the UTF-16LE bytes of ConvertText's
// string. Its errors are ConvertFields's.
func (r *BulkRow) Convert(fields []pgdump.Field) ([]any, error) {
	t := r.table
	if len(fields) != len(t.Columns) {
		return nil, fmt.Errorf("table %q: row of %d values for %d columns", t.Name, len(fields), len(t.Columns))
	}
	r.text = r.text[:0]
	for i := range t.Columns {
		c := &t.Columns[i]
		switch {
		case fields[i].Null:
			r.values[i] = nil
		case r.unicode[i]:
			start := len(r.text)
			text, err := c.appendUnicode(r.text, fields[i].Value, c.OnInvalid == Clamp)
			if err != nil {
				var m *Misfit
				if c.OnInvalid == Null && errors.As(err, &m) {
					r.values[i] = nil
					continue
				}
				return nil, t.fieldError(i, err, fields)
			}
			// A later value may move the buffer; this one keeps the
			// bytes it was given either way.
			r.text = text
			r.values[i] = text[start:len(text):len(text)]
		default:
			v, err := c.ConvertText(fields[i].Value)
			if err != nil {
				return nil, t.fieldError(i, err, fields)
			}
			r.values[i] = v
		}
	}
	return r.values, nil
}

// appendUnicode appends to dst the UTF-16LE bytes of the string an
// nvarchar or nchar column's converter gives for text, before OnInvalid
// "null" applies.
func (c *Column) appendUnicode(dst, text []byte, clamp bool) ([]byte, error) {
	switch c.source {
	case srcBool, srcBytes, srcInet:
		// Their string is not their text (stringForm); rare targets.
	default:
		// The common case, which fitUnicode passes through unchanged:
		// valid UTF-8 with no more bytes than the target's length in
		// UTF-16 units (a byte is at most one unit).
		if (c.Target.Length == Max || len(text) <= c.Target.Length) && utf8.Valid(text) {
			return appendUTF16LE(dst, text), nil
		}
	}
	s, ok := stringForm(c.source, text)
	if !ok {
		return dst, notTextForm(c.Source.Text)
	}
	s, err := fitUnicodeString(s, c.Target, clamp)
	if err != nil {
		return dst, err
	}
	return appendUTF16LE(dst, []byte(s)), nil
}
