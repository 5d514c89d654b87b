package postgres

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy/dbcopytest"
)

func TestConformance(t *testing.T) {
	dbcopytest.Run(t, dbcopytest.Factory{
		NewDatabase: newDatabase,
		Unreachable: func(port int) string {
			return fmt.Sprintf("postgres://mxmigrate:hunter22@127.0.0.1:%d/app?sslmode=disable&connect_timeout=10", port)
		},
		Query:   conformanceQuery,
		Connect: conformanceApp,
		CatalogQuery: `
SELECT 'schema ' || nspname FROM pg_namespace
UNION ALL
SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
ORDER BY 1`,
	})
}

// conformanceQuery runs statement as mxmigrate-conformance, a session the
// session check ignores.
func conformanceQuery(ctx context.Context, rawURL, statement string) ([]string, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = appName + "-conformance"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeQuietly(conn)
	rows, err := conn.Query(ctx, statement, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// conformanceApp connects as an app: no application name of ours.
func conformanceApp(ctx context.Context, rawURL string) (io.Closer, error) {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return closer{conn}, nil
}

type closer struct{ conn *pgx.Conn }

func (c closer) Close() error { closeQuietly(c.conn); return nil }
