package typemap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// everyTypeRows are values at the edges of each type, for
// samplegen.EveryTypeSchema: those of verify's tests and more.
const everyTypeRows = `
INSERT INTO "module$everytype" (id, "order", "select", total, plain, quantity, priority, weight, ratio, paid,
	signature, orderdate, stamp3, shipped, birthday, alarm, alarmtz, guid, doc, docb, tags, "Mixed Case", "quote""d") VALUES
(1, '', E'tab\there\nnew\\line', 99999999999999999999.99999999, 'NaN', 0, -32768, 'Infinity', 'NaN', true,
	'\x00ff00'::bytea, '0044-03-15 10:00:00 BC', 'infinity', '2000-01-01 00:00:00.000001+14', '0044-03-15 BC', '24:00:00',
	'15:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50]}', '{"b": "😀"}', '{1,NULL,3}', 'ab', 1),
(2, '😀 𝄞', '', -99999999999999999999.99999999, '-0.000', 2147483647, 32767, -1e-300, 3.4028235e+38, false,
	'\x'::bytea, '0001-01-01 00:00:00', '-infinity', '1999-12-31 12:00:00-12', '9999-12-31', '00:00:00',
	'23:59:59.999999-05:30', NULL, 'null', '[]', '{}', NULL, NULL),
(3, 'trailing ', NULL, 0.00000001, 1e-20, 1, 0, '-0', 1e-45, NULL,
	'\x5c00'::bytea, '9999-12-31 23:59:59.999999', '2024-02-29 23:59:59.999', '0001-01-01 00:00:00+00', 'infinity', '12:00:00.5',
	'00:00:00+14', '00000000-0000-0000-0000-000000000000', '""', '{}', NULL, '   ', -1),
(4, E'\\N', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity', '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, E'back\\slash\ttab\r\n', E'\\N and 𝄞😀 and \u00e9', -0.00000001, '123456789012345678901234567890.123456789012', 2147483646, 255, 1.7976931348623157e308, '-Infinity', false,
	E'\\x5c4e0a09'::bytea, '2024-02-29 12:34:56.789012', '1999-12-31 23:59:59.999', '1850-06-01 12:00:00+00', '2000-02-29', '23:59:59.999999',
	'00:00:00-15:59', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '"\u00e9\\u0000"', '{"k": "𝄞", "n": 1.50}', '{-1,2}', '😀', 2147483647),
(6, 'x', repeat('long ', 1000), 0, 'Infinity', 100, 1000, 5e-324, 1.4e-45, true,
	decode(repeat('00ff', 50), 'hex'), '200000-06-01 00:00:00', '0001-01-01 00:00:00.001', '10000-01-01 00:00:00+00', '5874897-12-31', '00:00:00.000001',
	'12:00:00+00', NULL, '{}', 'true', NULL, 'abc', 0),
(7, 'y', '', 1.00000000, '-Infinity', 0, -1, 0.1, 0.1, false,
	E'\\x00'::bytea, '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '4713-01-01 BC', '01:02:03.000004',
	'01:02:03.000004+05:45', NULL, '1.5e10', '12345678901234567890', NULL, NULL, NULL),
(8, 'z', NULL, 12345678901234567890.12345678, '0.1234567890123456789012345678901234567890', 42, NULL, 123456789012345678, 16777217, NULL,
	NULL, '0001-01-01 00:00:00.000001', '2020-06-01 12:00:00.5', '2020-06-01 12:00:00.123456+00', '0001-01-01', NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`

