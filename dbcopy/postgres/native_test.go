package postgres

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// pgDump16 is a pg_dump 16 (archive 1.15) where the machine has one.
const pgDump16 = "/tmp/mssql-standin/install/bin/pg_dump"

// everyTypeSQL is samplegen.EveryTypeSchema with values at the edges of
// each type, next to Mendix-shaped names: `$`, reserved words, a sequence,
// an empty table and one without a key.
const everyTypeSQL = samplegen.EveryTypeSchema + `
INSERT INTO "module$everytype" (id, "order", "select", total, plain, quantity, priority, weight, ratio, paid,
	signature, orderdate, stamp3, shipped, birthday, alarm, alarmtz, guid, doc, docb, tags, "Mixed Case", "quote""d") VALUES
(1, '', E'tab\there\nnew\\line', 99999999999999999999.99999999, 'NaN', 0, -32768, 'Infinity', 'NaN', true,
	'\x00ff00'::bytea, '0044-03-15 10:00:00 BC', 'infinity', '2000-01-01 00:00:00.000001+14', '0044-03-15 BC', '24:00:00',
	'15:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50]}', '{"b": "😀"}', '{1,NULL,3}', 'ab', 1),
(2, '😀 𝄞', '', -99999999999999999999.99999999, '-0.000', 2147483647, 32767, -1e-300, 3.4028235e+38, false,
	'\x'::bytea, '0001-01-01 00:00:00', '-infinity', '1999-12-31 12:00:00-12', '9999-12-31', '00:00:00',
	'23:59:59.999999-05:30', NULL, 'null', '[]', '{}', NULL, NULL),
(3, 'trailing ', NULL, 0.00000001, 1e-20, 1, 0, '-0', 1e-45, NULL,
	'\x5c00'::bytea, '9999-12-31 23:59:59.999999', '2024-02-29 23:59:59.999', '0001-01-01 00:00:00+00', 'infinity', '12:00:00.5',
	'00:00:00+14', '00000000-0000-0000-0000-000000000000', '""', '{}', NULL, '   ', -1),
(4, E'\\N', E'\\.', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity', '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "module$everytype" (id, "order", "select", signature)
SELECT g, 'row ' || g, repeat(E'x\ty\\z\n', g % 7), decode(md5(g::text), 'hex') FROM generate_series(5, 3000) g;
CREATE INDEX "idx_module$everytype_select" ON "module$everytype" ("select", id);
CREATE UNIQUE INDEX "uq order" ON "module$everytype" ("order");
COMMENT ON TABLE "module$everytype" IS 'every type; with ''quotes''';
COMMENT ON COLUMN "module$everytype"."order" IS 'a reserved word';
CREATE SEQUENCE "module$everytype_id_mxseq" START 5 INCREMENT 3;
SELECT setval('"module$everytype_id_mxseq"', 3001);
CREATE TABLE "system$user" (id bigint PRIMARY KEY, "name" varchar(100), "group" int REFERENCES "module$everytype" (id));
INSERT INTO "system$user" SELECT g, 'user ' || g, g FROM generate_series(1, 500) g;
CREATE TABLE "module$empty" (id bigint PRIMARY KEY, "default" text DEFAULT 'd');
CREATE TABLE "module$nokey" ("table" text, "column" int);
INSERT INTO "module$nokey" VALUES ('a', 1), ('a', 1), (NULL, NULL);
CREATE VIEW "module$users" AS SELECT id, "name" FROM "system$user" WHERE id > 10;
CREATE FUNCTION "module$touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."name" := NEW."name"; RETURN NEW; END $$;
CREATE TRIGGER "touch user" BEFORE UPDATE ON "system$user" FOR EACH ROW EXECUTE FUNCTION "module$touch"();
`

// identityCase is an archive the native loader restores and a reference
// archive of the same database that pg_restore restores; the two targets
// must be the same.
type identityCase struct {
	name      string
	archive   string
	reference string
}

