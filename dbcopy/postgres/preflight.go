package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Check names, as reports show them.
const (
	checkRestoreTool = "pg_restore"
	checkLoader      = "loader"
	checkSource      = "source"
	checkConnect     = "connect"
	checkVersion     = "server version"
	checkState       = "earlier load"
	checkPrivileges  = "privileges"
	checkEmpty       = "empty schema"
	checkSessions    = "other sessions"
)

// checklist collects checks and the refusals among them.
type checklist struct {
	res      *dbcopy.PreflightResult
	badInput []error
	refusals []error
}

func (c *checklist) ok(name, detail string) {
	c.res.Checks = append(c.res.Checks, dbcopy.Check{Name: name, OK: true, Detail: detail})
}

func (c *checklist) warn(name, detail string) {
	c.res.Checks = append(c.res.Checks, dbcopy.Check{Name: name, OK: true, Warn: true, Detail: detail})
}

func (c *checklist) refuse(name string, err error) {
	c.res.Checks = append(c.res.Checks, dbcopy.Check{Name: name, Detail: err.Error()})
	if exitcode.Of(err) == exitcode.BadInput {
		c.badInput = append(c.badInput, err)
	} else {
		c.refusals = append(c.refusals, err)
	}
}

// err is the outcome: bad input wins over a refusal, since fixing the input
// comes first.
func (c *checklist) err() error {
	if len(c.badInput) > 0 {
		return exitcode.With(exitcode.BadInput, errors.Join(c.badInput...))
	}
	if len(c.refusals) > 0 {
		return dbcopy.PreflightRefused(fmt.Errorf("preflight refused: %w", errors.Join(c.refusals...)))
	}
	return nil
}

// Preflight checks, writing nothing, that src may be loaded into the
// target. On a refusal it returns the result together with an error whose
// exit code is PreflightRefused (or BadInput when the input must change).
// A server that does not answer is no refusal: its error (exit code
// Failure) comes with the failed check.
func (t *Target) Preflight(ctx context.Context, src *dbcopy.Source) (*dbcopy.PreflightResult, error) {
	c := &checklist{res: &dbcopy.PreflightResult{}}
	if err := t.preflight(ctx, c, src); err != nil {
		return c.res, err
	}
	return c.res, c.err()
}

func (t *Target) preflight(ctx context.Context, c *checklist, src *dbcopy.Source) error {
	opts := t.opts
	if opts.Loader == LoaderPgRestore {
		if tool, err := findRestore(); err != nil {
			c.refuse(checkRestoreTool, err)
		} else if err := tool.checkReads(src); err != nil {
			c.refuse(checkRestoreTool, err)
		} else {
			c.ok(checkRestoreTool, fmt.Sprintf("%s (version %d)", tool.path, tool.major))
		}
	} else if opts.Loader == "" || opts.Loader == LoaderNative {
		c.ok(checkLoader, "native: the archive is restored over the connection, no PostgreSQL client tools needed")
	}
	if err := t.checkSource(src); err != nil {
		c.refuse(checkSource, err)
		return nil
	}
	c.ok(checkSource, "schema "+t.schema)

	conn, err := t.connect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.res.Checks = append(c.res.Checks, dbcopy.Check{Name: checkConnect, Detail: err.Error()})
		return err
	}
	defer closeQuietly(conn)
	c.ok(checkConnect, t.String())

	steps := []func(context.Context, *checklist, *pgx.Conn, *dbcopy.Source) error{
		t.checkServerVersion, t.checkState, t.checkPrivileges, t.checkEmpty, t.checkSessions,
	}
	for _, step := range steps {
		if err := step(ctx, c, conn, src); err != nil {
			return interrupted(ctx, err)
		}
	}
	return nil
}

// checkSource rejects a source a PostgreSQL target cannot honour (Open
// checked the options).
func (t *Target) checkSource(src *dbcopy.Source) error {
	// The dump file itself is only needed by Load: plan runs the preflight
	// without extracting it.
	if src.Fingerprint == "" {
		return exitcode.With(exitcode.BadInput, errors.New("the source has no fingerprint"))
	}
	return t.resolveSchema(src)
}

// checkServerVersion warns when the target is older than the dump's source
// server: pg_restore may then meet syntax the target does not know.
func (t *Target) checkServerVersion(ctx context.Context, c *checklist, conn *pgx.Conn, src *dbcopy.Source) error {
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return fmt.Errorf("read the server version: %w", err)
	}
	target := num / 10000
	source := leadingInt(src.ServerVersion)
	detail := fmt.Sprintf("target PostgreSQL %d, dump from %s", target, orUnknown(src.ServerVersion))
	if source > 0 && target < source {
		c.warn(checkVersion, detail+": the target is older than the source, the restore may fail on newer syntax")
		return nil
	}
	c.ok(checkVersion, detail)
	return nil
}