// columnVariants are the targets of rule sets besides the built-in rules:
// each maps every column of the every-type table to another target its
// source converts to, so that each conversion path is compared.
var columnVariants = []map[string]string{
	// The built-in rules, with rules only where there is none.
	{"plain": "decimal(38,10)", "alarmtz": "nvarchar(max)", "tags": "nvarchar(max)"},
	{
		"id": "int", "order": "varchar(5)", "select": "nchar(10)", "total": "bigint", "plain": "float",
		"quantity": "smallint", "priority": "tinyint", "weight": "decimal(38,10)", "ratio": "decimal(20,10)",
		"paid": "int", "signature": "varbinary(2)", "orderdate": "date", "stamp3": "datetime2(0)",
		"shipped": "datetime2(3)", "birthday": "datetime2(0)", "alarm": "time(0)", "alarmtz": "varchar(10)",
		"guid": "nvarchar(36)", "doc": "varchar(max)", "docb": "nvarchar(5)", "tags": "varchar(3)",
		"Mixed Case": "varchar(3)", `quote"d`: "decimal(3,1)", "twice": "real",
	},
	{
		"id": "float", "order": "uniqueidentifier", "select": "varchar(max)", "total": "real", "plain": "int",
		"quantity": "float", "priority": "decimal(1,0)", "weight": "real", "ratio": "bigint",
		"paid": "nvarchar(5)", "signature": "binary(3)", "orderdate": "datetimeoffset(7)", "stamp3": "nvarchar(max)",
		"shipped": "nvarchar(max)", "birthday": "nvarchar(20)", "alarm": "nvarchar(20)", "alarmtz": "nvarchar(max)",
		"guid": "uniqueidentifier", "doc": "nvarchar(10)", "docb": "varchar(max)", "tags": "nvarchar(max)",
		"Mixed Case": "nchar(1)", `quote"d`: "bigint", "twice": "decimal(38,0)",
	},
	{
		"id": "nvarchar(max)", "order": "nvarchar(max)", "select": "nvarchar(max)", "total": "nvarchar(max)",
		"plain": "nvarchar(max)", "quantity": "nvarchar(max)", "priority": "nvarchar(max)", "weight": "nvarchar(max)",
		"ratio": "nvarchar(max)", "paid": "nvarchar(max)", "signature": "nvarchar(max)", "orderdate": "nvarchar(max)",
		"stamp3": "nvarchar(max)", "shipped": "nvarchar(max)", "birthday": "nvarchar(max)", "alarm": "nvarchar(max)",
		"alarmtz": "nvarchar(max)", "guid": "nvarchar(max)", "doc": "nvarchar(max)", "docb": "nvarchar(max)",
		"tags": "nvarchar(max)", "Mixed Case": "nvarchar(max)", `quote"d`: "nvarchar(max)", "twice": "nvarchar(max)",
	},
}

// everyTypeMappers are the rule sets: every variant with each action
// ("null" only on nullable columns).
func everyTypeMappers(t *testing.T, table *pgcatalog.Table) map[string]*Mapper {
	t.Helper()
	out := map[string]*Mapper{}
	for v, variant := range columnVariants {
		for _, action := range []Action{Fail, Clamp, Null} {
			type rule struct {
				To        string `json:"to,omitempty"`
				OnInvalid Action `json:"onInvalid,omitempty"`
			}
			columns := map[string]rule{}
			for _, col := range table.Columns {
				r := rule{To: variant[col.Name], OnInvalid: action}
				if action == Null && col.NotNull {
					r.OnInvalid = Fail
				}
				columns[table.Name+"."+col.Name] = r
			}
			text, err := json.Marshal(map[string]any{"columns": columns})
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(bytes.NewReader(text))
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			out["variant "+string(rune('0'+v))+" "+string(action)] = m
		}
	}
	return out
}

