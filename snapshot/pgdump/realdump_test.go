package pgdump

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/ (archives, golden counts, fuzz seeds) from a real pg_dump")

// realTestdata are archives made by a real pg_dump 15 from mendixSchema
// without the big table (see -update), kept so that the reader is tested
// even where no PostgreSQL is installed.
var realTestdata = []string{"mendix-gzip.backup", "mendix-none-piped.backup"}

// mendixSchema is a Mendix-shaped database with the values most likely to
// trip a COPY parser.
const mendixSchema = `
SET DateStyle = ISO;
CREATE TABLE "mendixsystem$version" (versionnumber varchar(20), lastsyncdate timestamp, preanalysismigrationversionnumber varchar(20));
INSERT INTO "mendixsystem$version" VALUES ('10.6.1', '2024-01-02 03:04:05.123456', NULL);

CREATE TABLE "system$filedocument" (
	id bigint PRIMARY KEY, "__uuid__" varchar(36), name varchar(400), size bigint, hascontents boolean,
	fileid bigint, "__filename__" bigint, submetaobjectname varchar(255), deleteafterdownload boolean,
	createddate timestamp, changeddate timestamp);
INSERT INTO "system$filedocument" VALUES
	(1, '0b1e5b43-6f1c-4b0e-9a3c-1d2e3f405162', 'invoice.pdf', 1234, true, 1, 1, 'System.FileDocument', false, '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
	(2, '7a8b9c0d-1e2f-4a5b-8c7d-6e5f4a3b2c1d', E'th\u00fcmb\tnail\n.png', 99, true, 2, 2, 'System.Thumbnail', false, NULL, NULL),
	(3, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY, "order" text, "user" varchar(200), amount numeric(28,8), createddate timestamp,
	payload bytea, note text, filedoc bigint REFERENCES "system$filedocument"(id));
INSERT INTO "myfirstmodule$order" VALUES
	(1, E'tab\there\nnew line\\back\\slash', '\N', 99999999999999999999.99999999, '0001-01-01 00:00:00', '\x00ff00', '', 1),
	(2, NULL, '', -99999999999999999999.99999999, '9999-12-31 23:59:59.999999', '', NULL, NULL),
	(3, E'\U0001F600 emoji \U0001D11E clef', 'caf' || chr(233), 0.00000001, '2000-02-29 12:00:00', '\x000102030405060708090a0b0c0d0e0f', E'\r\u000b\f\b', 2),
	(4, '\.', E'\\.', 0, '1970-01-01 00:00:00', 'x', E'line1\n\\.\nline3', NULL),
	(5, E'\\N', 'N', -0.5, NULL, '\x5c4e', E'\\\\\\', 3);

CREATE TABLE "myfirstmodule$empty" (id bigint PRIMARY KEY);

CREATE TABLE "myfirstmodule$big" (id bigint PRIMARY KEY, name text, amount numeric(28,8));
INSERT INTO "myfirstmodule$big" SELECT i, 'row ' || i, i / 7.0 FROM generate_series(1, 100000) i;

CREATE SEQUENCE "myfirstmodule$order_id_mxseq";
SELECT setval('"myfirstmodule$order_id_mxseq"', 42, true);
CREATE SEQUENCE "system$filedocument_id_mxseq";
SELECT setval('"system$filedocument_id_mxseq"', 7, false);

CREATE INDEX "idx_myfirstmodule$order_user" ON "myfirstmodule$order" ("user");
SELECT lo_from_bytea(0, 'a large object');
`

var mendixTables = []string{"mendixsystem$version", "system$filedocument", "myfirstmodule$order", "myfirstmodule$empty", "myfirstmodule$big"}

// realDump is one archive made by the real pg_dump.
type realDump struct {
	name      string
	args      []string // extra pg_dump arguments
	piped     bool     // pg_dump writes to a pipe: no data offsets
	wantComp  Compression
	wantLevel int
}

func TestRealArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	cluster := testenv.Postgres(t)
	ctx := context.Background()
	url := testenv.NewDatabase(t, cluster)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, mendixSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET DateStyle = ISO"); err != nil {
		t.Fatal(err)
	}
	var dbName, serverVersion string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('server_version')").Scan(&dbName, &serverVersion); err != nil {
		t.Fatal(err)
	}
	pgDump := filepath.Join(cluster.BinDir(), "pg_dump")
	versionOut, err := exec.Command(pgDump, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}

	dumps := []realDump{
		{name: "default compression", wantComp: CompressionGzip, wantLevel: -1},
		{name: "Z0", args: []string{"-Z0"}, wantComp: CompressionNone},
		{name: "piped", piped: true, wantComp: CompressionGzip, wantLevel: -1},
		{name: "Z0 piped", args: []string{"-Z0"}, piped: true, wantComp: CompressionNone},
	}
	fingerprints := make(map[string]string)
	for _, dump := range dumps {
		t.Run(dump.name, func(t *testing.T) {
			before := time.Now()
			path := runPgDump(t, pgDump, url, dump)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()

			h := f.Header
			if h.Version() != "1.14" || h.MinRestoreMajor() != 12 || h.IntSize != 4 || h.OffSize != 8 ||
				h.Format != FormatCustom || h.Compression != dump.wantComp || h.CompressionLevel != dump.wantLevel ||
				h.DatabaseName != dbName || h.ServerVersion != serverVersion ||
				h.DumpVersion == "" || !strings.Contains(string(versionOut), h.DumpVersion) {
				t.Errorf("header = %+v (server %s, %s)", h, serverVersion, versionOut)
			}
			// Created is the local wall clock without a zone.
			wall := func(tm time.Time) time.Time {
				return time.Date(tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC)
			}
			if h.Created.Before(wall(before).Add(-time.Second)) || h.Created.After(wall(time.Now()).Add(time.Second)) {
				t.Errorf("Created = %v, want the local time of the dump (%v)", h.Created, wall(before))
			}

			checkRealTOC(t, f.Archive, dump)
			checkRealRowCounts(t, ctx, conn, f, path)
			checkRealValues(t, ctx, conn, f)
			checkRealSequences(t, ctx, conn, f.Archive)

			stream, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			a, err := ReadTOC(struct{ io.Reader }{stream})
			if err != nil {
				t.Fatal(err)
			}
			if a.Fingerprint() != f.Fingerprint() {
				t.Error("stream and file fingerprints differ")
			}
			fingerprints[dump.name] = f.Fingerprint()
		})
	}
	if len(fingerprints) == len(dumps) && len(slices.Compact(slices.Sorted(mapValues(fingerprints)))) != len(dumps) {
		t.Errorf("different dumps share a fingerprint: %v", fingerprints)
	}
	if *update {
		writeTestdata(t, pgDump, url)
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func runPgDump(t *testing.T, pgDump, url string, dump realDump) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.backup")
	args := append([]string{"-O", "-x", "-Fc", "--dbname=" + url}, dump.args...)
	cmd := exec.Command(pgDump, args...)
	var stderr, stdout bytes.Buffer
	cmd.Stderr = &stderr
	if dump.piped {
		cmd.Stdout = &stdout // a pipe: pg_dump cannot seek back to write offsets
	} else {
		cmd.Args = append(cmd.Args, "-f", path)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if dump.piped {
		if err := os.WriteFile(path, stdout.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func findEntry(a *Archive, desc, tag string) *Entry {
	for i := range a.Entries {
		if a.Entries[i].Desc == desc && a.Entries[i].Tag == tag {
			return &a.Entries[i]
		}
	}
	return nil
}

func checkRealTOC(t *testing.T, a *Archive, dump realDump) {
	t.Helper()
	for _, table := range mendixTables {
		te := findEntry(a, "TABLE", table)
		if te == nil {
			t.Errorf("no TABLE entry for %s", table)
			continue
		}
		if te.Section != SectionPreData || te.Namespace != "public" || te.TableAM != "heap" || te.HadDumper ||
			!strings.Contains(te.Defn, "CREATE TABLE public."+quoteIdent(table)+" (") || te.hasData() {
			t.Errorf("TABLE entry %+v", te)
		}
		de := findEntry(a, "TABLE DATA", table)
		if de == nil {
			t.Errorf("no TABLE DATA entry for %s", table)
			continue
		}
		if de.Section != SectionData || de.Namespace != "public" || !de.HadDumper ||
			!reflect.DeepEqual(de.Dependencies, []int{te.DumpID}) ||
			!strings.HasPrefix(de.CopyStmt, "COPY public."+quoteIdent(table)+" (") ||
			de.HasDataOffset == dump.piped || (de.HasDataOffset && de.DataOffset < a.DataStart()) {
			t.Errorf("TABLE DATA entry %+v", de)
		}
	}
	cols, err := findEntry(a, "TABLE DATA", "myfirstmodule$order").CopyColumns()
	if want := []string{"id", "order", "user", "amount", "createddate", "payload", "note", "filedoc"}; err != nil || !reflect.DeepEqual(cols, want) {
		t.Errorf("CopyColumns = %q, %v; want %q", cols, err, want)
	}
	wants := []struct {
		desc, tag, defn string
		section         Section
	}{
		{"SEQUENCE", "myfirstmodule$order_id_mxseq", `CREATE SEQUENCE public."myfirstmodule$order_id_mxseq"`, SectionPreData},
		{"SEQUENCE SET", "myfirstmodule$order_id_mxseq", `SELECT pg_catalog.setval('public."myfirstmodule$order_id_mxseq"', 42, true);`, SectionData},
		{"SEQUENCE SET", "system$filedocument_id_mxseq", `SELECT pg_catalog.setval('public."system$filedocument_id_mxseq"', 7, false);`, SectionData},
		{"INDEX", "idx_myfirstmodule$order_user", `CREATE INDEX "idx_myfirstmodule$order_user" ON public."myfirstmodule$order" USING btree ("user");`, SectionPostData},
		{"CONSTRAINT", "myfirstmodule$order myfirstmodule$order_pkey", `ADD CONSTRAINT "myfirstmodule$order_pkey" PRIMARY KEY (id);`, SectionPostData},
		{"FK CONSTRAINT", "myfirstmodule$order myfirstmodule$order_filedoc_fkey", `FOREIGN KEY (filedoc) REFERENCES public."system$filedocument"(id);`, SectionPostData},
		{"ENCODING", "ENCODING", "SET client_encoding = 'UTF8';", SectionPreData},
		{"BLOBS", "BLOBS", "", SectionData},
	}
	for _, w := range wants {
		e := findEntry(a, w.desc, w.tag)
		if e == nil {
			t.Errorf("no %s entry %q", w.desc, w.tag)
			continue
		}
		if !strings.Contains(e.Defn, w.defn) || e.Section != w.section {
			t.Errorf("%s %q: section %v, defn %q; want %v, %q", w.desc, w.tag, e.Section, e.Defn, w.section, w.defn)
		}
	}
	if blobs := findEntry(a, "BLOBS", "BLOBS"); blobs != nil && (!blobs.HadDumper || !blobs.hasData()) {
		t.Errorf("BLOBS entry has no data: %+v", blobs)
	}
	checkEntrySQL(t, a)
}

func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func checkRealRowCounts(t *testing.T, ctx context.Context, conn *pgx.Conn, f *ArchiveFile, path string) {
	t.Helper()
	want := make(map[int]int64)
	for _, table := range mendixTables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want[findEntry(f.Archive, "TABLE DATA", table).DumpID] = n
	}
	counts, err := f.CountAllRows(ctx, f.Data())
	if err != nil || !reflect.DeepEqual(counts, want) {
		t.Errorf("CountAllRows(file) = %v, %v; want %v", counts, err, want)
	}
	// As a stream that cannot seek, the way a dump inside a tar.gz is read.
	stream, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	r := struct{ io.Reader }{stream}
	a, err := ReadTOC(r)
	if err != nil {
		t.Fatal(err)
	}
	counts, err = a.CountAllRows(ctx, r)
	if err != nil || !reflect.DeepEqual(counts, want) {
		t.Errorf("CountAllRows(stream) = %v, %v; want %v", counts, err, want)
	}
	// Random access, biggest table last so that a dump without offsets
	// has to scan past the others first.
	for _, table := range slices.Backward(mendixTables) {
		e := findEntry(f.Archive, "TABLE DATA", table)
		rc, err := f.OpenData(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		n, err := CountRows(ctx, rc)
		rc.Close()
		if err != nil || n != want[e.DumpID] {
			t.Errorf("OpenData(%s): %d rows, %v; want %d", table, n, err, want[e.DumpID])
		}
	}
}

// checkRealValues decodes every table with CopyReader and compares each
// value with the server's text rendering of it.
func checkRealValues(t *testing.T, ctx context.Context, conn *pgx.Conn, f *ArchiveFile) {
	t.Helper()
	for _, table := range mendixTables {
		e := findEntry(f.Archive, "TABLE DATA", table)
		cols, err := e.CopyColumns()
		if err != nil {
			t.Fatal(err)
		}
		// format('%s') renders with the type's output function, as COPY
		// TO and psql do (a cast to text would say "true", not "t").
		exprs := make([]string, len(cols))
		for i, c := range cols {
			exprs[i] = fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN NULL ELSE format('%%s', %[1]s) END", quoteIdent(c))
		}
		rows, err := conn.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+quoteIdent(table))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			vals := make([]*string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			want = append(want, rowKey(vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}

		rc, err := f.OpenData(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		cr := NewCopyReader(rc)
		for {
			fields, err := cr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fields) != len(cols) {
				t.Fatalf("%s: row with %d fields, want %d", table, len(fields), len(cols))
			}
			vals := make([]*string, len(fields))
			for i, fl := range fields {
				if !fl.Null {
					s := string(fl.Value)
					vals[i] = &s
				}
			}
			got = append(got, rowKey(vals))
		}
		rc.Close()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("%s: decoded row %s, server has %s", table, got[i], want[i])
					break
				}
			}
			t.Errorf("%s: %d decoded rows differ from the server's %d", table, len(got), len(want))
		}
	}
}

// rowKey renders a row unambiguously: NULL differs from every string.
func rowKey(vals []*string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = fmt.Sprintf("%q", *v)
		}
	}
	return strings.Join(parts, ",")
}

