package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// schemaObject is something in the target schema that a restore could
// collide with.
type schemaObject struct {
	Kind string // "table", "view", "sequence", "function", "type", ...
	Name string
	drop string // the statement that removes it
}

func (o schemaObject) String() string { return o.Kind + " " + o.Name }

// listObjectsSQL finds relations, routines and types in schema $1, in an
// order in which dropping them with CASCADE works: views before tables,
// tables before the sequences they own. Extension members and identity
// sequences (which go with their table) are left out.
const listObjectsSQL = `
WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = $1),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT kind, name, drop_sql FROM (
	SELECT CASE c.relkind WHEN 'v' THEN 1 WHEN 'm' THEN 2 WHEN 'f' THEN 3 WHEN 'S' THEN 5 ELSE 4 END AS ord,
		CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
			WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
		ns.nspname || '.' || c.relname AS name,
		format('DROP %s IF EXISTS %I.%I CASCADE',
			CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
				WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, ns.nspname, c.relname) AS drop_sql
	FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND NOT c.relispartition
		AND (c.oid) NOT IN (SELECT objid FROM ext WHERE classid = 'pg_class'::regclass)
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
			AND d.objid = c.oid AND d.deptype = 'i')
	UNION ALL
	SELECT 6, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
		ns.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
		format('DROP %s IF EXISTS %s CASCADE',
			CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::regprocedure)
	FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
	WHERE p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_proc'::regclass)
	UNION ALL
	SELECT 7, CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, ns.nspname || '.' || t.typname,
		format('DROP %s IF EXISTS %I.%I CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, ns.nspname, t.typname)
	FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
	WHERE (t.typtype IN ('d', 'e', 'r')
			OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
		AND t.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_type'::regclass)
) o
ORDER BY ord, name`

// listObjects lists what the target schema holds.
func listObjects(ctx context.Context, conn *pgx.Conn, schema string) ([]schemaObject, error) {
	rows, err := conn.Query(ctx, listObjectsSQL, schema)
	if err != nil {
		return nil, fmt.Errorf("list the objects in schema %s: %w", schema, err)
	}
	objs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schemaObject, error) {
		var o schemaObject
		err := r.Scan(&o.Kind, &o.Name, &o.drop)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the objects in schema %s: %w", schema, err)
	}
	return objs, nil
}

// dropObjects empties the schema, one statement per object so that no
// transaction needs a lock per table of a big schema. It is safe to repeat:
// every statement says IF EXISTS.
func (t *Target) dropObjects(ctx context.Context, conn *pgx.Conn, schema string) error {
	objs, err := listObjects(ctx, conn, schema)
	if err != nil {
		return err
	}
	for _, o := range objs {
		t.log.Info("dropping", "object", o.String())
		if _, err := conn.Exec(ctx, o.drop); err != nil {
			return fmt.Errorf("drop %s: %w", o, err)
		}
	}
	return nil
}