func TestNativeLoadIsIdenticalToPgRestore(t *testing.T) {
	f := sourceFixture(t)
	c := needCluster(t)
	ctx := testCtx(t)
	// Small chunks and no size threshold: the big tables are split across
	// the connections, and rows land in chunks of every shape.
	defer forceSplit(64 << 10)()
	var parts, allParts atomic.Int64
	defer func(old func(*pgdump.Entry)) { partCommitted = old }(partCommitted)
	partCommitted = func(*pgdump.Entry) { parts.Add(1) }

	every := newDatabase(t)
	execSQL(t, every, everyTypeSQL)
	dir := t.TempDir()
	dump := func(tool, name string, args ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, tool, append([]string{"-O", "-x", "-Fc", "-f", out, "--dbname=" + every}, args...)...)
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Dir(filepath.Dir(tool))+"/lib")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", tool, err, b)
		}
		return out
	}
	pgDump15 := filepath.Join(c.BinDir(), "pg_dump")
	everyGzip := dump(pgDump15, "every-gzip.backup")
	cases := []identityCase{
		{name: "fixture", archive: f.src.DumpPath, reference: f.src.DumpPath},
		{name: "every type, gzip", archive: everyGzip, reference: everyGzip},
		{name: "every type, uncompressed", archive: dump(pgDump15, "every-none.backup", "-Z0"), reference: everyGzip},
		{name: "mendix-gzip.backup (large objects)", archive: "../../snapshot/pgdump/testdata/mendix-gzip.backup", reference: "../../snapshot/pgdump/testdata/mendix-gzip.backup"},
		{name: "mendix-none-piped.backup", archive: "../../snapshot/pgdump/testdata/mendix-none-piped.backup", reference: "../../snapshot/pgdump/testdata/mendix-none-piped.backup"},
		{name: "sample.tar.gz", archive: extractSampleDump(t), reference: extractSampleDump(t)},
		{name: "every type, archive 1.16", archive: rewriteArchive(t, everyGzip, 16, nil), reference: everyGzip},
		{name: "every type, archive 1.12 without SEARCHPATH", reference: everyGzip,
			archive: rewriteArchive(t, everyGzip, 12, func(es []pgdump.Entry) []pgdump.Entry {
				return slices.DeleteFunc(es, func(e pgdump.Entry) bool { return e.Desc == "SEARCHPATH" })
			})},
	}
	// lz4 and zstd: pg_dump writes them from version 16, and not every
	// build has them, so the archive is compressed anew here.
	for _, comp := range []pgdump.Compression{pgdump.CompressionLZ4, pgdump.CompressionZstd} {
		for _, minor := range []int{15, 16} {
			cases = append(cases, identityCase{name: fmt.Sprintf("every type, %s, archive 1.%d", comp, minor),
				archive: recompressArchive(t, everyGzip, minor, comp, nil), reference: everyGzip})
		}
	}
	if _, err := os.Stat(pgDump16); err == nil {
		pg16 := dump(pgDump16, "every-16.backup")
		cases = append(cases,
			identityCase{name: "pg_dump 16 (archive 1.15)", archive: pg16, reference: everyGzip},
			identityCase{name: "pg_dump 16, uncompressed", archive: dump(pgDump16, "every-16-none.backup", "--compress=none"), reference: everyGzip},
			identityCase{name: "pg_dump 16, header made 1.16", archive: rewriteArchive(t, pg16, 16, nil), reference: everyGzip})
	} else {
		t.Logf("no pg_dump 16 at %s: archive 1.15 is covered by rewritten archives only", pgDump16)
	}
	defer func() {
		// Joining a split table depends on timing; across all cases some
		// connection must have joined one.
		if n := allParts.Load(); n <= int64(len(cases)) && !t.Failed() {
			t.Errorf("%d parts committed for %d cases: no split table was copied on two connections", n, len(cases))
		}
	}()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			h := archiveHeader(t, tc.archive)
			t.Logf("archive %s, %s compression, pg_dump %s", h.Version(), h.Compression, h.DumpVersion)
			parts.Store(0)
			native := newDatabase(t)
			src := sourceOf(t, tc.archive)
			opts := dbcopy.Options{Jobs: 3, Loader: LoaderNative}
			if _, err := migrate(ctx, openTarget(t, native, opts), src, 0); err != nil {
				t.Fatalf("native load: %v", err)
			}
			if parts.Load() == 0 {
				t.Errorf("no part of a split table committed: no table was split")
			}
			allParts.Add(parts.Load())
			reference := newDatabase(t)
			restore := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "-d", reference, tc.reference)
			if out, err := restore.CombinedOutput(); err != nil {
				t.Fatalf("pg_restore: %v: %s", err, out)
			}
			want, got := snapshotDatabase(t, reference), snapshotDatabase(t, native)
			if len(want) < 3 {
				t.Fatalf("the reference holds almost nothing: %v", want)
			}
			for _, k := range sortedKeys(want, got) {
				if want[k] != got[k] {
					t.Errorf("%s:\n native     %q\n pg_restore %q", k, got[k], want[k])
				}
			}
		})
	}
}

