package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/dbcopytest"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

// One cluster serves the whole package: every test works in databases of
// its own, and initdb per test would cost more than the tests.
var (
	cluster    *pgserver.Cluster
	clusterErr error
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" || dbcopytest.InChild() {
		// A child process of TestKillDuringDataThenResume or of the
		// conformance suite: it reaches the parent's cluster by URL and
		// needs none of its own.
		os.Exit(m.Run())
	}
	os.Exit(runWithCluster(m))
}

func runWithCluster(m *testing.M) int {
	flag.Parse() // testing.Short needs the flags before m.Run parses them
	if testing.Short() {
		return m.Run() // needCluster skips every test that needs it
	}
	dir, err := os.MkdirTemp("", "mxmigrate-pgtest-")
	if err != nil {
		clusterErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	if _, _, err := pgserver.FindBinDir(); err != nil {
		clusterErr = err
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cluster, clusterErr = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "cluster")})
	cancel()
	if clusterErr == nil {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = cluster.Remove(ctx)
		}()
	}
	return m.Run()
}

func needCluster(t *testing.T) *pgserver.Cluster {
	t.Helper()
	testenv.SkipIfShort(t, "PostgreSQL")
	if clusterErr != nil {
		testenv.Unavailable(t, "PostgreSQL", fmt.Sprintf("%v; install the server binaries (apt-get install postgresql) or set %s", clusterErr, pgserver.BinDirEnv))
	}
	return cluster
}

var dbCounter atomic.Int64