func checkRealSequences(t *testing.T, ctx context.Context, conn *pgx.Conn, a *Archive) {
	t.Helper()
	for _, seq := range []string{"myfirstmodule$order_id_mxseq", "system$filedocument_id_mxseq"} {
		var want int64
		var wantCalled bool
		if err := conn.QueryRow(ctx, "SELECT last_value, is_called FROM "+quoteIdent(seq)).Scan(&want, &wantCalled); err != nil {
			t.Fatal(err)
		}
		name, value, called, err := findEntry(a, "SEQUENCE SET", seq).SequenceValue()
		if err != nil || name != "public."+quoteIdent(seq) || value != want || called != wantCalled {
			t.Errorf("SequenceValue(%s) = %q, %d, %v, %v; want %d, %v", seq, name, value, called, err, want, wantCalled)
		}
	}
}

// writeTestdata refreshes testdata/ from the real pg_dump: small archives
// (without the big table) and their golden row counts, and fuzz seeds.
func writeTestdata(t *testing.T, pgDump, url string) {
	exclude := []string{"--exclude-table=" + `public."myfirstmodule$big"`}
	golden := make(map[string]map[string]int64)
	for _, d := range []struct {
		file string
		dump realDump
	}{
		{"mendix-gzip.backup", realDump{args: exclude}},
		{"mendix-none-piped.backup", realDump{args: append([]string{"-Z0"}, exclude...), piped: true}},
	} {
		raw, err := os.ReadFile(runPgDump(t, pgDump, url, d.dump))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join("testdata", d.file), raw)
		counts, err := readAllByTag(raw)
		if err != nil {
			t.Fatal(err)
		}
		golden[d.file] = counts
		writeFuzzSeed(t, "FuzzReadTOC", "real-"+d.file, fmt.Sprintf("[]byte(%q)\n", raw))
	}
	data, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join("testdata", "golden-counts.json"), append(data, '\n'))
	for i, seed := range scanDataSeeds(t) {
		writeFuzzSeed(t, "FuzzScanData", fmt.Sprintf("toc-%d", i), fmt.Sprintf("byte(%q)\n[]byte(%q)\n", byte(i), seed))
	}
}

