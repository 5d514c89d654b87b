// Package postgres is the dbcopy.Target for PostgreSQL, registered for the
// URL schemes "postgres" and "postgresql".
//
// # Loading
//
// The dump is restored straight into the target by the local pg_restore
// (--no-owner --no-privileges --exit-on-error, -j Options.Jobs), which is
// as fast as a restore gets. pg_restore is found through $MXMIGRATE_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin, else PATH, and must be at least
// Source.MinRestoreMajor. The password never reaches a command line: it goes
// to pg_restore in PGPASSWORD.
//
// # Safety rails
//
// Lock takes a session-level advisory lock on a dedicated connection for the
// whole run, so a second run waits or fails with exit code LockHeld, and a
// run killed even with SIGKILL frees the lock when its connection drops.
// Preflight refuses a non-empty schema (unless --if-exists drop), other
// sessions on the database (unless --allow-connected), and a half-loaded
// different backup. Every connection mxmigrate opens, pg_restore's
// included, carries an application_name starting with "mxmigrate", which is
// how the session check tells them from the app's.
//
// # Resume
//
// Progress lives in the target itself, in mxmigrate.migration: one row per
// target schema with the backup's fingerprint and the phase reached
// (pre-data, data, post-data, done). Each phase is one pg_restore run over
// that section of the archive, driven by a list file (pg_restore -L) built
// from `pg_restore -l --section=...` in which the items already present are
// commented out. The phase is recorded only after the previous one has
// finished, so the recorded phase is never ahead of the target. A load that
// starts from an empty schema runs data and post-data as a single
// pg_restore -j (as fast as a bare pg_restore: the indexes of loaded tables
// are built while a large table still copies), with "data" recorded until
// it ends. A rerun continues from the recorded phase, a section at a time:
//
//   - pre-data (tables, sequences, types) is cheap and not atomic, so an
//     interrupted pre-data empties the schema and starts it again.
//   - data: pg_restore loads each table with one COPY, a single statement,
//     so after a kill each table is either complete or empty (a committed
//     COPY) or untouched (a rolled-back one). Each table's row count is
//     compared with the count the archive reader took from the dump:
//     equal means done, zero means restore it, anything else (which only a
//     foreign hand could cause) means TRUNCATE and restore it. SEQUENCE SET
//     items are idempotent and always run.
//   - post-data: indexes, constraints, triggers, rules, policies and
//     statistics objects are each created by one statement, so they exist
//     whole or not at all; those that exist are skipped. The rest
//     (comments, materialized view refreshes, index attachments) are
//     idempotent and run again.
//
// One hazard is a killed run's pg_restore workers: pg_restore dies with us
// (it gets SIGKILL when its parent dies), but a worker blocked in a COPY can
// outlive it and commit later, after the rerun counted that table as empty,
// which would duplicate its rows. So before it looks at anything, Load ends
// every backend of this database whose application_name is
// "mxmigrate-restore" (only a dead run can own one while we hold the lock)
// and waits until they are gone, which rolls their transactions back.
//
// A different fingerprint in the state table means another backup was
// half-loaded: Preflight refuses unless --if-exists drop. The same
// fingerprint in phase done means the load is complete: Preflight reports
// AlreadyDone and Load does nothing. The mxmigrate schema stays in the
// target after the load, so that a rerun of the same Job is a no-op.
package postgres
