package typemap

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// Misfit says why a value does not fit its target type.
type Misfit struct{ Reason string }

func (m *Misfit) Error() string { return m.Reason }

func misfit(format string, args ...any) error { return &Misfit{Reason: fmt.Sprintf(format, args...)} }

// ValueError is a value that could not be converted, with where it is.
type ValueError struct {
	Table, Column string
	// Key is the row's primary key as "col=value, ...", or "" when the
	// table has none.
	Key    string
	Value  string
	Target Target
	Err    error
}

func (e *ValueError) Error() string {
	where := fmt.Sprintf("table %q column %q", e.Table, e.Column)
	if e.Key != "" {
		where += " row (" + e.Key + ")"
	}
	msg := fmt.Sprintf("%s: value %s does not fit %s: %v", where, e.Value, e.Target, e.Err)
	if _, ok := e.Err.(*Misfit); ok {
		msg += `; add a --type-map rule with "onInvalid": "null" or "clamp" (or a wider "to") to load it anyway`
	}
	return msg
}

func (e *ValueError) Unwrap() error { return e.Err }

// ConvertRow converts src (one row as pgx decodes it, in column order)
// into dst, which must be as long. A value that cannot be converted is a
// *ValueError with exit code BadInput: the data needs a rule.
func (t *Table) ConvertRow(dst, src []any) error {
	if len(src) != len(t.Columns) || len(dst) != len(t.Columns) {
		return fmt.Errorf("table %q: row of %d values for %d columns", t.Name, len(src), len(t.Columns))
	}
	for i := range t.Columns {
		v, err := t.Columns[i].Convert(src[i])
		if err != nil {
			return t.valueError(i, err, func(i int) string { return FormatValue(src[i]) })
		}
		dst[i] = v
	}
	return nil
}

// ConvertFields converts fields (one COPY row, in column order, COPY's
// escapes undone) into dst, which must be as long: NULL fields to nil,
// the others by ConvertText. Its errors are ConvertRow's, naming the
// values as ConvertRow would show the values pgx reads.
func (t *Table) ConvertFields(dst []any, fields []pgdump.Field) error {
	if len(fields) != len(t.Columns) || len(dst) != len(t.Columns) {
		return fmt.Errorf("table %q: row of %d values for %d columns", t.Name, len(fields), len(t.Columns))
	}
	for i := range t.Columns {
		if fields[i].Null {
			dst[i] = nil
			continue
		}
		v, err := t.Columns[i].ConvertText(fields[i].Value)
		if err != nil {
			return t.fieldError(i, err, fields)
		}
		dst[i] = v
	}
	return nil
}

// fieldError is ConvertFields's error for column col of fields, err from
// converting it.
func (t *Table) fieldError(col int, err error, fields []pgdump.Field) error {
	return t.valueError(col, err, func(i int) string {
		if fields[i].Null {
			return FormatValue(nil)
		}
		return t.Columns[i].formatText(fields[i].Value)
	})
}

// valueError is the error for column col's value, err from converting it;
// show renders the row's value of a column.
func (t *Table) valueError(col int, err error, show func(i int) string) error {
	key := make([]string, 0, len(t.key))
	for _, i := range t.key {
		key = append(key, t.Columns[i].Name+"="+show(i))
	}
	return exitcode.With(exitcode.BadInput, &ValueError{
		Table: t.Name, Column: t.Columns[col].Name, Key: strings.Join(key, ", "),
		Value: show(col), Target: t.Columns[col].Target, Err: err,
	})
}

// maxShownValue bounds how much of a value an error message shows.
const maxShownValue = 80

// FormatValue renders a pgx value for an error message, shortened.
func FormatValue(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", shorten(v))
	case []byte:
		s = `\x` + hex.EncodeToString(v[:min(len(v), maxShownValue/2)])
		if len(v) > maxShownValue/2 {
			s += fmt.Sprintf("... (%d bytes)", len(v))
		}
		return s
	case time.Time:
		return v.Format("2006-01-02 15:04:05.999999999Z07:00")
	case pgtype.InfinityModifier:
		return v.String()
	case pgtype.Numeric:
		text, err := v.MarshalJSON()
		if err != nil {
			return "numeric"
		}
		return shorten(strings.Trim(string(text), `"`))
	case pgtype.Time:
		return formatTimeOfDay(v.Microseconds)
	case [16]byte:
		return formatUUID(v)
	}
	return shorten(fmt.Sprint(v))
}

func shorten(s string) string {
	if len(s) <= maxShownValue {
		return s
	}
	cut := maxShownValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes)", len(s))
}

func formatTimeOfDay(us int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%06d", us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000)
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
