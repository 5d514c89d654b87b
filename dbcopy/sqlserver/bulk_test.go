package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// TestBulkSink loads rows converted by typemap.BulkRow through the bulk
// copy on the raw connection: values as they were, batches committed, and
// a failed or cancelled copy's connection never back in the pool.
func TestBulkSink(t *testing.T) {
	db := openDB(t, sqlServerURL(t))
	db.SetMaxOpenConns(1) // a connection left inside a bulk load would fail the next statement
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := testSchemaName("mxbulk")
	t.Cleanup(func() { dropTestSchema(t, db, schema) })
	table := qualified(schema, "t")
	for _, stmt := range []string{
		"CREATE SCHEMA " + quoteIdent(schema),
		"CREATE TABLE " + table + " (id bigint NOT NULL, name nvarchar(max) NULL, code nchar(3) NULL)",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	mapping, err := typemap.New().Table(&pgcatalog.Table{Name: "t", Columns: []pgcatalog.Column{
		{Name: "id", Type: pgcatalog.Type{Text: "bigint", Base: "bigint", Length: -1, Precision: -1, Scale: -1, Kind: 'b'}, NotNull: true},
		{Name: "name", Type: pgcatalog.Type{Text: "text", Base: "text", Length: -1, Precision: -1, Scale: -1, Kind: 'b'}},
		{Name: "code", Type: pgcatalog.Type{Text: "character(3)", Base: "character", Length: 3, Precision: -1, Scale: -1, Kind: 'b'}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	field := func(s string) pgdump.Field { return pgdump.Field{Value: []byte(s)} }
	null := pgdump.Field{Null: true}
	rows := [][]pgdump.Field{
		{field("1"), field("Bob"), field("ab ")},
		{field("2"), field(""), null},
		{field("3"), field("😀 𝄞 Émile, a name longer than eight bytes"), field("é€")},
		{field("4"), null, field("")},
	}
	load := func(ctx context.Context, rows [][]pgdump.Field, after func() error) error {
		return onBulkConn(ctx, db, func(mc *mssql.Conn) error {
			sink := newBulkSink(mc, table, mapping)
			conv := mapping.NewBulkRow()
			for _, row := range rows {
				values, err := conv.Convert(row)
				if err != nil {
					return err
				}
				if err := sink.Write(ctx, values); err != nil {
					return err
				}
			}
			if err := after(); err != nil {
				return err
			}
			return sink.Flush()
		})
	}
	if err := load(ctx, rows, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	got := readBack(t, ctx, db, table)
	want := []string{"1|Bob|ab ", "2||NULL", "3|😀 𝄞 Émile, a name longer than eight bytes|é€ ", "4|NULL|   "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %q, want %q", got, want)
	}

	// Enough rows that the failed load has sent packets of its bulk
	// stream: the server is inside a bulk load on that connection.
	var many [][]pgdump.Field
	for i := range 5000 {
		many = append(many, []pgdump.Field{field(fmt.Sprint(100 + i)), field("a row the load never finishes"), null})
	}
	failure := errors.New("the dump broke off")
	if err := load(ctx, many, func() error { return failure }); !errors.Is(err, failure) {
		t.Errorf("failed copy returned %v, want its own error", err)
	}
	cancelled, cancelLoad := context.WithCancel(ctx)
	cancelLoad()
	if err := load(cancelled, rows, func() error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled copy returned %v, want context.Canceled", err)
	}
	// The pool's one connection is a fresh one, not one inside a bulk
	// load: the next statement works. (What an unfinished load leaves is
	// the server's business: SQL Server rolls back its batch, the
	// stand-in keeps the rows it read; copyTable truncates either way.)
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id < 100").Scan(&n); err != nil || n != len(rows) {
		t.Errorf("after the failed loads: %d rows of the first load, %v; want %d", n, err, len(rows))
	}
}

// readBack reads the test table as "id|name|code" lines.
func readBack(t *testing.T, ctx context.Context, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT id, name, code FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	show := func(s sql.NullString) string {
		if !s.Valid {
			return "NULL"
		}
		return s.String
	}
	var out []string
	for rows.Next() {
		var id int64
		var name, code sql.NullString
		if err := rows.Scan(&id, &name, &code); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d|%s|%s", id, show(name), show(code)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