// TestConvertFieldsMatchesPgxPath compares, for every row and column of
// the every-type table and every rule set, the new path (COPY text
// through ConvertText and ConvertFields) with the old one (pgx's values of
// the staging query through Convert and ConvertRow): the same values and
// the same errors, in the session settings pg_dump uses (DateStyle ISO,
// IntervalStyle postgres, extra_float_digits 3) with time zones and
// bytea_output as a dump may have them; then for a real pg_dump archive.
func TestConvertFieldsMatchesPgxPath(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testenv.Postgres(t)
	url := testenv.NewDatabase(t, c)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, samplegen.EveryTypeSchema+everyTypeRows); err != nil {
		t.Fatal(err)
	}
	schema, err := pgcatalog.Read(ctx, conn, "public")
	if err != nil {
		t.Fatal(err)
	}
	table := schema.Table("module$everytype")
	if table == nil {
		t.Fatal("no table module$everytype")
	}
	mappers := everyTypeMappers(t, table)

	sessions := []struct{ timeZone, byteaOutput string }{
		{"UTC", "hex"},
		{"Asia/Kolkata", "escape"},       // +05:30, before 1854 local mean time +05:53:28
		{"Pacific/Kiritimati", "escape"}, // +14, local mean time -10:29:20
		{"America/St_Johns", "hex"},      // -03:30 and -02:30, local mean time -03:30:52
	}
	var stats compareStats
	for _, s := range sessions {
		settings := "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; " +
			"SET TimeZone = '" + s.timeZone + "'; SET bytea_output = " + s.byteaOutput
		if _, err := conn.Exec(ctx, settings); err != nil {
			t.Fatal(err)
		}
		copyRows := readCopy(t, ctx, conn, table.Columns)
		// The staging path read bytea as text in the server's default
		// format, hex, which ConvertText gives whatever the dump's.
		if _, err := conn.Exec(ctx, "SET bytea_output = hex"); err != nil {
			t.Fatal(err)
		}
		for name, m := range mappers {
			tbl, err := m.Table(table)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			label := s.timeZone + " " + s.byteaOutput + " " + name
			stats.add(comparePaths(t, label, tbl, readPgx(t, ctx, conn, tbl), copyRows))
		}
	}
	// Each path and outcome must be exercised, or the test proves little.
	if stats.values < 1000 || stats.misfits < 100 || stats.nulled < 50 {
		t.Errorf("compared %+v: too few values, misfits or nulled values for the test to mean much", stats)
	}
	t.Logf("compared %+v", stats)

	t.Run("pg_dump archive", func(t *testing.T) {
		if _, err := conn.Exec(ctx, "RESET ALL"); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "db.backup")
		dump := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pg_dump"), "-O", "-x", "-Fc", "-f", out, "-d", url)
		dump.Env = append(dump.Environ(), "PGTZ=Asia/Kolkata", "PGOPTIONS=-c bytea_output=escape")
		if msg, err := dump.CombinedOutput(); err != nil {
			t.Fatalf("pg_dump: %v: %s", err, msg)
		}
		f, err := pgdump.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var entry *pgdump.Entry
		for i, e := range f.Archive.Entries {
			if e.Desc == "TABLE DATA" && e.Tag == table.Name {
				entry = &f.Archive.Entries[i]
			}
		}
		if entry == nil {
			t.Fatal("the dump has no TABLE DATA for module$everytype")
		}
		names, err := entry.CopyColumns()
		if err != nil {
			t.Fatal(err)
		}
		// pg_dump leaves out generated columns: map the columns it wrote.
		copied := &pgcatalog.Table{Name: table.Name, PrimaryKey: table.PrimaryKey}
		for _, name := range names {
			col := table.Column(name)
			if col == nil {
				t.Fatalf("COPY column %q is not in the table", name)
			}
			copied.Columns = append(copied.Columns, *col)
		}
		data, err := f.OpenData(ctx, entry)
		if err != nil {
			t.Fatal(err)
		}
		defer data.Close()
		text, err := io.ReadAll(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"+05:53:28", "+05:30", `\\000`} {
			if !strings.Contains(string(text), want) {
				t.Errorf("the dump's COPY text lacks %q, so the test does not cover it", want)
			}
		}
		copyRows := copyFields(t, text)
		if _, err := conn.Exec(ctx, "SET TimeZone = 'Asia/Kolkata'"); err != nil {
			t.Fatal(err)
		}
		for name, m := range mappers {
			tbl, err := m.Table(copied)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			comparePaths(t, "pg_dump "+name, tbl, readPgx(t, ctx, conn, tbl), copyRows)
		}
	})
}

