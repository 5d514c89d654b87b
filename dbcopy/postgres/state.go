package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The phases of a load, in order. The state table records the phase a run
// is in; a rerun continues from there.
const (
	phasePreData  = "pre-data"
	phaseData     = "data"
	phasePostData = "post-data"
	phaseDone     = "done"
)

// stateSchema holds mxmigrate's own bookkeeping in the target. The session
// and emptiness checks ignore it.
const stateSchema = "mxmigrate"

const createStateSQL = `
CREATE SCHEMA IF NOT EXISTS mxmigrate;
CREATE TABLE IF NOT EXISTS mxmigrate.migration (
	target_schema text PRIMARY KEY,
	fingerprint   text NOT NULL,
	phase         text NOT NULL,
	started_at    timestamptz NOT NULL DEFAULT now(),
	updated_at    timestamptz NOT NULL DEFAULT now(),
	finished_at   timestamptz
)`

// migrationState is the row of mxmigrate.migration for one target schema.
type migrationState struct {
	Fingerprint string
	Phase       string
	StartedAt   time.Time
	FinishedAt  *time.Time
}

// readState returns the state recorded for schema, or nil when there is
// none. It writes nothing, so Preflight can use it.
func readState(ctx context.Context, conn *pgx.Conn, schema string) (*migrationState, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('mxmigrate.migration') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("look for mxmigrate.migration: %w", err)
	}
	if !exists {
		return nil, nil
	}
	var s migrationState
	err := conn.QueryRow(ctx,
		"SELECT fingerprint, phase, started_at, finished_at FROM mxmigrate.migration WHERE target_schema = $1",
		schema).Scan(&s.Fingerprint, &s.Phase, &s.StartedAt, &s.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read mxmigrate.migration: %w", err)
	}
	return &s, nil
}

// startState records a new load of fingerprint into schema, replacing what
// an earlier backup left.
func startState(ctx context.Context, conn *pgx.Conn, schema, fingerprint string) error {
	if _, err := conn.Exec(ctx, createStateSQL); err != nil {
		return fmt.Errorf("create mxmigrate.migration: %w", err)
	}
	_, err := conn.Exec(ctx, `
INSERT INTO mxmigrate.migration (target_schema, fingerprint, phase)
VALUES ($1, $2, $3)
ON CONFLICT (target_schema) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, phase = EXCLUDED.phase,
    started_at = now(), updated_at = now(), finished_at = NULL`,
		schema, fingerprint, phasePreData)
	if err != nil {
		return fmt.Errorf("record the start of the load: %w", err)
	}
	// The native loader's marks of complete tables belong to the load
	// that starts over here.
	var marks bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('mxmigrate.loaded_table') IS NOT NULL").Scan(&marks); err != nil {
		return fmt.Errorf("look for mxmigrate.loaded_table: %w", err)
	}
	if marks {
		_, err = conn.Exec(ctx, "DELETE FROM mxmigrate.loaded_table WHERE target_schema = $1", schema)
	}
	if err != nil {
		return fmt.Errorf("clear mxmigrate.loaded_table: %w", err)
	}
	return nil
}

// setPhase records that the load of fingerprint reached phase. It only
// moves the row of that fingerprint, so a stale run cannot overwrite a
// newer one's state.
func setPhase(ctx context.Context, conn *pgx.Conn, schema, fingerprint, phase string) error {
	tag, err := conn.Exec(ctx, `
UPDATE mxmigrate.migration
SET phase = $3, updated_at = now(),
    finished_at = CASE WHEN $3 = 'done' THEN now() END
WHERE target_schema = $1 AND fingerprint = $2`,
		schema, fingerprint, phase)
	if err != nil {
		return fmt.Errorf("record phase %s: %w", phase, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("record phase %s: the state row of this backup is gone", phase)
	}
	return nil
}