// forceSplit makes every table big enough to split, in chunks of size
// bytes, until the returned function is called.
func forceSplit(size int) func() {
	oldMin, oldChunk, oldIndexed := splitMinBytes, chunkBytes, splitIndexedTables
	splitMinBytes, chunkBytes, splitIndexedTables = 0, size, true
	return func() { splitMinBytes, chunkBytes, splitIndexedTables = oldMin, oldChunk, oldIndexed }
}

func archiveHeader(t *testing.T, path string) pgdump.Header {
	t.Helper()
	af, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	return af.Header
}

// sourceOf describes an archive as the pipeline does, with row counts.
func sourceOf(t *testing.T, path string) *dbcopy.Source {
	t.Helper()
	af, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	counts, err := af.CountAllRows(testCtx(t), af.Data())
	if err != nil {
		t.Fatal(err)
	}
	src := &dbcopy.Source{DumpPath: path, Fingerprint: af.Fingerprint(), ArchiveVersion: af.Header.Version(),
		MinRestoreMajor: af.Header.MinRestoreMajor(), ServerVersion: af.Header.ServerVersion, Schema: "public"}
	for i := range af.Entries {
		if e := &af.Entries[i]; e.Desc == "TABLE DATA" {
			src.Tables = append(src.Tables, dbcopy.SourceTable{Name: e.Tag, Rows: counts[e.DumpID]})
		}
	}
	return src
}

// extractSampleDump writes the committed sample backup's db/db.backup to
// a temporary file.
func extractSampleDump(t *testing.T) string {
	t.Helper()
	return testenv.ExtractDump(t, "../../testdata/sample.tar.gz")
}

