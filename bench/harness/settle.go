package main

import (
	"context"
	"os/exec"

	"github.com/jackc/pgx/v5"
)

// settle writes out, untimed, what earlier commands left dirty: the
// PostgreSQL server's shared buffers (CHECKPOINT) and the kernel's page
// cache (sync). Without it a contender pays for the write-back of the one
// before it (gigabytes after a 1 GB restore, on a rotational disk), and
// with RUNS=1 the first contender also pays for the fixtures. Failures
// only cost fairness, so they are logged, not fatal.
func (b *bench) settle(ctx context.Context) {
	if b.pg != nil {
		conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
		if err == nil {
			_, err = conn.Exec(ctx, "CHECKPOINT")
			conn.Close(ctx)
		}
		if err != nil {
			b.log.Warn("could not checkpoint the bench PostgreSQL before a timed run", "err", err)
		}
	}
	if syncBin, err := exec.LookPath("sync"); err == nil {
		if err := exec.CommandContext(ctx, syncBin).Run(); err != nil {
			b.log.Warn("sync before a timed run failed", "err", err)
		}
	}
}
