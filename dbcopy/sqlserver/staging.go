package sqlserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// stagingDatabase is the database restored into a throwaway cluster.
const stagingDatabase = "mxstaging"

// markerSchema holds, in a --staging database, a note of what mxmigrate
// restored there: its schema is only replaced when mxmigrate put it there.
const markerSchema = "mxmigrate_staging"

// staging is the PostgreSQL database the dump is restored into.
type staging struct {
	url     string // may hold a password: never log it
	schema  string
	cluster *pgserver.Cluster // nil for a --staging database
	workDir string            // removed with the cluster when we made it
	log     *slog.Logger
}

// openStaging restores src into the staging database that opts choose:
// "local" or "" for a throwaway cluster under opts.WorkDir, else a
// postgres:// URL.
func openStaging(ctx context.Context, src *dbcopy.Source, opts dbcopy.Options, jobs int, log *slog.Logger) (*staging, error) {
	s := &staging{schema: src.Schema, log: log}
	if s.schema == "" {
		s.schema = "public"
	}
	var binDir string
	if opts.Staging == "" || opts.Staging == "local" {
		if err := s.startCluster(ctx, opts.WorkDir); err != nil {
			return nil, err
		}
		binDir = s.cluster.BinDir()
	} else {
		u, err := url.Parse(opts.Staging)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, exitcode.With(exitcode.BadInput, errors.New(`--staging: expected "local" or a postgres:// URL`))
		}
		s.url = opts.Staging
		if binDir, _, err = pgserver.FindBinDir(); err != nil {
			return nil, err
		}
	}
	if err := s.restore(ctx, src, binDir, jobs); err != nil {
		// Never drop data here: the refusal may be about tables that are not ours.
		s.close(context.Background(), false)
		return nil, err
	}
	return s, nil
}

// connect opens a connection to the staging database; each copy job has
// its own.
func (s *staging) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return nil, fmt.Errorf("connect to the staging database: %s", redactPG(err))
	}
	return conn, nil
}

func (s *staging) startCluster(ctx context.Context, workDir string) error {
	if workDir == "" {
		dir, err := os.MkdirTemp("", "mxmigrate-staging-")
		if err != nil {
			return err
		}
		workDir, s.workDir = dir, dir
	}
	c, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(workDir, "staging-postgres"), Log: s.log})
	if err != nil {
		return fmt.Errorf("start the staging PostgreSQL: %w", err)
	}
	s.cluster = c
	// A cluster left by a killed run may hold half a restore: start over.
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the staging PostgreSQL: %w", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{stagingDatabase}.Sanitize()); err != nil {
		return fmt.Errorf("reset the staging database: %w", err)
	}
	if err := c.CreateDatabase(ctx, stagingDatabase); err != nil {
		return err
	}
	s.url = c.URL(stagingDatabase)
	return nil
}