// snapshotQueries describe a database's public schema: every table's
// content as a digest of its rows' text in a fixed order, and the catalog
// (columns, indexes, constraints, sequences, views, triggers, comments,
// large objects).
var snapshotQueries = map[string]string{
	"columns": `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, '-') || ' ' || is_nullable
		|| ' ' || coalesce(collation_name, '-') || ' ' || coalesce(generation_expression, '-')
		FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
	"indexes": `SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1`,
	"constraints": `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1`,
	"sequences": `SELECT sequencename || ' ' || start_value || ' ' || increment_by || ' ' || coalesce(last_value::text, 'not called')
		FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`,
	"owned sequences": `SELECT s.relname || ' ' || t.relname || '.' || a.attname FROM pg_depend d
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_class t ON t.oid = d.refobjid
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
		WHERE d.deptype IN ('a', 'i') AND s.relnamespace = 'public'::regnamespace ORDER BY 1`,
	"views":    `SELECT viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1`,
	"triggers": `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`,
	"comments": `SELECT c.relname || ' ' || d.objsubid || ' ' || d.description FROM pg_description d
		JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass ORDER BY 1`,
	"large objects": `SELECT oid::text || ' ' || md5(lo_get(oid)) FROM pg_largeobject_metadata ORDER BY oid`,
	"tables":        `SELECT relname || ' ' || relkind::text || ' ' || relpersistence::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`,
}

func snapshotDatabase(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := testCtx(t)
	conn := sqlConn(t, url)
	defer closeQuietly(conn)
	out := map[string]string{}
	for name, q := range snapshotQueries {
		lines, err := queryStrings(ctx, conn, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = strings.Join(lines, "\n")
	}
	for name, digest := range testenv.TableDigests(t, url, "public") {
		out["table "+name] = digest
	}
	return out
}

func sortedKeys(maps ...map[string]string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sortStrings(keys)
	return keys
}

func TestUnknownEntryKindIsNamed(t *testing.T) {
	f := sourceFixture(t)
	var victim pgdump.Entry
	archive := rewriteArchive(t, f.src.DumpPath, 14, func(es []pgdump.Entry) []pgdump.Entry {
		for i := range es {
			if es[i].Desc == "INDEX" {
				es[i].Desc = "GIZMO"
				victim = es[i]
				break
			}
		}
		return es
	})
	if victim.DumpID == 0 {
		t.Fatal("the fixture has no INDEX entry to disguise")
	}
	target := newDatabase(t)
	src := sourceOf(t, archive)
	_, err := migrate(testCtx(t), openTarget(t, target, dbcopy.Options{}), src, 0)
	want := fmt.Sprintf("TOC entry %d (GIZMO public.%s)", victim.DumpID, victim.Tag)
	if exitcode.Of(err) != exitcode.BadInput || !containsAll(err.Error(), want, `entry kind "GIZMO"`, "--loader pg_restore") {
		t.Fatalf("load = %v (code %d), want bad input naming %q", err, exitcode.Of(err), want)
	}
	// Refused before writing anything.
	conn := sqlConn(t, target)
	var tables int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Errorf("%d tables created before the refusal (%v)", tables, err)
	}
}

func TestFreezeCopy(t *testing.T) {
	cases := map[string]string{
		"COPY public.\"a$b\" (id, \"order\") FROM stdin;\n": "COPY public.\"a$b\" (id, \"order\") FROM stdin WITH (FREEZE);",
		"COPY public.t (x) FROM STDIN;":                     "COPY public.t (x) FROM STDIN WITH (FREEZE);",
		"COPY public.t (x) FROM stdin WITH (FORMAT text);":  "COPY public.t (x) FROM stdin WITH (FORMAT text);",
	}
	for in, want := range cases {
		if got := freezeCopy(in); got != want {
			t.Errorf("freezeCopy(%q) = %q, want %q", in, got, want)
		}
	}
}

func sortStrings(s []string) { sort.Strings(s) }

// The native loader counts each table it loads once the table's data and
// indexes are in; the Inventory right after takes those counts, and any
// later Inventory counts the tables again.
func TestLoadCountsItsTablesForTheInventory(t *testing.T) {
	f := sourceFixture(t)
	ctx := testCtx(t)
	for _, jobs := range []int{1, 3} {
		t.Run(fmt.Sprintf("jobs %d", jobs), func(t *testing.T) {
			url := newDatabase(t)
			opts := dbcopy.Options{Jobs: jobs, Loader: LoaderNative}
			tg := openTarget(t, url, opts)
			if _, err := migrate(ctx, tg, f.src, 0); err != nil {
				t.Fatalf("native load: %v", err)
			}
			tg.countedMu.Lock()
			early := maps.Clone(tg.counted)
			tg.countedMu.Unlock()
			if len(early) != len(f.src.Tables) {
				t.Errorf("the load counted %d tables, the dump holds %d: %v", len(early), len(f.src.Tables), early)
			}
			for _, tb := range f.src.Tables {
				if n, ok := early[tb.Name]; !ok || n != tb.Rows {
					t.Errorf("table %s: counted %d (%v) during the load, the dump holds %d", tb.Name, n, ok, tb.Rows)
				}
			}
			inv, err := tg.Inventory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range f.src.Tables {
				if inv.Tables[tb.Name] != tb.Rows {
					t.Errorf("inventory of %s: %d rows, the dump holds %d", tb.Name, inv.Tables[tb.Name], tb.Rows)
				}
			}
			// A later Inventory counts afresh: a row deleted since shows.
			victim := f.src.Tables[0]
			for _, tb := range f.src.Tables {
				if tb.Rows > victim.Rows {
					victim = tb
				}
			}
			execSQL(t, url, fmt.Sprintf(`DELETE FROM public.%s WHERE ctid = (SELECT min(ctid) FROM public.%s)`,
				pgx.Identifier{victim.Name}.Sanitize(), pgx.Identifier{victim.Name}.Sanitize()))
			inv, err = tg.Inventory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Tables[victim.Name]; got != victim.Rows-1 {
				t.Errorf("second inventory of %s: %d rows, want %d after one delete", victim.Name, got, victim.Rows-1)
			}
		})
	}
}
