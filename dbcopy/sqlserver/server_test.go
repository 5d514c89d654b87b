package sqlserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// MSSQLTestDSNEnv names a sqlserver:// URL (with ?database=) that the
// integration tests may write test schemas into.
const MSSQLTestDSNEnv = "MSSQL_TEST_DSN"

// sqlServerImage is the container the tests start when no DSN is given.
const sqlServerImage = "mcr.microsoft.com/mssql/server:2022-latest"

// sqlServerURL returns a SQL Server to test against: MSSQL_TEST_DSN, or a
// container when a Docker engine answers. Otherwise the test is skipped,
// saying why.
func sqlServerURL(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv(MSSQLTestDSNEnv); dsn != "" {
		return dsn
	}
	if reason := dockerUnavailable(); reason != "" {
		t.Skipf("no SQL Server to test against: %s is not set and no Docker engine is reachable (%s)", MSSQLTestDSNEnv, reason)
	}
	return startSQLServer(t)
}

func dockerUnavailable() (reason string) {
	defer func() {
		if r := recover(); r != nil {
			reason = fmt.Sprint(r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err.Error()
	}
	client.Close()
	return ""
}

func startSQLServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	token := make([]byte, 8)
	rand.Read(token)
	password := "Mx1!" + hex.EncodeToString(token)
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        sqlServerImage,
			ExposedPorts: []string{"1433/tcp"},
			Env:          map[string]string{"ACCEPT_EULA": "Y", "MSSQL_SA_PASSWORD": password},
			WaitingFor: wait.ForAll(
				wait.ForLog("SQL Server is now ready for client connections"),
				wait.ForListeningPort("1433/tcp"),
			).WithDeadline(4 * time.Minute),
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatalf("start %s: %v", sqlServerImage, err)
	}
	endpoint, err := c.PortEndpoint(ctx, "1433/tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "sqlserver", User: url.UserPassword("sa", password), Host: endpoint}
	db, err := sql.Open("sqlserver", u.String()+"?database=master")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The server accepts logins a moment after it says it is ready.
	var lastErr error
	for i := 0; i < 60; i++ {
		if _, lastErr = db.ExecContext(ctx, "IF DB_ID(N'mxtest') IS NULL CREATE DATABASE [mxtest]"); lastErr == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	return u.String() + "?database=mxtest"
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
DELETE FROM [mxmigrate].[load_table] WHERE [target_schema] = @p1; DELETE FROM [mxmigrate].[load] WHERE [target_schema] = @p1 END`, schema)
	}
	if err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Logf("clean up schema %s: %v", schema, err)
	}
}