// leadingInt is the number a version string starts with ("15.4 (Debian)"
// gives 15, "9.6.24" gives 9), or 0.
func leadingInt(s string) int {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// checkState reads what an earlier run left: nothing, this backup complete
// (AlreadyDone) or interrupted (Resumable), or another backup.
func (t *Target) checkState(ctx context.Context, c *checklist, conn *pgx.Conn, src *dbcopy.Source) error {
	st, err := readState(ctx, conn, t.schema)
	if err != nil {
		return err
	}
	switch {
	case st == nil:
		c.ok(checkState, "none")
	case st.Fingerprint == src.Fingerprint && st.Phase == phaseDone:
		c.res.AlreadyDone = true
		c.ok(checkState, fmt.Sprintf("this backup was loaded completely (finished %s): nothing to do", formatTime(st.FinishedAt)))
	case st.Fingerprint == src.Fingerprint:
		c.res.Resumable = true
		c.ok(checkState, fmt.Sprintf("an interrupted load of this backup (started %s) resumes at phase %s", st.StartedAt.Format("2006-01-02 15:04:05 MST"), st.Phase))
	case t.opts.IfExists == dbcopy.IfExistsDrop:
		c.ok(checkState, fmt.Sprintf("another backup (%s, phase %s) is in the target: --if-exists drop replaces it", short(st.Fingerprint), st.Phase))
	default:
		c.refuse(checkState, fmt.Errorf("another backup (%s) was loaded into schema %s (phase %s): use --if-exists drop to replace it", short(st.Fingerprint), t.schema, st.Phase))
	}
	return nil
}

// checkPrivileges asks the server whether our user may create what the
// load creates: tables in the schema (or the schema itself) and our state.
func (t *Target) checkPrivileges(ctx context.Context, c *checklist, conn *pgx.Conn, _ *dbcopy.Source) error {
	if c.res.AlreadyDone {
		c.ok(checkPrivileges, "not needed: nothing to write")
		return nil
	}
	var user string
	var schemaOK, stateOK bool
	err := conn.QueryRow(ctx, `
SELECT current_user::text,
	CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
		THEN has_schema_privilege($1, 'CREATE')
		ELSE has_database_privilege(current_database(), 'CREATE') END,
	CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $2)
		THEN has_schema_privilege($2, 'CREATE, USAGE')
		ELSE has_database_privilege(current_database(), 'CREATE') END`,
		t.schema, stateSchema).Scan(&user, &schemaOK, &stateOK)
	if err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	var missing []string
	if !schemaOK {
		missing = append(missing, fmt.Sprintf("user %q may not create tables in schema %s (GRANT CREATE ON SCHEMA %s TO %s)",
			user, t.schema, pgx.Identifier{t.schema}.Sanitize(), pgx.Identifier{user}.Sanitize()))
	}
	if !stateOK {
		missing = append(missing, fmt.Sprintf("user %q may not create mxmigrate's state schema %s (GRANT CREATE ON DATABASE %s TO %s)",
			user, stateSchema, pgx.Identifier{t.database()}.Sanitize(), pgx.Identifier{user}.Sanitize()))
	}
	if len(missing) > 0 {
		c.refuse(checkPrivileges, errors.New(strings.Join(missing, "; ")))
		return nil
	}
	c.ok(checkPrivileges, fmt.Sprintf("user %q may create tables in schema %s", user, t.schema))
	return nil
}

// checkEmpty refuses a schema that holds objects we did not put there,
// unless --if-exists drop, in which case it lists them in ToDrop.
func (t *Target) checkEmpty(ctx context.Context, c *checklist, conn *pgx.Conn, _ *dbcopy.Source) error {
	if c.res.AlreadyDone || c.res.Resumable {
		c.ok(checkEmpty, "skipped: the objects there are this backup's")
		return nil
	}
	objs, err := listObjects(ctx, conn, t.schema)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		c.ok(checkEmpty, "schema "+t.schema+" is empty")
		return nil
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.String()
	}
	if t.opts.IfExists == dbcopy.IfExistsDrop {
		c.res.ToDrop = names
		c.ok(checkEmpty, fmt.Sprintf("%d objects in schema %s will be dropped (--if-exists drop)", len(objs), t.schema))
		return nil
	}
	c.refuse(checkEmpty, fmt.Errorf("schema %s is not empty (%d objects: %s): use --if-exists drop to replace them, or an empty database",
		t.schema, len(objs), summarize(names, 5)))
	return nil
}

// checkSessions refuses while other sessions (the app, most likely) are
// connected to the database, unless --allow-connected.
func (t *Target) checkSessions(ctx context.Context, c *checklist, conn *pgx.Conn, _ *dbcopy.Source) error {
	return t.checkSessionsAllowing(ctx, c, conn, t.opts.AllowConnected)
}

// checkSessionsAllowing is checkSessions with --allow-connected given.
func (t *Target) checkSessionsAllowing(ctx context.Context, c *checklist, conn *pgx.Conn, allowConnected bool) error {
	rows, err := conn.Query(ctx, `
SELECT format('pid %s (user %s, application %L, from %s)', pid, coalesce(usename::text, '?'),
	coalesce(application_name, ''), coalesce(host(client_addr), 'local socket'))
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
	AND coalesce(application_name, '') NOT LIKE $1
ORDER BY pid`, appName+"%")
	if err != nil {
		return fmt.Errorf("list the sessions on the target: %w", err)
	}
	sessions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list the sessions on the target: %w", err)
	}
	if len(sessions) == 0 {
		c.ok(checkSessions, "none")
		return nil
	}
	detail := fmt.Sprintf("%d other sessions are connected to database %s: %s", len(sessions), t.database(), summarize(sessions, 3))
	switch {
	case c.res.AlreadyDone:
		c.warn(checkSessions, detail+" (nothing will be written)")
	case allowConnected:
		c.warn(checkSessions, detail+" (--allow-connected)")
	default:
		c.refuse(checkSessions, fmt.Errorf("%s: stop the app first, or pass --allow-connected", detail))
	}
	return nil
}

func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

func short(fingerprint string) string {
	if len(fingerprint) > 12 {
		return fingerprint[:12] + "…"
	}
	return fingerprint
}
