package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Load and table states in [mxmigrate].
const (
	statusLoading = "loading"
	statusDone    = "done"
	statusCopying = "copying"
)

// createStateSQL makes the state schema and tables unless they exist, one
// batch each: CREATE SCHEMA must be alone in its batch (hence EXEC), and
// the tables' batch must not be compiled before their schema exists.
var createStateSQL = []string{
	`IF SCHEMA_ID(N'mxmigrate') IS NULL EXEC(N'CREATE SCHEMA [mxmigrate]')`,
	`IF OBJECT_ID(N'[mxmigrate].[load]', N'U') IS NULL
CREATE TABLE [mxmigrate].[load] (
    [target_schema] nvarchar(128) NOT NULL PRIMARY KEY,
    [fingerprint] nvarchar(400) NOT NULL,
    [status] nvarchar(20) NOT NULL,
    [started_at] datetime2(0) NOT NULL,
    [finished_at] datetime2(0) NULL
)`,
	`IF OBJECT_ID(N'[mxmigrate].[load_table]', N'U') IS NULL
CREATE TABLE [mxmigrate].[load_table] (
    [target_schema] nvarchar(128) NOT NULL,
    [table_name] nvarchar(128) NOT NULL,
    [status] nvarchar(20) NOT NULL,
    [rows_copied] bigint NOT NULL,
    PRIMARY KEY ([target_schema], [table_name])
)`,
	// The filtered unique indexes that stand for PostgreSQL UNIQUE
	// constraints (over nullable columns), so that an export writes them
	// back as constraints and not as indexes.
	`IF OBJECT_ID(N'[mxmigrate].[unique_key]', N'U') IS NULL
CREATE TABLE [mxmigrate].[unique_key] (
    [target_schema] nvarchar(128) NOT NULL,
    [table_name] nvarchar(128) NOT NULL,
    [index_name] nvarchar(128) NOT NULL,
    PRIMARY KEY ([target_schema], [table_name], [index_name])
)`,
	// The unique indexes that stand for the dump's NULLS NOT DISTINCT
	// unique indexes, so that an export writes them back as such.
	`IF OBJECT_ID(N'[mxmigrate].[nulls_not_distinct]', N'U') IS NULL
CREATE TABLE [mxmigrate].[nulls_not_distinct] (
    [target_schema] nvarchar(128) NOT NULL,
    [table_name] nvarchar(128) NOT NULL,
    [index_name] nvarchar(128) NOT NULL,
    PRIMARY KEY ([target_schema], [table_name], [index_name])
)`,
}

// Lists of indexes the load made, in tables of [mxmigrate] of the same
// shape, read by an export.
const (
	// uniqueKeyList: the filtered unique indexes that stand for UNIQUE
	// constraints of the dump.
	uniqueKeyList = "unique_key"
	// nullsNotDistinctList: the unfiltered unique indexes made for the
	// dump's NULLS NOT DISTINCT unique indexes (an unfiltered unique index
	// over nullable columns does not say which it was).
	nullsNotDistinctList = "nulls_not_distinct"
)

// recordIndex notes index of table in list (uniqueKeyList or
// nullsNotDistinctList).
func recordIndex(ctx context.Context, db *sql.DB, list, schema, table, index string) error {
	_, err := db.ExecContext(ctx, `IF NOT EXISTS (SELECT 1 FROM [mxmigrate].`+quoteIdent(list)+` WHERE [target_schema] = @p1 AND [table_name] = @p2 AND [index_name] = @p3)
INSERT INTO [mxmigrate].`+quoteIdent(list)+` ([target_schema], [table_name], [index_name]) VALUES (@p1, @p2, @p3)`, schema, table, index)
	if err != nil {
		return fmt.Errorf("record index %s in [mxmigrate].%s: %w", index, quoteIdent(list), err)
	}
	return nil
}

