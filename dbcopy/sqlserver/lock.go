package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// lockResource names the application lock. sp_getapplock locks are per
// database on SQL Server, so one migration at a time runs against a
// database; the database's name is part of the resource all the same, so
// that servers whose application locks are server-wide (the Babelfish
// stand-in) keep databases apart too.
const lockResource = "N'mxmigrate:' + DB_NAME()"

// Lock takes an exclusive session-owned application lock on a connection
// pinned for the run: SQL Server releases it when that session ends, so a
// killed run never leaves it taken.
func (t *target) Lock(ctx context.Context, wait time.Duration) (func(), error) {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", t, err)
	}
	timeout := min(wait.Milliseconds(), math.MaxInt32)
	var result int
	err = conn.QueryRowContext(ctx, `DECLARE @result int, @resource nvarchar(255) = `+lockResource+`;
EXEC @result = sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = @p1, @DbPrincipal = 'public';
SELECT @result`, int64(timeout)).Scan(&result)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", t, err)
	}
	// sp_getapplock's documented results: 0 granted, 1 granted after
	// waiting, -1 timed out, -2 cancelled, -3 chosen as deadlock victim,
	// -999 a parameter or call error. Babelfish answers -999 instead of -1
	// when a lock timeout of 0 finds the lock taken: see standInLockTimeout.
	switch {
	case result >= 0:
	case result == -1 || standInLockTimeout(ctx, conn, result, timeout):
		conn.Close()
		return nil, dbcopy.LockHeld(fmt.Errorf("another migration holds the lock on %s (waited %s)", t, wait))
	default:
		conn.Close()
		return nil, fmt.Errorf("lock %s: sp_getapplock returned %d", t, result)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The run's context may be cancelled already: release anyway.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := conn.ExecContext(ctx, `DECLARE @resource nvarchar(255) = `+lockResource+`;
EXEC sp_releaseapplock @Resource = @resource, @LockOwner = 'Session'`)
			if err != nil {
				t.log.Warn("release the migration lock (it goes with the session anyway)", "target", t.String(), "err", err)
			}
			if err := conn.Close(); err != nil && !errors.Is(err, context.Canceled) {
				t.log.Warn("close the lock connection", "err", err)
			}
		})
	}, nil
}

// standInLockTimeout tells whether a -999 from sp_getapplock is the
// stand-in's answer for "taken": SQL Server returns -1 for a timeout,
// whatever the timeout; Babelfish returns -999 when @LockTimeout is 0 and
// the lock is held. Only that case, on Babelfish, counts as held.
func standInLockTimeout(ctx context.Context, conn *sql.Conn, result int, timeout int64) bool {
	if result != -999 || timeout != 0 {
		return false
	}
	var version string
	err := conn.QueryRowContext(ctx, `SELECT @@VERSION`).Scan(&version)
	return err == nil && strings.Contains(version, "Babelfish")
}