func writeFuzzSeed(t *testing.T, target, name, values string) {
	writeFile(t, filepath.Join("testdata", "fuzz", target, name), []byte("go test fuzz v1\n"+values))
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readAllByTag counts an archive's rows by table name.
func readAllByTag(raw []byte) (map[string]int64, error) {
	r := bytes.NewReader(raw)
	a, err := ReadTOC(r)
	if err != nil {
		return nil, err
	}
	counts, err := a.CountAllRows(context.Background(), r)
	if err != nil {
		return nil, err
	}
	byTag := make(map[string]int64)
	for id, n := range counts {
		e, _ := a.Lookup(id)
		byTag[e.Tag] = n
	}
	return byTag, nil
}

// TestTestdataArchives checks the committed real archives against their
// golden counts, without a server.
func TestTestdataArchives(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "golden-counts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]map[string]int64
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	for _, name := range realTestdata {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAllByTag(raw)
			if err != nil {
				t.Fatal(err)
			}
			if want := golden[name]; len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("counts = %v, want %v", got, want)
			}
			t.Run("inside a backup tar.gz", func(t *testing.T) {
				tr := tar.NewReader(mendixBackupTarGz(t, raw))
				for {
					hdr, err := tr.Next()
					if err != nil {
						t.Fatalf("no db/db.backup: %v", err)
					}
					if hdr.Name == "db/db.backup" {
						break
					}
				}
				a, err := ReadTOC(tr)
				if err != nil {
					t.Fatal(err)
				}
				counts, err := a.CountAllRows(context.Background(), tr)
				if err != nil {
					t.Fatal(err)
				}
				if len(counts) != len(golden[name]) {
					t.Errorf("counted %d tables, want %d", len(counts), len(golden[name]))
				}
				for id, n := range counts {
					if e, _ := a.Lookup(id); golden[name][e.Tag] != n {
						t.Errorf("%s: %d rows, want %d", e.Tag, n, golden[name][e.Tag])
					}
				}
			})
		})
	}
}

// mendixBackupTarGz lays out a Mendix full-snapshot backup around dump, as
// a stream that cannot seek.
func mendixBackupTarGz(t *testing.T, dump []byte) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := []struct {
		name string
		data []byte
	}{
		{".metadata", []byte(`{"duration":"0","dumpSize":"94769","modelVersion":"1.0.0.40"}`)},
		{"db/db.backup", dump},
		{"tree/0b/1e/0b1e5b43-6f1c-4b0e-9a3c-1d2e3f405162", []byte("%PDF-1.4")},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, tw, f.data)
	}
	mustClose(t, tw)
	mustClose(t, gz)
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return zr
}
