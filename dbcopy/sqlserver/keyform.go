package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// indexForm is how the target holds an index or key.
type indexForm struct {
	primaryKey, uniqueConstraint, unique bool
	// filter is sys.indexes.filter_definition, "" when not filtered.
	filter string
}

// readIndexForms reads the form of every index of schema, keyed
// "table.name" as Inventory keys them.
func readIndexForms(ctx context.Context, db *sql.DB, schema string) (map[string]indexForm, error) {
	rows, err := db.QueryContext(ctx, `SELECT t.name + N'.' + i.name, i.is_primary_key, i.is_unique_constraint, i.is_unique,
    CASE WHEN i.has_filter = 1 THEN ISNULL(i.filter_definition, N'') ELSE N'' END
FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
WHERE t.schema_id = SCHEMA_ID(@p1) AND i.type > 0 AND i.is_hypothetical = 0`, schema)
	if err != nil {
		return nil, fmt.Errorf("inventory: forms of the indexes: %w", err)
	}
	defer rows.Close()
	forms := map[string]indexForm{}
	for rows.Next() {
		var key string
		var f indexForm
		if err := rows.Scan(&key, &f.primaryKey, &f.uniqueConstraint, &f.unique, &f.filter); err != nil {
			return nil, err
		}
		forms[key] = f
	}
	return forms, rows.Err()
}

// formProblem says how an index or key differs from the form the plan
// gives it, "" when it does not. A NULLS NOT DISTINCT key of the dump is a
// plain unique constraint or unfiltered unique index (SQL Server's NULLs
// are equal in both), an ordinary key over nullable columns a unique index
// filtered to rows without NULLs: one in the other's form lets rows in
// that PostgreSQL refuses, or refuses rows PostgreSQL lets in.
//
// A filter the plan asks for but the server does not report is not a
// problem: some TDS servers leave sys.indexes.has_filter empty, and the
// load itself created the filter.
func formProblem(s step, f indexForm) string {
	switch s.Kind {
	case "primary key":
		if !f.primaryKey {
			return "is not a primary key"
		}
	case "unique":
		if !f.uniqueConstraint {
			return "is not a UNIQUE constraint (the dump's key is NULLS NOT DISTINCT or over NOT NULL columns)"
		}
	case "unique index", "index":
		switch {
		case f.primaryKey || f.uniqueConstraint:
			return "is a constraint, where the dump's key needs an index"
		case f.unique != s.Unique && s.Unique:
			return "is not unique"
		case f.unique != s.Unique:
			return "is unique, where the dump's index is not"
		case f.filter != "" && s.Filter == "":
			return fmt.Sprintf("is filtered (WHERE %s), where the dump's key is NULLS NOT DISTINCT", f.filter)
		case f.filter != "" && !sameFilter(f.filter, s.Filter):
			return fmt.Sprintf("is filtered WHERE %s, want WHERE %s", f.filter, s.Filter)
		}
	}
	return ""
}

// sameFilter compares a filter as SQL Server prints it, "([a] IS NOT
// NULL AND [b] IS NOT NULL)", with the one the load wrote, term by term.
func sameFilter(got, want string) bool {
	terms := func(f string) []string {
		parts := strings.Split(unparen(f), " AND ")
		for i, p := range parts {
			parts[i] = unparen(p)
		}
		slices.Sort(parts)
		return parts
	}
	return slices.Equal(terms(got), terms(want))
}

// checkForms leaves out of inv the keys and indexes of the plan whose form
// is wrong, so that verification reports them, and logs why.
func (t *target) checkForms(ctx context.Context, plan *loadPlan, indexes, constraints map[string]bool) error {
	forms, err := readIndexForms(ctx, t.db, t.schema)
	if err != nil {
		return err
	}
	for _, s := range plan.Keys {
		key := s.Table + "." + s.Name
		f, ok := forms[key]
		if !ok {
			continue // a foreign key, or missing: reported by name
		}
		if problem := formProblem(s, f); problem != "" {
			t.log.Warn("an index or key of the target has the wrong form", "table", s.Table, "name", s.Name, "problem", problem)
			delete(indexes, key)
			delete(constraints, key)
		}
	}
	return nil
}
