package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// dbObject is a table, view or sequence in the target schema.
type dbObject struct {
	Name string
	Kind string // "table", "view", "sequence"
}

func (o dbObject) String() string { return o.Kind + " " + o.Name }

// listObjects returns the tables, views and sequences of schema.
func listObjects(ctx context.Context, db *sql.DB, schema string) ([]dbObject, error) {
	rows, err := db.QueryContext(ctx, `SELECT o.name, CASE o.type WHEN 'U' THEN N'table' WHEN 'V' THEN N'view' ELSE N'sequence' END
FROM sys.objects o WHERE o.schema_id = SCHEMA_ID(@p1) AND o.type IN ('U', 'V', 'SO')
ORDER BY o.type, o.name`, schema)
	if err != nil {
		return nil, fmt.Errorf("list the objects of schema %s: %w", quoteIdent(schema), err)
	}
	defer rows.Close()
	var out []dbObject
	for rows.Next() {
		var o dbObject
		if err := rows.Scan(&o.Name, &o.Kind); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// dropSQL drops objects in an order their dependencies allow: foreign
// keys first (they tie tables together), then views, tables, sequences
// (a table's default may use a sequence).
func dropSQL(schema string, objects []dbObject, foreignKeys [][2]string) []string {
	var out []string
	for _, fk := range foreignKeys {
		out = append(out, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", qualified(schema, fk[0]), quoteIdent(fk[1])))
	}
	for _, kind := range []string{"view", "table", "sequence"} {
		for _, o := range objects {
			if o.Kind == kind {
				out = append(out, fmt.Sprintf("DROP %s %s", strings.ToUpper(kind), qualified(schema, o.Name)))
			}
		}
	}
	return out
}

// dropObjects empties schema of tables, views and sequences.
func dropObjects(ctx context.Context, db *sql.DB, schema string, objects []dbObject) error {
	rows, err := db.QueryContext(ctx, `SELECT OBJECT_NAME(fk.parent_object_id), fk.name FROM sys.foreign_keys fk WHERE fk.schema_id = SCHEMA_ID(@p1)`, schema)
	if err != nil {
		return fmt.Errorf("list foreign keys: %w", err)
	}
	var fks [][2]string
	for rows.Next() {
		var fk [2]string
		if err := rows.Scan(&fk[0], &fk[1]); err != nil {
			rows.Close()
			return err
		}
		fks = append(fks, fk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, stmt := range dropSQL(schema, objects, fks) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}
