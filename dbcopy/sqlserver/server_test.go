package sqlserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// sqlServerURL returns a SQL Server to test against (testenv.SQLServer:
// MSSQL_TEST_DSN, which `make test` sets from the stand-in, or a container),
// or skips the test saying why; MXTEST_REQUIRE_SERVERS makes that a
// failure.
func sqlServerURL(t *testing.T) string {
	t.Helper()
	return testenv.SQLServer(t)
}

// testSchemaName is a schema of its own for each test, so that tests and
// reruns never see each other's tables.
func testSchemaName(prefix string) string {
	token := make([]byte, 4)
	rand.Read(token)
	return prefix + "_" + hex.EncodeToString(token)
}

// openDB connects directly, as mxmigrate (so the sessions check ignores it).
func openDB(t *testing.T, rawURL string) *sql.DB {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	info, err := parseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mssql.NewConnector(info.dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// dropTestSchema removes what a test loaded, and its state.
func dropTestSchema(t *testing.T, db *sql.DB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objects, err := listObjects(ctx, db, schema)
	if err == nil {
		err = dropObjects(ctx, db, schema, objects)
	}
	if err == nil {
		_, err = db.ExecContext(ctx, `IF SCHEMA_ID(@p1) IS NOT NULL BEGIN DECLARE @s nvarchar(400) = N'DROP SCHEMA ' + QUOTENAME(@p1); EXEC (@s) END;
IF OBJECT_ID(N'[mxmigrate].[load]', N'U') IS NOT NULL BEGIN
DELETE FROM [mxmigrate].[load_table] WHERE [target_schema] = @p1; DELETE FROM [mxmigrate].[load] WHERE [target_schema] = @p1 END;
IF OBJECT_ID(N'[mxmigrate].[unique_key]', N'U') IS NOT NULL DELETE FROM [mxmigrate].[unique_key] WHERE [target_schema] = @p1;
IF OBJECT_ID(N'[mxmigrate].[nulls_not_distinct]', N'U') IS NOT NULL DELETE FROM [mxmigrate].[nulls_not_distinct] WHERE [target_schema] = @p1`, schema)
	}
	if err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Logf("clean up schema %s: %v", schema, err)
	}
}