// newDatabase creates an empty database and returns its URL.
func newDatabase(t *testing.T) string {
	t.Helper()
	c := needCluster(t)
	name := fmt.Sprintf("target_%d", dbCounter.Add(1))
	if err := c.CreateDatabase(testCtx(t), name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return c.URL(name)
}

// testCtx bounds a test's database work, so that a hang fails instead of
// blocking the suite.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sourceSQL builds a Mendix-shaped database full of values that break
// naive copies.
const sourceSQL = `
CREATE TABLE "mendixsystem$version" (
	versionnumber varchar(30) NOT NULL,
	lastsyncdate timestamp,
	modelversion varchar(200)
);
INSERT INTO "mendixsystem$version" VALUES ('10.6.1', '2024-02-29 12:34:56.789', '1.0.0.40');

CREATE SEQUENCE "system$filedocument_mxseq";
SELECT setval('"system$filedocument_mxseq"', 1000, true);
CREATE SEQUENCE "myfirstmodule$order_nr_mxseq";
SELECT setval('"myfirstmodule$order_nr_mxseq"', 7, false);

CREATE TABLE "system$filedocument" (
	id bigint PRIMARY KEY,
	__uuid__ varchar(36),
	__filename__ bigint,
	name varchar(400),
	deleteafterdownload boolean,
	hascontents boolean,
	size bigint,
	submetaobjectname varchar(255),
	createddate timestamp,
	changeddate timestamp,
	contents bytea
);
CREATE INDEX "idx_system$filedocument_submetaobjectname" ON "system$filedocument" (submetaobjectname, id);
INSERT INTO "system$filedocument"
SELECT g, md5(g::text)::uuid::text, g, 'file ' || g || '.pdf', g % 2 = 0, g % 3 <> 0, g * 1024,
	CASE WHEN g % 5 = 0 THEN 'System.Thumbnail' ELSE 'System.FileDocument' END,
	'2020-01-01'::timestamp + g * interval '1 hour', NULL, decode(lpad(to_hex(g), 8, '0'), 'hex')
FROM generate_series(1, 300) g;
INSERT INTO "system$filedocument" (id, name, createddate, contents) VALUES
	(1001, NULL, '0001-01-01 00:00:00', '\x00'),
	(1002, '', '9999-12-31 23:59:59.999999', '\x0000ff0000'),
	(1003, 'null byte neighbours', NULL, '\x');

CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY,
	"order" text,
	"user" varchar(200),
	"select" numeric(28,8),
	placed timestamp,
	placedtz timestamptz,
	delivered date,
	shipped boolean,
	ratio double precision,
	qty integer,
	"system$owner" bigint,
	CONSTRAINT "uq_myfirstmodule$order_order" UNIQUE ("order"),
	CONSTRAINT "fk_myfirstmodule$order_owner" FOREIGN KEY ("system$owner") REFERENCES "system$filedocument" (id)
);
CREATE INDEX "idx_myfirstmodule$order_user" ON "myfirstmodule$order" ("user");
INSERT INTO "myfirstmodule$order" VALUES
	(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(2, '', '', 0, '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01', false, 0, 0, 1),
	(3, E'tab\there\nnewline\\backslash\r', 'O''Brien', 99999999999999999999.99999999,
		'9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '9999-12-31', true, 1.7976931348623157e308, 2147483647, 2),
	(4, '\N', E'\\N', -99999999999999999999.99999999, 'infinity', '-infinity', 'infinity', true, -2.2250738585072014e-308, -2147483648, 3),
	(5, '😀 𝄞 ünïcödé 漢字', '"; DROP TABLE x; --', 0.00000001, '2000-02-29 01:02:03.456789', '2000-02-29 01:02:03.456789+05:30', '2000-02-29', NULL, -0.5, 42, NULL),
	(6, 'copy end marker \.', 'select', -0.00000001, NULL, NULL, NULL, false, 3.14159, NULL, 300);

CREATE TABLE "myfirstmodule$emptything" (id bigint PRIMARY KEY, note text);

CREATE TABLE "myfirstmodule$bulk" (id bigint PRIMARY KEY, payload text);
INSERT INTO "myfirstmodule$bulk" SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;

CREATE TABLE "myfirstmodule$nokey" (a text, b integer);
INSERT INTO "myfirstmodule$nokey" VALUES ('x', 1), ('x', 1), ('b', NULL), (NULL, 2), ('B', 3);
`

// fixture is the source database, its dump, and the dbcopy.Source built
// from it by hand.
type fixture struct {
	url string
	src *dbcopy.Source
	// nextValues is what nextval() returns on each source sequence.
	nextValues map[string]int64
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
)

func sourceFixture(t *testing.T) *fixture {
	t.Helper()
	c := needCluster(t)
	fixtureOnce.Do(func() { theFixture, fixtureErr = buildFixture(c) })
	if fixtureErr != nil {
		t.Fatalf("build the source fixture: %v", fixtureErr)
	}
	return theFixture
}

func buildFixture(c *pgserver.Cluster) (*fixture, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, "source"); err != nil {
		return nil, err
	}
	f := &fixture{url: c.URL("source"), nextValues: map[string]int64{}}
	conn, err := pgx.Connect(ctx, f.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sourceSQL); err != nil {
		return nil, fmt.Errorf("create the source data: %w", err)
	}
	dir, err := os.MkdirTemp(c.Dir(), "dump-")
	if err != nil {
		return nil, err
	}
	dump := filepath.Join(dir, "db.backup")
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pg_dump"), "-O", "-x", "-Fc", "-f", dump, "--dbname="+f.url)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_dump: %v: %s", err, out)
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	major, _, err := pgserver.ToolVersion(c.BinDir(), "pg_restore")
	if err != nil {
		return nil, err
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return nil, err
	}
	src := &dbcopy.Source{
		DumpPath: dump, Fingerprint: hex.EncodeToString(sum[:]), ArchiveVersion: "1.14",
		MinRestoreMajor: major, ServerVersion: version, DumpVersion: version, Schema: "public",
	}
	tables, err := queryStrings(ctx, conn, `SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	for _, name := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{"public", name}.Sanitize()).Scan(&n); err != nil {
			return nil, err
		}
		src.Tables = append(src.Tables, dbcopy.SourceTable{Name: name, Rows: n})
	}
	seqs, err := queryStrings(ctx, conn, `SELECT sequencename::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	for _, name := range seqs {
		var s dbcopy.SourceSequence
		s.Name = name
		if err := conn.QueryRow(ctx, "SELECT last_value, is_called FROM "+pgx.Identifier{"public", name}.Sanitize()).Scan(&s.Value, &s.IsCalled); err != nil {
			return nil, err
		}
		src.Sequences = append(src.Sequences, s)
		// Every sequence here counts up by one.
		f.nextValues[name] = s.Value
		if s.IsCalled {
			f.nextValues[name]++
		}
	}
	rows, err := conn.Query(ctx, `
SELECT r.relname::text, c.relname::text, 'INDEX' FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid
WHERE r.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
	AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid AND contype = 'u')
UNION ALL
SELECT r.relname::text, co.conname::text, CASE co.contype WHEN 'f' THEN 'FK CONSTRAINT' ELSE 'CONSTRAINT' END
FROM pg_constraint co JOIN pg_class r ON r.oid = co.conrelid
WHERE r.relnamespace = 'public'::regnamespace AND co.contype IN ('p', 'u', 'f')
ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	objs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dbcopy.SourceObject, error) {
		var o dbcopy.SourceObject
		return o, r.Scan(&o.Table, &o.Name, &o.Kind)
	})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Kind == "INDEX" {
			src.Indexes = append(src.Indexes, o)
		} else {
			src.Constraints = append(src.Constraints, o)
		}
	}
	f.src = src
	return f, nil
}

func queryStrings(ctx context.Context, conn *pgx.Conn, sql string, args ...any) ([]string, error) {
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// copySource returns a copy of the fixture's source that a test may change.
func (f *fixture) copySource() *dbcopy.Source {
	s := *f.src
	return &s
}
