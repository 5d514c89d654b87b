package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// preData empties the schema and creates the dump's tables, sequences and
// types. Whatever is in the schema at this point is either a partial
// pre-data of this backup or what Preflight allowed us to drop.
func (l *loader) preData(ctx context.Context) error {
	if err := l.t.dropObjects(ctx, l.conn, l.t.schema); err != nil {
		return err
	}
	list, err := readSection(ctx, l.tool, l.src.DumpPath, phasePreData)
	if err != nil {
		return err
	}
	existing, err := existingSchemas(ctx, l)
	if err != nil {
		return err
	}
	keep := func(it tocItem) bool {
		switch {
		case it.desc == "SCHEMA" && existing[it.tag]:
			return false // we never drop schemas; CREATE SCHEMA would fail
		case it.desc == "COMMENT" && strings.HasPrefix(it.tag, "EXTENSION "):
			return false // only the extension's owner may comment on it, and no app reads it
		}
		return true
	}
	// pre-data runs serially in pg_restore anyway.
	return l.restoreSection(ctx, phasePreData, list, keep, 1)
}

func existingSchemas(ctx context.Context, l *loader) (map[string]bool, error) {
	rows, err := l.conn.Query(ctx, "SELECT nspname::text FROM pg_namespace")
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	out := make(map[string]bool, len(names))
	for _, name := range names {
		out[name] = true
	}
	return out, nil
}

// data loads the tables that are not complete yet. A table is complete
// when it has the dump's row count; pg_restore loads a table with a single
// COPY, so a killed run leaves each table complete or empty. A table with
// any other count (a foreign hand) is emptied and loaded again.
func (l *loader) data(ctx context.Context) error {
	list, err := readSection(ctx, l.tool, l.src.DumpPath, phaseData)
	if err != nil {
		return err
	}
	expected := make(map[string]int64, len(l.src.Tables))
	for _, tb := range l.src.Tables {
		expected[tb.Name] = tb.Rows
	}
	var tables []tableRef
	for _, it := range list.items {
		if it.desc == "TABLE DATA" {
			tables = append(tables, tableRef{schema: it.schema, name: it.tag})
		}
	}
	counts, err := l.t.countRows(ctx, tables, l.opts.Jobs)
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for _, it := range list.items {
		if it.desc != "TABLE DATA" {
			continue
		}
		ref := tableRef{schema: it.schema, name: it.tag}
		have := counts[ref]
		want, known := expected[it.tag]
		switch {
		case known && it.schema == l.t.schema && have == want:
			done[it.id] = true
		case have == 0:
		default:
			l.t.log.Warn("table partly loaded: emptying it to load it again", "table", ref.String(), "rows", have, "expected", want)
			if _, err := l.conn.Exec(ctx, "TRUNCATE TABLE ONLY "+ref.sql()); err != nil {
				return fmt.Errorf("empty %s: %w", ref, err)
			}
		}
	}
	if len(done) > 0 {
		l.t.log.Info("tables already loaded", "count", len(done))
	}
	// SEQUENCE SET and everything else in the section is idempotent.
	keep := func(it tocItem) bool { return !done[it.id] }
	return l.restoreSection(ctx, phaseData, list, keep, l.opts.Jobs)
}

// dataAndPostData loads every table and then creates the indexes and
// constraints in a single pg_restore run, for a load that started from an
// empty schema: nothing can be there yet, so nothing is skipped.
func (l *loader) dataAndPostData(ctx context.Context) error {
	data, err := readSection(ctx, l.tool, l.src.DumpPath, phaseData)
	if err != nil {
		return err
	}
	post, err := readSection(ctx, l.tool, l.src.DumpPath, phasePostData)
	if err != nil {
		return err
	}
	both := &tocList{lines: append(data.lines, post.lines...), items: append(data.items, post.items...)}
	all := func(tocItem) bool { return true }
	return l.restoreSections(ctx, "data and post-data", []string{phaseData, phasePostData}, both, all, l.opts.Jobs)
}

// postData creates the indexes, constraints and the rest that are missing.
// Each is one statement, so it exists whole or not at all.
func (l *loader) postData(ctx context.Context) error {
	list, err := readSection(ctx, l.tool, l.src.DumpPath, phasePostData)
	if err != nil {
		return err
	}
	present, err := presentObjects(ctx, l.conn)
	if err != nil {
		return err
	}
	keep := func(it tocItem) bool {
		kind := presenceKind(it.desc)
		return kind == "" || !present[presenceKey(it.schema, kind, it.tag)]
	}
	return l.restoreSection(ctx, phasePostData, list, keep, l.opts.Jobs)
}

// presenceKind maps a post-data item kind to the catalog we look it up in,
// or "" for items that are idempotent and always run (comments, refreshes
// of materialized views, index attachments).
func presenceKind(desc string) string {
	switch desc {
	case "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT":
		return "CONSTRAINT"
	case "INDEX", "TRIGGER", "RULE", "POLICY", "STATISTICS":
		return desc
	}
	return ""
}

func presenceKey(schema, kind, tag string) string {
	return schema + "\x00" + kind + "\x00" + tag
}

// presentObjectsSQL names existing post-data objects the way pg_dump tags
// them: an index or statistics object by its name, a constraint, trigger,
// rule or policy by "table name".
const presentObjectsSQL = `
SELECT n.nspname::text, 'INDEX', c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('i', 'I')
UNION ALL
SELECT n.nspname, 'CONSTRAINT', r.relname || ' ' || co.conname
FROM pg_constraint co JOIN pg_class r ON r.oid = co.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
UNION ALL
SELECT n.nspname, 'TRIGGER', r.relname || ' ' || tg.tgname
FROM pg_trigger tg JOIN pg_class r ON r.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE NOT tg.tgisinternal
UNION ALL
SELECT n.nspname, 'RULE', r.relname || ' ' || rw.rulename
FROM pg_rewrite rw JOIN pg_class r ON r.oid = rw.ev_class JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE rw.rulename <> '_RETURN'
UNION ALL
SELECT n.nspname, 'POLICY', r.relname || ' ' || p.polname
FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid JOIN pg_namespace n ON n.oid = r.relnamespace
UNION ALL
SELECT n.nspname, 'STATISTICS', s.stxname::text
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace`

func presentObjects(ctx context.Context, conn *pgx.Conn) (map[string]bool, error) {
	rows, err := conn.Query(ctx, presentObjectsSQL)
	if err != nil {
		return nil, fmt.Errorf("list existing indexes and constraints: %w", err)
	}
	defer rows.Close()
	present := map[string]bool{}
	for rows.Next() {
		var schema, kind, tag string
		if err := rows.Scan(&schema, &kind, &tag); err != nil {
			return nil, err
		}
		present[presenceKey(schema, kind, tag)] = true
	}
	return present, rows.Err()
}