// readPgx reads the table as the staging path does: the columns'
// SelectExpr, pgx's values.
func readPgx(t *testing.T, ctx context.Context, conn *pgx.Conn, tbl *Table) [][]any {
	t.Helper()
	exprs := make([]string, len(tbl.Columns))
	for i := range tbl.Columns {
		exprs[i] = tbl.Columns[i].SelectExpr()
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+` FROM "module$everytype" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// readCopy reads the table's columns with COPY TO STDOUT, as pg_dump does.
func readCopy(t *testing.T, ctx context.Context, conn *pgx.Conn, cols []pgcatalog.Column) [][]pgdump.Field {
	t.Helper()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = pgx.Identifier{col.Name}.Sanitize()
	}
	var buf bytes.Buffer
	sql := "COPY (SELECT " + strings.Join(names, ", ") + ` FROM "module$everytype" ORDER BY id) TO STDOUT`
	if _, err := conn.PgConn().CopyTo(ctx, &buf, sql); err != nil {
		t.Fatal(err)
	}
	return copyFields(t, buf.Bytes())
}

// copyFields reads COPY text with pgdump's reader, copying every row.
func copyFields(t *testing.T, text []byte) [][]pgdump.Field {
	t.Helper()
	r := pgdump.NewCopyReader(bytes.NewReader(text))
	var out [][]pgdump.Field
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		kept := make([]pgdump.Field, len(row))
		for i, f := range row {
			kept[i] = pgdump.Field{Null: f.Null, Value: bytes.Clone(f.Value)}
		}
		out = append(out, kept)
	}
}

type compareStats struct{ values, misfits, nulled, rowErrors int }

func (s *compareStats) add(o compareStats) {
	s.values += o.values
	s.misfits += o.misfits
	s.nulled += o.nulled
	s.rowErrors += o.rowErrors
}

// comparePaths compares the two paths' results, value by value and row by
// row.
func comparePaths(t *testing.T, label string, tbl *Table, pgxRows [][]any, copyRows [][]pgdump.Field) compareStats {
	t.Helper()
	var stats compareStats
	if len(pgxRows) != len(copyRows) {
		t.Fatalf("%s: %d rows by pgx, %d by COPY", label, len(pgxRows), len(copyRows))
	}
	for r := range pgxRows {
		if len(copyRows[r]) != len(tbl.Columns) {
			t.Fatalf("%s: row %d has %d fields for %d columns", label, r, len(copyRows[r]), len(tbl.Columns))
		}
		for i := range tbl.Columns {
			col := &tbl.Columns[i]
			f := copyRows[r][i]
			if f.Null != (pgxRows[r][i] == nil) {
				t.Errorf("%s: row %d column %s: COPY NULL %v, pgx value %#v", label, r, col.Name, f.Null, pgxRows[r][i])
				continue
			}
			want, wantErr := col.Convert(pgxRows[r][i])
			var got any
			var err error
			if !f.Null {
				got, err = col.ConvertText(f.Value)
			}
			stats.values++
			if !f.Null {
				if shown, want := col.formatText(f.Value), FormatValue(pgxRows[r][i]); shown != want {
					t.Errorf("%s: row %d column %s: errors would show %s, ConvertRow's %s", label, r, col.Name, shown, want)
				}
			}
			var m *Misfit
			if errors.As(wantErr, &m) {
				stats.misfits++
			}
			if wantErr == nil && want == nil && pgxRows[r][i] != nil {
				stats.nulled++
			}
			if errorText(err) != errorText(wantErr) || !sameConverted(got, want) {
				t.Errorf("%s: row %d column %s (%s to %s, %s): text %q gives %#v, %v; pgx value %#v gives %#v, %v",
					label, r, col.Name, col.Source.Text, col.Target, col.OnInvalid, f.Value, got, err, pgxRows[r][i], want, wantErr)
			}
		}
		dstRow, dstFields := make([]any, len(tbl.Columns)), make([]any, len(tbl.Columns))
		rowErr := tbl.ConvertRow(dstRow, pgxRows[r])
		fieldsErr := tbl.ConvertFields(dstFields, copyRows[r])
		if errorText(rowErr) != errorText(fieldsErr) {
			t.Errorf("%s: row %d:\nConvertFields: %v\n   ConvertRow: %v", label, r, fieldsErr, rowErr)
		}
		if rowErr != nil {
			stats.rowErrors++
			continue
		}
		for i := range dstRow {
			if !sameConverted(dstFields[i], dstRow[i]) {
				t.Errorf("%s: row %d column %s: ConvertFields %#v, ConvertRow %#v", label, r, tbl.Columns[i].Name, dstFields[i], dstRow[i])
			}
		}
	}
	// The bulk copy's converter: the same errors, the same bytes.
	compareBulkRow(t, label+" BulkRow", tbl, copyRows)
	return stats
}

// sameConverted compares converted values exactly: Go type, bytes (and
// that neither is a nil slice, which bulk copy writes as NULL), instant and
// location of times.
func sameConverted(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && (g == nil) == (w == nil) && bytes.Equal(g, w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == w.Location()
	}
	return reflect.DeepEqual(got, want)
}
