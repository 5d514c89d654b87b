package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// lockNamespace keeps our advisory lock key apart from any the app uses.
const lockNamespace = "mxmigrate/dbcopy/postgres:"

// Backoff while another run holds the lock.
const (
	lockFirstDelay = 50 * time.Millisecond
	lockMaxDelay   = 2 * time.Second
)

// closeTimeout bounds releasing the lock and closing connections, which
// happens after ctx may have been cancelled.
const closeTimeout = 10 * time.Second

// lockKey derives the advisory lock key from the database name.
func lockKey(database string) int64 {
	h := fnv.New64a()
	h.Write([]byte(lockNamespace + database))
	return int64(h.Sum64())
}

// Lock takes a session-level advisory lock on a connection of its own and
// holds it until unlock, Close, or the death of this process (the server
// drops the connection and the lock with it). It polls with backoff for up
// to wait while another run holds the lock.
func (t *Target) Lock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	conn, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	key := lockKey(t.database())
	if err := t.acquire(ctx, conn, key, wait); err != nil {
		closeQuietly(conn)
		return nil, err
	}
	t.log.Info("took the migration lock", "target", t.String())

	release := sync.OnceFunc(func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			t.log.Warn("release the migration lock (closing its connection releases it too)", "err", err)
		}
		_ = conn.Close(ctx)
		t.lockConn, t.unlock = nil, nil
	})
	t.mu.Lock()
	t.lockConn, t.unlock = conn, release
	t.mu.Unlock()
	return release, nil
}

// acquire polls pg_try_advisory_lock until it succeeds or wait has passed.
func (t *Target) acquire(ctx context.Context, conn *pgx.Conn, key int64, wait time.Duration) error {
	// The lock lives as long as this connection: a role's
	// idle_session_timeout (PostgreSQL 14+) must not end it between phases.
	if _, err := conn.Exec(ctx, `SELECT set_config('idle_session_timeout', '0', false)
WHERE current_setting('server_version_num')::int >= 140000`); err != nil {
		return interrupted(ctx, fmt.Errorf("prepare the lock connection to %s: %w", t, err))
	}
	deadline := time.Now().Add(wait)
	delay := lockFirstDelay
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			return interrupted(ctx, fmt.Errorf("take the migration lock on %s: %w", t, err))
		}
		if got {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return dbcopy.LockHeld(fmt.Errorf("another migration holds the lock on %s%s", t, lockHolder(ctx, conn, key)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(delay, left)):
		}
		delay = min(2*delay, lockMaxDelay)
	}
}

// checkLock fails when the lock's connection is gone (a server restart, a
// terminated session): another run could then take the lock, so the load
// must stop rather than go on unprotected.
func (t *Target) checkLock(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lockConn == nil {
		return errors.New("postgres target: Load called without the migration lock (call Lock first)")
	}
	if err := t.lockConn.Ping(ctx); err != nil {
		return interrupted(ctx, fmt.Errorf("lost the migration lock on %s (its connection failed: %v): run again to resume", t, err))
	}
	return nil
}

// lockHolder describes the session holding the lock, for the error message.
func lockHolder(ctx context.Context, conn *pgx.Conn, key int64) string {
	// pg_locks splits a bigint advisory key into two 32-bit halves.
	ukey := uint64(key)
	var pid int32
	var app, since string
	err := conn.QueryRow(ctx, `
SELECT l.pid, coalesce(a.application_name, ''), coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '')
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
LIMIT 1`, uint32(ukey>>32), uint32(ukey)).Scan(&pid, &app, &since)
	if err != nil {
		// The holder may have let go meanwhile; the message does without.
		return ""
	}
	return fmt.Sprintf(" (server process %d, application %q, connected since %s)", pid, app, since)
}
