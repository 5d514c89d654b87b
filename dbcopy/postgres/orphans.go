package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// How long to wait for ended pg_restore sessions to go away.
const (
	orphanPolls     = 60
	orphanPollDelay = 500 * time.Millisecond
)

// endOrphanRestores ends the pg_restore sessions a killed run left behind
// and waits until they are gone, so that their open transactions roll back
// before we count anything. With the lock held, no live run of ours has
// any: a session named restoreAppName belongs to a dead run. A worker of a
// killed pg_restore can sit in a COPY and commit it after a rerun counted
// that table as empty; without this, its rows would be loaded twice.
func (t *Target) endOrphanRestores(ctx context.Context, conn *pgx.Conn) error {
	const find = `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`
	for poll := 0; ; poll++ {
		rows, err := conn.Query(ctx, find, restoreAppName)
		if err != nil {
			return fmt.Errorf("look for pg_restore sessions of an interrupted run: %w", err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("look for pg_restore sessions of an interrupted run: %w", err)
		}
		if len(pids) == 0 {
			return nil
		}
		if poll == orphanPolls {
			return fmt.Errorf("pg_restore sessions of an interrupted run (server processes %v) are still connected to %s: end them with pg_terminate_backend and run again", pids, t)
		}
		for _, pid := range pids {
			if poll == 0 {
				t.log.Warn("ending a pg_restore session an interrupted run left behind", "pid", pid)
			}
			if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
				return fmt.Errorf("end pg_restore session %d of an interrupted run: %w", pid, err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(orphanPollDelay):
		}
	}
}