// recordedIndexes lists the indexes recordIndex noted in list for schema,
// keyed "table\x00index"; none when the target was not loaded by a
// mxmigrate that keeps the list.
func recordedIndexes(ctx context.Context, db *sql.DB, list, schema string) (map[string]bool, error) {
	table := "[mxmigrate]." + quoteIdent(list)
	rows, err := db.QueryContext(ctx, `IF OBJECT_ID(@p2, N'U') IS NOT NULL
SELECT [table_name], [index_name] FROM `+table+` WHERE [target_schema] = @p1
ELSE SELECT N'', N'' WHERE 1 = 0`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read the indexes mxmigrate recorded in %s: %w", table, err)
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var table, index string
		if err := rows.Scan(&table, &index); err != nil {
			return nil, err
		}
		keys[table+"\x00"+index] = true
	}
	return keys, rows.Err()
}

// loadState is what an earlier run recorded for the target schema.
type loadState struct {
	Fingerprint string
	Status      string // "" when there was no earlier run
}

func readState(ctx context.Context, db *sql.DB, schema string) (loadState, error) {
	var st loadState
	err := db.QueryRowContext(ctx, `IF OBJECT_ID(N'[mxmigrate].[load]', N'U') IS NOT NULL
SELECT [fingerprint], [status] FROM [mxmigrate].[load] WHERE [target_schema] = @p1
ELSE SELECT N'', N'' WHERE 1 = 0`, schema).Scan(&st.Fingerprint, &st.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return loadState{}, nil
	}
	if err != nil {
		return loadState{}, fmt.Errorf("read load state: %w", err)
	}
	return st, nil
}

// createStateTables creates the state tables that do not exist yet (a
// load resumed from a run of an earlier version may lack the newer ones).
func createStateTables(ctx context.Context, db *sql.DB) error {
	for _, stmt := range createStateSQL {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create the state tables in [mxmigrate]: %w", err)
		}
	}
	return nil
}

// beginLoad records a fresh load of fingerprint, forgetting earlier ones.
func beginLoad(ctx context.Context, db *sql.DB, schema, fingerprint string) error {
	if err := createStateTables(ctx, db); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM [mxmigrate].[load_table] WHERE [target_schema] = @p1`,
		`DELETE FROM [mxmigrate].[unique_key] WHERE [target_schema] = @p1`,
		`DELETE FROM [mxmigrate].[nulls_not_distinct] WHERE [target_schema] = @p1`,
		`DELETE FROM [mxmigrate].[load] WHERE [target_schema] = @p1`,
	} {
		if _, err := tx.ExecContext(ctx, q, schema); err != nil {
			return fmt.Errorf("reset load state: %w", err)
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO [mxmigrate].[load] ([target_schema], [fingerprint], [status], [started_at])
VALUES (@p1, @p2, @p3, SYSUTCDATETIME())`, schema, fingerprint, statusLoading)
	if err != nil {
		return fmt.Errorf("record load state: %w", err)
	}
	return tx.Commit()
}

func finishLoad(ctx context.Context, db *sql.DB, schema string) error {
	_, err := db.ExecContext(ctx, `UPDATE [mxmigrate].[load] SET [status] = @p2, [finished_at] = SYSUTCDATETIME() WHERE [target_schema] = @p1`, schema, statusDone)
	if err != nil {
		return fmt.Errorf("record load state: %w", err)
	}
	return nil
}

func tableStatuses(ctx context.Context, db *sql.DB, schema string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT [table_name], [status] FROM [mxmigrate].[load_table] WHERE [target_schema] = @p1`, schema)
	if err != nil {
		return nil, fmt.Errorf("read table states: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, status string
		if err := rows.Scan(&name, &status); err != nil {
			return nil, err
		}
		out[name] = status
	}
	return out, rows.Err()
}

func setTableStatus(ctx context.Context, db *sql.DB, schema, table, status string, rowsCopied int64) error {
	_, err := db.ExecContext(ctx, `UPDATE [mxmigrate].[load_table] SET [status] = @p3, [rows_copied] = @p4 WHERE [target_schema] = @p1 AND [table_name] = @p2;
IF @@ROWCOUNT = 0
INSERT INTO [mxmigrate].[load_table] ([target_schema], [table_name], [status], [rows_copied]) VALUES (@p1, @p2, @p3, @p4)`,
		schema, table, status, rowsCopied)
	if err != nil {
		return fmt.Errorf("record state of table %q: %w", table, err)
	}
	return nil
}