// restore runs pg_restore unless a --staging database already holds this
// very backup, fully restored by an earlier run.
func (s *staging) restore(ctx context.Context, src *dbcopy.Source, binDir string, jobs int) error {
	major, version, err := pgserver.ToolVersion(binDir, "pg_restore")
	if err != nil {
		return err
	}
	if src.MinRestoreMajor > major {
		return exitcode.With(exitcode.BadInput, fmt.Errorf("the backup's archive format %s needs pg_restore %d or newer; %s is %s: install a newer PostgreSQL client or set %s",
			src.ArchiveVersion, src.MinRestoreMajor, filepath.Join(binDir, "pg_restore"), version, pgserver.BinDirEnv))
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if s.cluster == nil {
		reuse, err := s.prepareGiven(ctx, conn, src.Fingerprint)
		if err != nil || reuse {
			return err
		}
	}
	s.log.Info("restoring the backup into the staging PostgreSQL", "jobs", jobs)
	if err := s.runRestore(ctx, binDir, src.DumpPath, jobs); err != nil {
		return err
	}
	if s.cluster == nil {
		_, err := conn.Exec(ctx, `UPDATE `+pgx.Identifier{markerSchema, "restore"}.Sanitize()+` SET done = true WHERE schema_name = $1`, s.schema)
		return err
	}
	return nil
}

// prepareGiven checks a --staging database: its schema must be empty or
// hold what mxmigrate restored there. It reports whether that is this
// backup, complete, so the restore can be skipped.
func (s *staging) prepareGiven(ctx context.Context, conn *pgx.Conn, fingerprint string) (reuse bool, err error) {
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S', 'v', 'm')`, s.schema).Scan(&tables); err != nil {
		return false, fmt.Errorf("inspect the staging database: %w", err)
	}
	marker := pgx.Identifier{markerSchema, "restore"}.Sanitize()
	for _, stmt := range []string{
		`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{markerSchema}.Sanitize(),
		`CREATE TABLE IF NOT EXISTS ` + marker + ` (schema_name text PRIMARY KEY, fingerprint text NOT NULL, done boolean NOT NULL)`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return false, fmt.Errorf("prepare the staging database: %w", err)
		}
	}
	var recorded string
	var done bool
	err = conn.QueryRow(ctx, `SELECT fingerprint, done FROM `+marker+` WHERE schema_name = $1`, s.schema).Scan(&recorded, &done)
	ours := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	switch {
	case ours && done && recorded == fingerprint && tables > 0:
		s.log.Info("the staging database already holds this backup: not restoring again")
		return true, nil
	case tables > 0 && !ours:
		return false, exitcode.With(exitcode.PreflightRefused, fmt.Errorf("--staging: schema %q of the staging database already has objects that mxmigrate did not restore: give an empty database", s.schema))
	}
	if err := recreateSchema(ctx, conn, s.schema); err != nil {
		return false, err
	}
	_, err = conn.Exec(ctx, `INSERT INTO `+marker+` (schema_name, fingerprint, done) VALUES ($1, $2, false)
ON CONFLICT (schema_name) DO UPDATE SET fingerprint = excluded.fingerprint, done = false`, s.schema, fingerprint)
	return false, err
}

// recreateSchema empties a schema of the staging database.
func recreateSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	quoted := pgx.Identifier{schema}.Sanitize()
	for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + quoted + " CASCADE", "CREATE SCHEMA " + quoted} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("reset schema %s of the staging database: %w", quoted, err)
		}
	}
	return nil
}

// runRestore runs pg_restore. A password travels in PGPASSWORD, not on the
// command line, where ps would show it.
func (s *staging) runRestore(ctx context.Context, binDir, dump string, jobs int) error {
	target, password := splitPassword(s.url)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_restore"),
		"--no-owner", "--no-privileges", "--exit-on-error", "--jobs", strconv.Itoa(jobs), "--dbname", target, dump)
	env := os.Environ()
	if s.cluster != nil {
		env = withoutPGVars(env) // they would point at another server
	}
	if password != "" {
		env = append(env, "PGPASSWORD="+password)
	}
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("pg_restore into the staging database: %w: %s", err, lastLines(stderr.String(), 10))
	}
	return nil
}

// close drops what the staging holds: the whole cluster when we started
// one, else (only when dropData) the restored schema.
func (s *staging) close(ctx context.Context, dropData bool) error {
	var errs []error
	if s.cluster != nil {
		errs = append(errs, s.cluster.Remove(ctx))
		if s.workDir != "" {
			errs = append(errs, os.RemoveAll(s.workDir))
		}
	} else if dropData && s.url != "" {
		conn, err := s.connect(ctx)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		errs = append(errs, recreateSchema(ctx, conn, s.schema))
		_, err = conn.Exec(ctx, `DELETE FROM `+pgx.Identifier{markerSchema, "restore"}.Sanitize()+` WHERE schema_name = $1`, s.schema)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func splitPassword(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, ""
	}
	password, has := u.User.Password()
	if !has {
		return raw, ""
	}
	u.User = url.User(u.User.Username())
	return u.String(), password
}

func withoutPGVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// redactPG keeps a connection error's message but not a URL it may quote.
func redactPG(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "postgres://"); i >= 0 {
		return msg[:i] + "(staging URL)"
	}
	if i := strings.Index(msg, "postgresql://"); i >= 0 {
		return msg[:i] + "(staging URL)"
	}
	return msg
}
