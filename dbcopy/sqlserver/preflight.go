package sqlserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// Preflight runs the cheap checks on the target first and, only when they
// pass, reads the dump to check the types and unique keys against the
// target's collation. It writes nothing and starts nothing.
func (t *target) Preflight(ctx context.Context, src *dbcopy.Source) (*dbcopy.PreflightResult, error) {
	opts := t.opts
	res := &dbcopy.PreflightResult{}
	var refusals []string
	add := func(c dbcopy.Check) {
		res.Checks = append(res.Checks, c)
		if !c.OK {
			refusals = append(refusals, c.Name+": "+c.Detail)
		}
	}

	st, err := readState(ctx, t.db, t.schema)
	if err != nil {
		return nil, err
	}
	if st.Fingerprint == src.Fingerprint && st.Status == statusDone {
		res.AlreadyDone = true
		add(dbcopy.Check{Name: "resume", OK: true, Detail: "this backup is already loaded into " + t.String()})
		return res, nil
	}
	res.Resumable = st.Fingerprint == src.Fingerprint && st.Status == statusLoading

	objects, err := listObjects(ctx, t.db, t.schema)
	if err != nil {
		return nil, err
	}
	add(emptinessCheck(t.schema, objects, res.Resumable, opts.IfExists))
	if !res.Resumable && opts.IfExists == dbcopy.IfExistsDrop {
		for _, o := range objects {
			res.ToDrop = append(res.ToDrop, o.Kind+" "+qualified(t.schema, o.Name))
		}
	}

	sessions, err := t.sessionsCheck(ctx, opts.AllowConnected)
	if err != nil {
		return nil, err
	}
	add(sessions)

	if len(refusals) == 0 {
		p, err := t.prepare(ctx, src, opts)
		if err != nil {
			return res, err
		}
		for _, c := range preparedChecks(p) {
			add(c)
		}
	}
	if len(refusals) > 0 {
		return res, dbcopy.PreflightRefused(errors.New("preflight refused: " + strings.Join(refusals, "; ")))
	}
	return res, nil
}

func emptinessCheck(schema string, objects []dbObject, resumable bool, ifExists dbcopy.IfExists) dbcopy.Check {
	c := dbcopy.Check{Name: "target schema", OK: true}
	switch {
	case resumable:
		c.Detail = fmt.Sprintf("resuming an interrupted load of this backup into %s", quoteIdent(schema))
	case len(objects) == 0:
		c.Detail = fmt.Sprintf("%s is empty", quoteIdent(schema))
	case ifExists == dbcopy.IfExistsDrop:
		c.Warn = true
		c.Detail = fmt.Sprintf("%s holds %d objects that --if-exists drop will remove", quoteIdent(schema), len(objects))
	default:
		c.OK = false
		names := make([]string, 0, 5)
		for i, o := range objects {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, o.String())
		}
		c.Detail = fmt.Sprintf("%s holds %d objects (%s): use --if-exists drop to replace them", quoteIdent(schema), len(objects), strings.Join(names, ", "))
	}
	return c
}

// preparedChecks turns the plan and the collation check into checks.
func preparedChecks(p *prepared) []dbcopy.Check {
	var checks []dbcopy.Check
	if len(p.plan.Problems) > 0 {
		checks = append(checks, dbcopy.Check{Name: "types", Detail: strings.Join(p.plan.Problems, "; ") + " (see --type-map)"})
	} else {
		checks = append(checks, dbcopy.Check{Name: "types", OK: true, Detail: fmt.Sprintf("%d tables map to SQL Server types", len(p.plan.Tables))})
	}
	if len(p.plan.ActionChanges) > 0 {
		checks = append(checks, dbcopy.Check{Name: "foreign key actions", OK: true, Warn: true, Detail: fmt.Sprintf("%d actions SQL Server refuses become NO ACTION: %s",
			len(p.plan.ActionChanges), strings.Join(p.plan.ActionChanges, "; "))})
	}
	if len(p.plan.Warnings) > 0 {
		checks = append(checks, dbcopy.Check{Name: "not carried over", OK: true, Warn: true, Detail: strings.Join(p.plan.Warnings, "; ")})
	}
	if len(p.collisions) > 0 {
		checks = append(checks, dbcopy.Check{Name: "collation", Detail: describeCollisions(p.collation, p.collisions)})
	} else if len(p.plan.Problems) == 0 {
		checks = append(checks, dbcopy.Check{Name: "collation", OK: true, Detail: "no unique key collides under " + p.collation.name})
	}
	return checks
}

// sessionsCheck refuses when other sessions use the target database: the
// app may still be running. mxmigrate's own sessions are left out.
func (t *target) sessionsCheck(ctx context.Context, allowConnected bool) (dbcopy.Check, error) {
	c := dbcopy.Check{Name: "other sessions", OK: true}
	var serverState, databaseState int
	if err := t.db.QueryRowContext(ctx, `SELECT ISNULL(HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE'), 0), ISNULL(HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'VIEW DATABASE STATE'), 0)`).Scan(&serverState, &databaseState); err != nil {
		return c, fmt.Errorf("check permissions: %w", err)
	}
	if serverState == 0 && databaseState == 0 {
		c.Warn = true
		c.Detail = "cannot see other sessions: the login needs VIEW SERVER STATE (VIEW DATABASE STATE on Azure SQL); make sure the app is stopped"
		return c, nil
	}
	rows, err := t.db.QueryContext(ctx, `SELECT s.session_id, ISNULL(s.program_name, N''), ISNULL(s.host_name, N'')
FROM sys.dm_exec_sessions s
WHERE s.database_id = DB_ID() AND s.session_id <> @@SPID AND s.is_user_process = 1 AND ISNULL(s.program_name, N'') <> @p1
ORDER BY s.session_id`, AppName)
	if err != nil {
		return c, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var others []string
	for rows.Next() {
		var id int64
		var program, host string
		if err := rows.Scan(&id, &program, &host); err != nil {
			return c, err
		}
		others = append(others, fmt.Sprintf("session %d %q from %q", id, program, host))
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	if len(others) == 0 {
		c.Detail = "no other sessions use the database"
		return c, nil
	}
	c.Detail = fmt.Sprintf("%d other sessions use the database (%s)", len(others), strings.Join(others, ", "))
	if allowConnected {
		c.Warn = true
		c.Detail += ": going ahead (--allow-connected)"
	} else {
		c.OK = false
		c.Detail += ": stop the app first, or pass --allow-connected"
	}
	return c, nil
}
