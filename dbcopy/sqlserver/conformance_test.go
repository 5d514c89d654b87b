package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy/dbcopytest"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

func TestConformance(t *testing.T) {
	dbcopytest.Run(t, dbcopytest.Factory{
		NewDatabase: newTestDatabase,
		Unreachable: func(port int) string {
			return fmt.Sprintf("sqlserver://sa:hunter22@127.0.0.1:%d?database=app&dial+timeout=10", port)
		},
		Query:   conformanceQuery,
		Connect: conformanceApp,
		// RTRIM: type is char(2); the stand-in also needs it to type the
		// UNION as text.
		CatalogQuery: `SELECT N'schema ' + name FROM sys.schemas
UNION ALL
SELECT N'object ' + SCHEMA_NAME(schema_id) + N'.' + name + N' ' + RTRIM(type) FROM sys.objects WHERE is_ms_shipped = 0
ORDER BY 1`,
	})
}

// newTestDatabase creates a database of its own on the test server (the
// migration lock is per database) and drops it when t ends.
func newTestDatabase(t *testing.T) string {
	t.Helper()
	server, err := url.Parse(testenv.SQLServer(t))
	if err != nil {
		t.Fatal(err)
	}
	name := testSchemaName("mxconf")
	admin, err := sql.Open("sqlserver", server.String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+quoteIdent(name)); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	q := server.Query()
	q.Set("database", name)
	server.RawQuery = q.Encode()
	return server.String()
}

// conformanceQuery runs statement as mxmigrate (the session check ignores
// its own program name).
func conformanceQuery(ctx context.Context, rawURL, statement string) ([]string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("app name", AppName)
	u.RawQuery = q.Encode()
	db, err := sql.Open("sqlserver", u.String())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, statement)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// conformanceApp connects as an app: the driver's own program name.
func conformanceApp(ctx context.Context, rawURL string) (io.Closer, error) {
	db, err := sql.Open("sqlserver", rawURL)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return appSession{db, conn}, nil
}

type appSession struct {
	db   *sql.DB
	conn *sql.Conn
}

func (a appSession) Close() error {
	a.conn.Close()
	return a.db.Close()
}
