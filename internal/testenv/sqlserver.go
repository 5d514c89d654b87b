package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/microsoft/go-mssqldb" // the sqlserver driver, to create the container's database
	dockerclient "github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// SQLServerDSNEnv names a sqlserver:// URL (with ?database=) that
// integration tests may create schemas and databases in. `make test` sets
// it when it starts the SQL Server stand-in (../shared/mssql-standin).
const SQLServerDSNEnv = "MSSQL_TEST_DSN"

// sqlServerImage is the container started when no DSN is given.
const sqlServerImage = "mcr.microsoft.com/mssql/server:2022-latest"

// SQLServer returns the URL of a SQL Server to test against:
// $MSSQL_TEST_DSN, else a container started for this test when a Docker
// engine answers. Otherwise the test is skipped saying why, or failed when
// MXTEST_REQUIRE_SERVERS requires SQL Server (see Unavailable).
func SQLServer(t testing.TB) string {
	t.Helper()
	SkipIfShort(t, "SQL Server")
	if dsn := os.Getenv(SQLServerDSNEnv); dsn != "" {
		return dsn
	}
	if reason := dockerUnavailable(); reason != "" {
		Unavailable(t, "SQL Server", fmt.Sprintf("%s is not set and no Docker engine is reachable (%s): "+
			"start ../shared/mssql-standin/start.sh and export the %s it prints, or run `make test`, which does",
			SQLServerDSNEnv, reason, SQLServerDSNEnv))
		return ""
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
	defer client.Close()
	// The client falls back to the environment's defaults without checking
	// that anything answers there.
	if _, err := client.Ping(ctx, dockerclient.PingOptions{}); err != nil {
		return err.Error()
	}
	return ""
}

func startSQLServer(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	password, err := randomToken(8)
	if err != nil {
		t.Fatal(err)
	}
	password = "Mx1!" + password
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
		t.Fatalf("testenv: start %s: %v", sqlServerImage, err)
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
	for range 60 {
		if _, lastErr = db.ExecContext(ctx, "IF DB_ID(N'mxtest') IS NULL CREATE DATABASE [mxtest]"); lastErr == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if lastErr != nil {
		t.Fatalf("testenv: create the test database: %v", lastErr)
	}
	return u.String() + "?database=mxtest"
}
