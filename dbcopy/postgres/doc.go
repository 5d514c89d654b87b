// Package postgres is the dbcopy.Target for PostgreSQL, registered for the
// URL schemes "postgres" and "postgresql".
//
// # Loading
//
// Two loaders restore the dump, chosen by Options.Loader (--loader).
//
// The native loader (the default, native*.go) needs no PostgreSQL client:
// it reads the archive with snapshot/pgdump and executes its table of
// contents over pgx as pg_restore --no-owner --no-privileges
// --no-tablespaces --no-subscriptions would:
//
//   - Every connection first gets pg_restore's session setup
//     (_doSetFixedOutputState): timeouts off, client_encoding and
//     standard_conforming_strings from the ENCODING and STDSTRINGS entries,
//     search_path from the SEARCHPATH entry (archives without one get
//     pg_restore's per-entry "SET search_path = schema, pg_catalog"),
//     check_function_bodies off, xmloption content, client_min_messages
//     warning, row_security off. Settings the server lacks are left out
//     (transaction_timeout before 17, idle_session_timeout before 14).
//   - Pre-data entries run one by one in archive order on one connection,
//     each definition as one simple query, as pg_restore sends it. A
//     schema that exists is not created again, a comment on an extension
//     (only its owner may) is skipped, CREATE SCHEMA loses the
//     AUTHORIZATION of old dumps, ACL and owner entries are skipped, and
//     large objects are created unless an interrupted run made them.
//   - Data and post-data then run in parallel on Options.Jobs connections
//     in total. An entry starts once the entries it depends on are done,
//     with pg_restore's rule that a post-data entry's dependency on a table
//     means its data (so a table's indexes and constraints are built as
//     soon as its rows are in, while other tables still load). The biggest
//     ready entry goes first. Tables a post-data entry locks are kept
//     apart: index builds on one table share it, anything else (ALTER
//     TABLE ... ADD CONSTRAINT, triggers) has it alone, so no connection
//     waits behind a lock and no two foreign keys deadlock.
//   - Table data is streamed from the archive, decompressed in Go (none,
//     gzip, lz4, zstd), into COPY ... FROM STDIN, the COPY text unchanged.
//   - Entry kinds the loader does not know stop the load before anything is
//     written, with an error naming the entry; --loader pg_restore is the
//     way out.
//
// pg_restore (--loader pg_restore) is the local pg_restore, found through
// $MXMIGRATE_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH;
// it must be at least Source.MinRestoreMajor, which Preflight checks only
// for this loader. The password never reaches its command line: it goes to
// pg_restore in PGPASSWORD.
//
// # Speed-ups of the native loader
//
// Each keeps the result identical to pg_restore's and crash-safe:
//
//   - A big table without indexes is split: its COPY text is cut at row
//     boundaries (COPY text escapes newlines inside values, so a raw
//     newline always ends a row) into chunks of 1 MiB that several COPY
//     statements on several connections read at once; an idle connection
//     joins the biggest split table rather than start a small one. A table
//     is split when it holds at least 4 MiB of compressed data, at least
//     its share (1/Jobs) of all table data, and no post-data entry builds
//     an index on it (CREATE INDEX, a primary key, a unique constraint).
//     Memory stays flat: a split table has at most 2*Jobs+3 chunk buffers;
//     a row longer than a chunk spans chunks that one reader takes
//     together. A table with indexes is loaded by one COPY, as pg_restore
//     does, because the split costs its index builds more than it saves:
//     its rows are not frozen (COPY FREEZE needs the one transaction that
//     emptied the table), so every build first sets hint bits and rewrites
//     each page, and they land interleaved rather than in the dump's order
//     (for a Mendix table, the order of its ids), so each sort starts from
//     scratch instead of from nearly sorted input. Measured with the
//     skew80 bench backup (5.4M of its 6.8M rows in one table with a
//     primary key and one index) on two cores shared by client and
//     server: the split copy took 5.9 s instead of 7.0 s, but the primary
//     key then took 3.0 s instead of 1.7 s and the index 2.25 s instead of
//     2.06 s; the whole load took the same time within the noise (median
//     of four 11.6 s against 12.2 s), and with the server on one core of
//     its own, longer (19.3 and 19.6 s against 19.2 and 17.5 s) for more
//     server CPU. Every Mendix table has a primary key, so this leaves the
//     split to tables without one.
//   - A table that is not split and that this run created is loaded in one
//     transaction: TRUNCATE, COPY ... WITH (FREEZE), the record that it is
//     loaded, COMMIT. Its rows are written frozen and all-visible, so the
//     index builds and the verification's counts that read them next do
//     not rewrite every page to set hint bits; with wal_level minimal the
//     server also skips WAL for it. A kill before COMMIT leaves the table
//     as it was.
//   - synchronous_commit is off for the loading sessions: a commit does not
//     wait for its WAL flush. A server crash may lose the last commits, but
//     WAL is replayed in order, so a table's load and its record of being
//     loaded are lost together, and a record of a split table (written
//     after its parts) never survives without them. Our own kill does not
//     affect durability at all.
//   - maintenance_work_mem is left as the server has it. Raising it to
//     256MB so that a big index sorts in memory made it slower: the
//     primary key of a 5.4M-row table took 3.2 s instead of 1.65 s with
//     the default 64MB, as one big in-memory sort is slower than the
//     sorted runs that a smaller budget merges.
//   - An index build (CREATE INDEX, or a key's ADD CONSTRAINT) uses the
//     server's parallel maintenance workers only when it runs alone: while
//     other connections load or build, max_parallel_maintenance_workers is
//     0 for it. The Jobs connections keep the server's cores busy already;
//     a parallel build there costs more CPU in all (workers started, each
//     sorting its share of maintenance_work_mem apart, often on disk, then
//     merged) and finishes no sooner. The index is the same either way.
//
// # Verification during the load
//
// The verification counts every table's rows against the dump's own
// count. The native loader counts each table it loads as soon as the
// table's data and the post-data entries on it alone (indexes, keys) are
// done, on whichever connection has nothing bigger to do, while other
// tables still load; Inventory then counts only the tables the load did
// not count, and reads sequences, indexes and constraints as before. The
// count stays an independent proof: it is a count(*) of the committed
// table by a statement of its own, not the loader's word (COPY's row
// count), taken after the last entry that could change the table's rows
// or lock it alone; nothing after it in the load writes rows, and the
// run holds the target's lock. The counts are kept by the Target for the
// first Inventory after the load only: `verify` on its own, a resumed
// load and a second Inventory count every table. Parallel query is off
// for these counts (max_parallel_workers_per_gather = 0), as they run
// beside the loads.
//
// # When the load starts
//
// The load starts once the dump has been read to its end, never while it
// is still being spooled. The pipeline reads every data block of the dump
// while it spools it (pipeline/dump.go) so that a truncated or corrupt
// dump is bad input found before the first write to the target (exit 2,
// with inspect's message). Loading the tables whose data is already
// spooled would start writing before that check: a dump cut in its last
// table would leave created tables and loaded rows behind, in a target
// that a rerun must then recognise as partial. Holding all of it in one
// uncommitted transaction would keep the rule, but it serialises the
// early load on one connection, holds an exclusive lock on every table
// until the end of the spool, and a kill would throw it away. Spooling
// the 1g bench dump takes about two seconds of a fifteen-second run, most
// of it decompressing the table data to check and count it, which the
// rule requires; that work runs on several cores (each block read back
// from the spool once it is complete: pgdump.CountAllRowsAt), and what
// overlaps with the load instead is the verification, above.
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
// (pre-data, data, post-data, done). The phase is recorded only after the
// previous one has finished, so the recorded phase is never ahead of the
// target. A rerun continues from the recorded phase:
//
//   - pre-data (tables, sequences, types) is cheap and not atomic, so an
//     interrupted pre-data empties the schema and starts it again.
//   - data: the native loader records each complete table in
//     mxmigrate.loaded_table: in the transaction that loads it, or, for a
//     split table, once every part has committed. A table without the
//     record holding exactly the dump's row count (counted from the dump
//     by the archive reader) is complete too; one holding none is loaded;
//     anything else (a split table killed between its parts' commits, a
//     foreign hand) is emptied and loaded again. The native loader runs
//     data and post-data together, with "data" recorded until both end.
//     pg_restore loads a table with one COPY, so after a kill a table is
//     complete or empty, and the same row counts decide; a load that starts
//     from an empty schema runs data and post-data as a single
//     pg_restore -j. SEQUENCE SET and large object contents are idempotent
//     and always run.
//   - post-data: indexes, constraints, triggers, rules, policies and
//     statistics objects are each created by one statement, so they exist
//     whole or not at all; those that exist are skipped. The rest
//     (comments, materialized view refreshes, index attachments) are
//     idempotent and run again.
//
// One hazard is a killed run's sessions: a session blocked in a COPY can
// outlive its process and commit later, after the rerun counted that table
// as empty, which would duplicate its rows. pg_restore dies with us (it
// gets SIGKILL when its parent dies), but its server sessions may not, and
// neither may the native loader's. So before it looks at anything, Load
// ends every backend of this database whose application_name is
// "mxmigrate-restore" (both loaders' sessions carry it; only a dead run can
// own one while we hold the lock) and waits until they are gone, which
// rolls their transactions back.
//
// A different fingerprint in the state table means another backup was
// half-loaded: Preflight refuses unless --if-exists drop. The same
// fingerprint in phase done means the load is complete: Preflight reports
// AlreadyDone and Load does nothing. The mxmigrate schema stays in the
// target after the load, so that a rerun of the same Job is a no-op.
package postgres
