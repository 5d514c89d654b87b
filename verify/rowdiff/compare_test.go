package rowdiff

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	_ "github.com/mxmigrate/mxmigrate/dbcopy/postgres"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
	"github.com/mxmigrate/mxmigrate/verify/canon"
)

func TestRowEncodingIsUnambiguous(t *testing.T) {
	text := func(v string) pgdump.Field { return pgdump.Field{Value: []byte(v)} }
	null := pgdump.Field{Null: true}
	kinds := []canon.Kind{canon.KindText, canon.KindText}
	names := []string{"a", "b"}
	cases := []struct {
		name string
		x, y []pgdump.Field
	}{
		{"NULL and the empty string", []pgdump.Field{null, text("")}, []pgdump.Field{text(""), text("")}},
		{"NULL and the text \\N", []pgdump.Field{text(`\N`), null}, []pgdump.Field{null, null}},
		{"column boundaries", []pgdump.Field{text("ab"), text("c")}, []pgdump.Field{text("a"), text("bc")}},
		{"a value that looks like an encoding", []pgdump.Field{text("\x01"), null}, []pgdump.Field{text(""), text("")}},
	}
	for _, c := range cases {
		s := newSeeds()
		x, y := newRowEncoder(names, kinds, s), newRowEncoder(names, kinds, s)
		if err := x.encodeFields(c.x); err != nil {
			t.Fatal(err)
		}
		if err := y.encodeFields(c.y); err != nil {
			t.Fatal(err)
		}
		if x.hash() == y.hash() {
			t.Errorf("%s: rows %q and %q hash alike", c.name, x.buf, y.buf)
		}
	}
}

// TestRowEncodingAgrees checks that a row from COPY text and the same row
// as a driver's values encode to the same bytes.
func TestRowEncodingAgrees(t *testing.T) {
	names := []string{"id", "total", "notes", "shipped", "signature"}
	kinds := []canon.Kind{canon.KindInt, canon.KindNumeric, canon.KindText, canon.KindTimestamptz, canon.KindBytea}
	fields := []pgdump.Field{{Value: []byte("42")}, {Value: []byte("1.5")}, {Null: true},
		{Value: []byte("2000-01-01 00:00:00.000001+14")}, {Value: []byte(`\x00ff`)}}
	values := []any{int64(42), "1.50000000", nil, time.Date(1999, 12, 31, 10, 0, 0, 1000, time.UTC), []byte{0, 0xff}}
	s := newSeeds()
	x, y := newRowEncoder(names, kinds, s), newRowEncoder(names, kinds, s)
	if err := x.encodeFields(fields); err != nil {
		t.Fatal(err)
	}
	if err := y.encodeValues(values); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.buf, y.buf) {
		t.Errorf("encodings differ:\n text   %q\n values %q", x.buf, y.buf)
	}
	if got := x.keyText([]int{0, 2}, names); got != "id=42, notes=NULL" {
		t.Errorf("keyText = %q", got)
	}
}

func TestDigestIsAMultiset(t *testing.T) {
	enc := newRowEncoder([]string{"v"}, []canon.Kind{canon.KindText}, newSeeds())
	hashOf := func(v string) rowHash {
		if err := enc.encodeValues([]any{v}); err != nil {
			t.Fatal(err)
		}
		return enc.hash()
	}
	digestOf := func(rows ...string) digest {
		var d digest
		for _, r := range rows {
			d.add(hashOf(r))
		}
		return d
	}
	if digestOf("a", "b", "c") != digestOf("c", "a", "b") {
		t.Error("the digest depends on the order of the rows")
	}
	if digestOf("a", "a", "b") == digestOf("a", "b", "b") {
		t.Error("the digest does not count repeated rows")
	}
	if digestOf("a", "b") == digestOf("a", "b", "c") {
		t.Error("an extra row does not change the digest")
	}
}

func TestKeyColumns(t *testing.T) {
	position := map[string]int{"id": 0, "a": 1, "b": 2}
	cases := []struct {
		name       string
		position   map[string]int
		primaryKey []string
		want       []int
	}{
		{"primary key", position, []string{"b", "a"}, []int{2, 1}},
		{"id without a primary key", position, nil, []int{0}},
		{"primary key not among the columns", position, []string{"c"}, []int{0}},
		{"neither: the whole row", map[string]int{"a": 0, "b": 1}, nil, []int{0, 1}},
	}
	for _, c := range cases {
		if got := keyColumns(c.position, c.primaryKey, len(c.position)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: keyColumns = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSortByDataOffset(t *testing.T) {
	entry := func(id int, offset int64, known bool) *pgdump.Entry {
		return &pgdump.Entry{DumpID: id, DataOffset: offset, HasDataOffset: known}
	}
	ids := func(es []*pgdump.Entry) []int {
		var out []int
		for _, e := range es {
			out = append(out, e.DumpID)
		}
		return out
	}
	withOffsets := []*pgdump.Entry{entry(1, 300, true), entry(2, 100, true), entry(3, 200, true)}
	sortByDataOffset(withOffsets)
	if got := ids(withOffsets); !reflect.DeepEqual(got, []int{2, 3, 1}) {
		t.Errorf("with offsets: order %v, want [2 3 1]", got)
	}
	// A dump written to a pipe has no offsets: the TOC order stays.
	piped := []*pgdump.Entry{entry(1, 300, true), entry(2, 0, false), entry(3, 200, true)}
	sortByDataOffset(piped)
	if got := ids(piped); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Errorf("without offsets: order %v, want [1 2 3]", got)
	}
}

func TestShowValue(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	cases := []struct {
		v    []byte
		null bool
		want string
	}{
		{nil, true, "NULL"},
		{[]byte(""), false, `""`},
		{[]byte("1.5"), false, `"1.5"`},
		{[]byte("tab\there"), false, `"tab\there"`},
		{[]byte(long), false, strconv.Quote(strings.Repeat("é", 32)) + "… (80 bytes)"},
	}
	for _, c := range cases {
		if got := showValue(c.v, c.null); got != c.want {
			t.Errorf("showValue(%q, %v) = %s, want %s", c.v, c.null, got, c.want)
		}
	}
}

// TestCompareContentsIdentical compares the committed sample backup with a
// target that holds the same rows as a SQL Server driver would return
// them (decimals padded to their scale, real widened to float64,
// timestamptz in another zone, uuids in upper case), in reverse order.
func TestCompareContentsIdentical(t *testing.T) {
	dump := sampleDump(t)
	for _, jobs := range []int{1, 3} {
		t.Run(fmt.Sprintf("jobs=%d", jobs), func(t *testing.T) {
			target := targetFromDump(t, dump)
			f := openDumpFile(t, dump)
			rep := reportFor(f.Archive)
			if err := Compare(context.Background(), f, target, rep, jobs); err != nil {
				t.Fatal(err)
			}
			if !rep.Checksums {
				t.Error("Checksums is not set")
			}
			compared := assertAllMatch(t, rep)
			if compared < 10 {
				t.Errorf("only %d tables were compared", compared)
			}
			if got := target.scans.Load(); got != int64(compared) {
				t.Errorf("%d target scans for %d tables, want one each", got, compared)
			}
			if got := target.maxInFlight.Load(); got > int64(jobs) {
				t.Errorf("%d target scans at once, more than jobs=%d", got, jobs)
			}
		})
	}
}

// TestCompareContentsListsDifferences lists the differences the same
// whether a table's rows are in one bucket or many, indexed in one chunk
// or in many: the first ones in the dump's order, then the first rows
// only the target has in its order.
func TestCompareContentsListsDifferences(t *testing.T) {
	dump := sampleDump(t)
	cases := []struct {
		name      string
		opts      contentOptions
		rowsKnown bool // the report has the row counts, as in a real run
	}{
		{"one bucket, one chunk", contentOptions{jobs: 2}, false},
		{"buckets of about 4 rows, chunks of 3", contentOptions{jobs: 2, bucketRows: 4, chunkRows: 3}, true},
		{"a bucket a row, a chunk a row, jobs=1", contentOptions{jobs: 1, bucketRows: 1, chunkRows: 1}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := targetFromDump(t, dump)
			target.update(t, "myfirstmodule$order", "id", int64(42), "total", "333.00000000")
			target.update(t, "myfirstmodule$order", "id", int64(-3), "notes", "")
			target.delete(t, "myfirstmodule$customer", "id", int64(9))
			target.delete(t, "myfirstmodule$order_customer", "myfirstmodule$orderid", int64(5))
			target.insert(t, "myfirstmodule$emptyentity", []any{int64(7), "intruder"})
			target.update(t, "mendixsystem$version", "versionnumber", "9.24.0", "modelversion", "2.0.0.1")
			users := target.tables["system$user"]
			for _, row := range users.rows {
				row[5] = !row[5].(bool) // active
			}
			var userLines []string
			for id := 1; id <= 10; id++ {
				userLines = append(userLines, fmt.Sprintf(`id=%d: column "active": backup "%t", target "%t"`, id, id%5 != 0, id%5 == 0))
			}
			userLines = append(userLines, fmt.Sprintf("%d rows differ in all: %[1]d changed, 0 missing in the target, 0 only in the target", len(users.rows)))
			// Rows only in the target, more than are listed: the first ten
			// in the target's order are.
			var thumbnailLines []string
			for id := int64(30); id > 18; id-- {
				target.insert(t, "system$thumbnail", []any{id})
				if len(thumbnailLines) < maxListedRows {
					thumbnailLines = append(thumbnailLines, fmt.Sprintf("id=%d: only in the target", id))
				}
			}
			thumbnailLines = append(thumbnailLines, "12 rows differ in all: 0 changed, 0 missing in the target, 12 only in the target")

			f := openDumpFile(t, dump)
			rep := reportFor(f.Archive)
			if c.rowsKnown {
				setRowCounts(t, rep, dump, target)
			}
			if err := compareContents(context.Background(), f, target, rep, c.opts); err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"myfirstmodule$order": {
					`id=42: column "total": backup "332.72145678", target "333"`,
					`id=-3: column "notes": backup NULL, target ""`,
				},
				"myfirstmodule$customer":       {"id=9: missing in the target"},
				"myfirstmodule$order_customer": {"myfirstmodule$orderid=5, myfirstmodule$customerid=6: missing in the target"},
				"myfirstmodule$emptyentity":    {"id=7: only in the target"},
				"mendixsystem$version": {
					"versionnumber=9.24.0, lastsyncdate=2026-11-01T10:00:00.000000, modelversion=1.0.0.40: missing in the target",
					"versionnumber=9.24.0, lastsyncdate=2026-11-01T10:00:00.000000, modelversion=2.0.0.1: only in the target",
				},
				"system$user":      userLines,
				"system$thumbnail": thumbnailLines,
			}
			assertDifferences(t, rep, want)
			// A table that matches is read once; one that differs is read
			// again to index it (once per chunk) and once more for the
			// target's side of what is listed.
			for _, tr := range rep.Tables {
				if tr.ContentOK == nil {
					continue
				}
				n := target.scansOf(tr.Name)
				switch differs := !*tr.ContentOK; {
				case !differs && n != 1:
					t.Errorf("table %s matches, but was read %d times from the target", tr.Name, n)
				case differs && c.opts.chunkRows == 0 && n > 3:
					t.Errorf("table %s was read %d times from the target, want at most 3", tr.Name, n)
				}
			}
		})
	}
}

func TestCompareContentsLimits(t *testing.T) {
	dump := sampleDump(t)
	cases := []struct {
		name       string
		change     func(t *testing.T, f *fakeTarget)
		limit      int64
		bucketRows int64 // with the report's row counts set
		want       map[string][]string
	}{
		{
			name:   "table larger than the index",
			change: func(t *testing.T, f *fakeTarget) { f.update(t, "myfirstmodule$order", "id", int64(1), "paid", true) },
			limit:  100,
			want:   map[string][]string{"myfirstmodule$order": {"contents differ; table too large to list rows (more than 100 rows)"}},
		},
		{
			// Buckets of about 8 rows: only the changed row's bucket is
			// indexed, so the table's size does not matter.
			name:       "a row differs in a table larger than the index",
			change:     func(t *testing.T, f *fakeTarget) { f.update(t, "myfirstmodule$order", "id", int64(1), "paid", true) },
			limit:      100,
			bucketRows: 8,
			want:       map[string][]string{"myfirstmodule$order": {`id=1: column "paid": backup "false", target "true"`}},
		},
		{
			name: "key repeated in the target",
			change: func(t *testing.T, f *fakeTarget) {
				row := append([]any(nil), f.tables["myfirstmodule$customer"].rows[0]...)
				row[1] = "someone else"
				f.insert(t, "myfirstmodule$customer", row)
			},
			limit: defaultIndexLimit,
			want:  map[string][]string{"myfirstmodule$customer": {"contents differ; rows cannot be listed: the key (id) is not unique in the target"}},
		},
		{
			name: "target cannot be read",
			change: func(t *testing.T, f *fakeTarget) {
				f.failing = map[string]error{"system$image": errors.New("connection reset")}
			},
			limit: defaultIndexLimit,
			want:  map[string][]string{"system$image": {"cannot read the table from the target: connection reset"}},
		},
		{
			name:   "target returns an unsupported value",
			change: func(t *testing.T, f *fakeTarget) { f.update(t, "system$user", "id", int64(3), "lastlogin", int64(3)) },
			limit:  defaultIndexLimit,
			want: map[string][]string{"system$user": {
				`cannot read the table from the target: column "lastlogin": unsupported Go value int64 for a timestamp column`}},
		},
		{
			// Rows are added between the first read and the listing's, far
			// more than the first read counted: the index stops growing.
			name: "target grows while it is listed",
			change: func(t *testing.T, f *fakeTarget) {
				f.update(t, "myfirstmodule$order", "id", int64(1), "paid", true)
				template := f.tables["myfirstmodule$order"].rows[0]
				scans := 0
				f.onScan = func(table string) {
					if table != "myfirstmodule$order" {
						return
					}
					if scans++; scans == 2 {
						tb := f.tables[table]
						for id := range int64(3000) {
							row := append([]any(nil), template...)
							row[tb.column("id")] = 100000 + id
							tb.rows = append(tb.rows, row)
						}
					}
				}
			},
			limit: defaultIndexLimit,
			want: map[string][]string{"myfirstmodule$order": {
				"cannot read the target's rows to list them: the table grew while it was read"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := targetFromDump(t, dump)
			c.change(t, target)
			f := openDumpFile(t, dump)
			rep := reportFor(f.Archive)
			if c.bucketRows > 0 {
				setRowCounts(t, rep, dump, target)
			}
			opts := contentOptions{jobs: 2, indexLimit: c.limit, bucketRows: c.bucketRows}
			if err := compareContents(context.Background(), f, target, rep, opts); err != nil {
				t.Fatal(err)
			}
			assertDifferences(t, rep, c.want)
		})
	}
}

// TestCompareContentsOutOfOrderData compares a dump whose TOC records no
// data offsets, as when pg_dump writes to a pipe. The dump is read in
// file order while the target is read largest table first, one at a
// time, so the two sides of most tables are read at different times; and
// the listing must find the table's data by walking the file.
func TestCompareContentsOutOfOrderData(t *testing.T) {
	dump := sampleDump(t)
	target := targetFromDump(t, dump)
	target.delete(t, "myfirstmodule$customer", "id", int64(9))
	f := openDumpFile(t, dump)
	for i := range f.Entries {
		if e := &f.Entries[i]; e.Desc == "TABLE DATA" {
			e.HasDataOffset, e.DataOffset = false, 0
		}
	}
	rep := reportFor(f.Archive)
	setRowCounts(t, rep, dump, target)
	if err := Compare(context.Background(), f, target, rep, 1); err != nil {
		t.Fatal(err)
	}
	assertDifferences(t, rep, map[string][]string{"myfirstmodule$customer": {"id=9: missing in the target"}})
}

func TestCompareContentsSkipsMissingTables(t *testing.T) {
	dump := sampleDump(t)
	target := targetFromDump(t, dump)
	delete(target.tables, "system$user")
	f := openDumpFile(t, dump)
	rep := reportFor(f.Archive)
	for i := range rep.Tables {
		rep.Tables[i].Missing = rep.Tables[i].Name == "system$user"
	}
	if err := Compare(context.Background(), f, target, rep, 2); err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if tr.Name == "system$user" && (tr.ContentOK != nil || tr.Differences != nil) {
			t.Errorf("a table missing in the target was compared: %+v", tr)
		}
	}
}

func TestCompareContentsCancelled(t *testing.T) {
	dump := sampleDump(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := targetFromDump(t, dump)
	target.onScan = func(table string) {
		if table == "myfirstmodule$order" {
			cancel()
		}
	}
	f := openDumpFile(t, dump)
	err := Compare(ctx, f, target, reportFor(f.Archive), 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Compare after cancel: %v, want context.Canceled", err)
	}
	if n := target.inFlight.Load(); n != 0 {
		t.Errorf("%d target scans still running after Compare returned", n)
	}
}

// everyTypeRows are values at the edges of each type, for samplegen.EveryTypeSchema.
const everyTypeRows = `
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
(4, E'\\N', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity', '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`

// TestCompareContentsPostgres compares a Mendix-shaped backup made by the
// real pg_dump with a PostgreSQL target it was restored into.
func TestCompareContentsPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testenv.Postgres(t)
	backup := filepath.Join(t.TempDir(), "backup.tar.gz")
	_, err := samplegen.Generate(ctx, samplegen.Options{Out: backup, Cluster: c, Rows: 300, Blobs: 5, BlobMedian: 100, BlobMax: 1000})
	if err != nil {
		t.Fatal(err)
	}
	dumpPath := filepath.Join(t.TempDir(), "db.backup")
	if err := os.WriteFile(dumpPath, dumpFromBackup(t, backup), 0o644); err != nil {
		t.Fatal(err)
	}
	url := testenv.NewDatabase(t, c)
	restore := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pg_restore"), "--no-owner", "--no-privileges", "-d", url, dumpPath)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, out)
	}
	execSQL(t, ctx, url, samplegen.EveryTypeSchema+everyTypeRows)
	target, err := dbcopy.Open(ctx, url, dbcopy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()

	compare := func(t *testing.T, path string) *verify.DBReport {
		t.Helper()
		f, err := pgdump.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rep := reportFor(f.Archive)
		if err := Compare(ctx, f, target, rep, 2); err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("identical", func(t *testing.T) {
		rep := compare(t, dumpPath)
		if n := assertAllMatch(t, rep); n != len(rep.Tables) {
			t.Errorf("%d of %d tables compared", n, len(rep.Tables))
		}
	})

	// A dump taken in the +14 zone, with bytea in escape format, of the
	// target itself: other text for the same values.
	t.Run("other time zone and bytea format", func(t *testing.T) {
		path := pgDump(t, ctx, c, url, "PGTZ=Pacific/Kiritimati", "PGOPTIONS=-c bytea_output=escape")
		copyText := tableCopyText(t, path, "module$everytype")
		for _, want := range []string{"+14", "-10:29:20", `\\000`} {
			if !strings.Contains(copyText, want) {
				t.Errorf("the dump's COPY text lacks %q, so the test does not cover it:\n%s", want, copyText)
			}
		}
		rep := compare(t, path)
		if n := assertAllMatch(t, rep); n != len(rep.Tables) {
			t.Errorf("%d of %d tables compared", n, len(rep.Tables))
		}
	})

	t.Run("changed, deleted and inserted rows", func(t *testing.T) {
		execSQL(t, ctx, url, `
UPDATE "myfirstmodule$order" SET total = 333 WHERE id = 42;
UPDATE "myfirstmodule$order" SET shipped = shipped + interval '1 microsecond' WHERE id = -2;
UPDATE "myfirstmodule$order" SET notes = '' WHERE id = -3;
DELETE FROM "myfirstmodule$customer" WHERE id = 9;
INSERT INTO "system$user" (id, name) VALUES (100007, 'intruder');
`)
		rep := compare(t, dumpPath)
		assertDifferences(t, rep, map[string][]string{
			"myfirstmodule$order": {
				`id=42: column "total": backup "332.72145678", target "333"`,
				`id=-2: column "shipped": backup "1999-12-31T10:00:00.000001Z", target "1999-12-31T10:00:00.000002Z"`,
				`id=-3: column "notes": backup NULL, target ""`,
			},
			"myfirstmodule$customer": {"id=9: missing in the target"},
			"system$user":            {"id=100007: only in the target"},
		})
	})
}

// tableCopyText is the COPY text of one table in the dump at path.
func tableCopyText(t *testing.T, path, table string) string {
	t.Helper()
	a, r := readArchive(t, path)
	var text []byte
	err := a.ScanData(context.Background(), r, func(e *pgdump.Entry, data io.Reader) error {
		var err error
		if e.Tag == table {
			text, err = io.ReadAll(data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}

// benchRow is a row of a Mendix-shaped table: its columns, their kinds,
// its COPY text and the values PostgreSQL's ScanTable returns for it.
var benchRow = struct {
	names  []string
	kinds  []canon.Kind
	line   string
	values []any
}{
	names: []string{"id", "number", "order", "select", "total", "quantity", "priority", "weight", "paid",
		"notes", "signature", "orderdate", "shipped", "createddate", "changeddate"},
	kinds: []canon.Kind{canon.KindInt, canon.KindInt, canon.KindText, canon.KindText, canon.KindNumeric, canon.KindInt, canon.KindInt, canon.KindFloat8, canon.KindBool,
		canon.KindText, canon.KindBytea, canon.KindTimestamp, canon.KindTimestamptz, canon.KindTimestamp, canon.KindTimestamp},
	line: "1234\t1234\tOrder 1234\tlorem ipsum lorem ipsum \t8042.45678000\t234\t2\t1.851\tt\tnote 1234\t\\\\x000004d2\t" +
		"2020-01-01 00:20:34.001234\t2021-06-30 22:00:59.999999+00\t2024-01-01 00:20:34\t\\N\n",
	values: []any{int64(1234), int64(1234), "Order 1234", "lorem ipsum lorem ipsum ", "8042.45678000", int64(234), int64(2),
		1.851, true, "note 1234", []byte{0, 0, 4, 0xd2},
		time.Date(2020, 1, 1, 0, 20, 34, 1234000, time.UTC), time.Date(2021, 6, 30, 22, 0, 59, 999999000, time.UTC),
		time.Date(2024, 1, 1, 0, 20, 34, 0, time.UTC), nil},
}

// BenchmarkDigestRow measures what each dump row costs in the first pass:
// normalising its values, encoding and hashing the row and its key, and
// adding it to the digest.
func BenchmarkDigestRow(b *testing.B) {
	rows := pgdump.NewCopyReader(strings.NewReader(benchRow.line))
	fields, err := rows.Next()
	if err != nil {
		b.Fatal(err)
	}
	enc := newRowEncoder(benchRow.names, benchRow.kinds, newSeeds())
	side := newSideDigest(12)
	key := []int{0}
	b.SetBytes(int64(len(benchRow.line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.encodeFields(fields); err != nil {
			b.Fatal(err)
		}
		side.add(uint32(enc.keyHash(key)>>52), enc.hash())
	}
}

// BenchmarkDigestValues is BenchmarkDigestRow for the target's side: the
// same row as the Go values ScanTable returns.
func BenchmarkDigestValues(b *testing.B) {
	enc := newRowEncoder(benchRow.names, benchRow.kinds, newSeeds())
	side := newSideDigest(12)
	key := []int{0}
	b.SetBytes(int64(len(benchRow.line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.encodeValues(benchRow.values); err != nil {
			b.Fatal(err)
		}
		side.add(uint32(enc.keyHash(key)>>52), enc.hash())
	}
}

// TestBenchRowAgrees checks that the benchmarks' two forms of their row
// are the same row.
func TestBenchRowAgrees(t *testing.T) {
	fields, err := pgdump.NewCopyReader(strings.NewReader(benchRow.line)).Next()
	if err != nil {
		t.Fatal(err)
	}
	s := newSeeds()
	x, y := newRowEncoder(benchRow.names, benchRow.kinds, s), newRowEncoder(benchRow.names, benchRow.kinds, s)
	if err := x.encodeFields(fields); err != nil {
		t.Fatal(err)
	}
	if err := y.encodeValues(benchRow.values); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x.buf, y.buf) {
		t.Errorf("encodings differ:\n text   %q\n values %q", x.buf, y.buf)
	}
}

// --- Helpers shared by the tests of this package.

// assertAllMatch checks that every table with columns was compared and
// matched, and returns how many were compared.
func assertAllMatch(t *testing.T, rep *verify.DBReport) int {
	t.Helper()
	compared := 0
	for _, tr := range rep.Tables {
		if tr.ContentOK == nil {
			continue
		}
		compared++
		if !*tr.ContentOK || tr.Differences != nil {
			t.Errorf("table %s: ContentOK %v, differences %q", tr.Name, *tr.ContentOK, tr.Differences)
		}
	}
	return compared
}

// assertDifferences checks that the tables of want differ as listed and
// every other compared table matches.
func assertDifferences(t *testing.T, rep *verify.DBReport, want map[string][]string) {
	t.Helper()
	for _, tr := range rep.Tables {
		lines, differs := want[tr.Name]
		switch {
		case differs && (tr.ContentOK == nil || *tr.ContentOK):
			t.Errorf("table %s: ContentOK %s, want false", tr.Name, showOK(tr.ContentOK))
		case !differs && tr.ContentOK != nil && !*tr.ContentOK:
			t.Errorf("table %s: differs, want a match: %q", tr.Name, tr.Differences)
		case !reflect.DeepEqual(tr.Differences, lines):
			t.Errorf("table %s differences:\n got  %q\n want %q", tr.Name, tr.Differences, lines)
		}
		delete(want, tr.Name)
	}
	for name := range want {
		t.Errorf("table %s is not in the report", name)
	}
}

func showOK(ok *bool) string {
	if ok == nil {
		return "not set"
	}
	return strconv.FormatBool(*ok)
}

// reportFor is a verify.DBReport naming every table of the dump.
func reportFor(a *pgdump.Archive) *verify.DBReport {
	rep := &verify.DBReport{}
	for _, e := range a.Entries {
		if e.Desc == "TABLE" {
			rep.Tables = append(rep.Tables, verify.TableResult{Name: e.Tag})
		}
	}
	return rep
}

// sampleDump is the database dump of the repository's sample backup.
func sampleDump(t testing.TB) []byte {
	t.Helper()
	return dumpFromBackup(t, filepath.Join("..", "..", "testdata", "sample.tar.gz"))
}

// dumpFromBackup reads db/db.backup out of a Mendix backup.
func dumpFromBackup(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(testenv.ExtractDump(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// openDump reads the TOC of a dump and returns a reader at its data.
func openDump(t testing.TB, dump []byte) (*pgdump.Archive, io.Reader) {
	t.Helper()
	r := bytes.NewReader(dump)
	a, err := pgdump.ReadTOC(r)
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

// openDumpFile writes a dump to a file and opens it for random access,
// as Compare needs it.
func openDumpFile(t testing.TB, dump []byte) *pgdump.ArchiveFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.backup")
	if err := os.WriteFile(path, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// setRowCounts fills in the row counts of rep, as CompareDatabase does:
// the dump's and the target's.
func setRowCounts(t testing.TB, rep *verify.DBReport, dump []byte, target *fakeTarget) {
	t.Helper()
	a, r := openDump(t, dump)
	counts, err := a.CountAllRows(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	source := map[string]int64{}
	for _, e := range a.Entries {
		if e.Desc == "TABLE DATA" {
			source[e.Tag] = counts[e.DumpID]
		}
	}
	for i := range rep.Tables {
		tr := &rep.Tables[i]
		tr.SourceRows = source[tr.Name]
		if tb := target.tables[tr.Name]; tb != nil {
			tr.TargetRows = int64(len(tb.rows))
		}
	}
}

func readArchive(t testing.TB, path string) (*pgdump.Archive, io.Reader) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return openDump(t, data)
}

func execSQL(t testing.TB, ctx context.Context, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
}

// pgDump dumps the database at url as Mendix does (pg_dump -O -x -Fc),
// with env added to pg_dump's environment.
func pgDump(t testing.TB, ctx context.Context, c *pgserver.Cluster, url string, env ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "db.backup")
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pg_dump"), "-O", "-x", "-Fc", "-f", out, "-d", url)
	cmd.Env = append(os.Environ(), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, msg)
	}
	return out
}

// fakeTarget serves tables from memory, counting its scans.
type fakeTarget struct {
	tables  map[string]*fakeTable
	failing map[string]error
	onScan  func(table string)

	scans, inFlight, maxInFlight atomic.Int64
	mu                           sync.Mutex
	scansByTable                 map[string]int
}

// scansOf is how many times table was read.
func (f *fakeTarget) scansOf(table string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scansByTable[table]
}

type fakeTable struct {
	columns []string
	rows    [][]any
}

func (f *fakeTarget) String() string { return "fake target" }
func (f *fakeTarget) Lock(context.Context, time.Duration) (func(), error) {
	return nil, errors.New("not implemented")
}
func (f *fakeTarget) Preflight(context.Context, *dbcopy.Source) (*dbcopy.PreflightResult, error) {
	return nil, errors.New("not implemented")
}
func (f *fakeTarget) Load(context.Context, *dbcopy.Source) error {
	return errors.New("not implemented")
}
func (f *fakeTarget) Inventory(context.Context) (*dbcopy.Inventory, error) {
	return nil, errors.New("not implemented")
}
func (f *fakeTarget) Close() error { return nil }

func (f *fakeTarget) ScanTable(ctx context.Context, table string, columns []string, fn func([]any) error) error {
	f.scans.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	f.mu.Lock()
	f.maxInFlight.Store(max(f.maxInFlight.Load(), n))
	if f.scansByTable == nil {
		f.scansByTable = map[string]int{}
	}
	f.scansByTable[table]++
	f.mu.Unlock()
	if f.onScan != nil {
		f.onScan(table)
	}
	if err := f.failing[table]; err != nil {
		return err
	}
	tb := f.tables[table]
	if tb == nil {
		return fmt.Errorf("no table %s", table)
	}
	positions := make([]int, len(columns))
	for i, c := range columns {
		positions[i] = tb.column(c)
		if positions[i] < 0 {
			return fmt.Errorf("table %s has no column %q", table, c)
		}
	}
	values := make([]any, len(columns))
	for _, row := range tb.rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, p := range positions {
			values[i] = row[p]
		}
		if err := fn(values); err != nil {
			return err
		}
	}
	return nil
}

func (tb *fakeTable) column(name string) int {
	for i, c := range tb.columns {
		if c == name {
			return i
		}
	}
	return -1
}

// update sets column to value in the rows whose keyColumn is key.
func (f *fakeTarget) update(t *testing.T, table, keyColumn string, key any, column string, value any) {
	t.Helper()
	tb := f.tables[table]
	k, c, n := tb.column(keyColumn), tb.column(column), 0
	for _, row := range tb.rows {
		if row[k] == key {
			row[c] = value
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%s has no row with %s = %v", table, keyColumn, key)
	}
}

// delete removes the first row whose keyColumn is key.
func (f *fakeTarget) delete(t *testing.T, table, keyColumn string, key any) {
	t.Helper()
	tb := f.tables[table]
	k := tb.column(keyColumn)
	for i, row := range tb.rows {
		if row[k] == key {
			tb.rows = append(tb.rows[:i], tb.rows[i+1:]...)
			return
		}
	}
	t.Fatalf("%s has no row with %s = %v", table, keyColumn, key)
}

func (f *fakeTarget) insert(t *testing.T, table string, row []any) {
	t.Helper()
	tb := f.tables[table]
	if len(row) != len(tb.columns) {
		t.Fatalf("%s has %d columns, not %d", table, len(tb.columns), len(row))
	}
	tb.rows = append(tb.rows, row)
}

// targetFromDump loads every table of the dump into a fakeTarget, each
// value converted from its COPY text the way SQL Server's driver would
// return it, and the rows in reverse order.
func targetFromDump(t testing.TB, dump []byte) *fakeTarget {
	t.Helper()
	a, r := openDump(t, dump)
	types := map[string]map[string]string{}
	for _, e := range a.Entries {
		if e.Desc != "TABLE" {
			continue
		}
		cols, err := e.TableColumns()
		if err != nil {
			t.Fatal(err)
		}
		types[e.Tag] = map[string]string{}
		for _, c := range cols {
			types[e.Tag][c.Name] = c.Type
		}
	}
	f := &fakeTarget{tables: map[string]*fakeTable{}}
	err := a.ScanData(context.Background(), r, func(e *pgdump.Entry, data io.Reader) error {
		cols, err := e.CopyColumns()
		if err != nil {
			return err
		}
		tb := &fakeTable{columns: cols}
		rows := pgdump.NewCopyReader(data)
		for {
			fields, err := rows.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			row := make([]any, len(fields))
			for i, field := range fields {
				if !field.Null {
					row[i] = driverValue(t, types[e.Tag][cols[i]], string(field.Value))
				}
			}
			tb.rows = append([][]any{row}, tb.rows...)
		}
		f.tables[e.Tag] = tb
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// driverValue converts COPY text to the Go value SQL Server's driver
// gives for the column type it maps to. It is written apart from
// package canon on purpose, with the time package's own parser.
func driverValue(t testing.TB, pgType, text string) any {
	t.Helper()
	must := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %q: %v", pgType, text, err)
		}
		return v
	}
	zone := time.FixedZone("", 14*3600) // datetimeoffset keeps the zone it was given
	switch {
	case pgType == "bigint", pgType == "integer", pgType == "smallint":
		return must(strconv.ParseInt(text, 10, 64))
	case strings.HasPrefix(pgType, "numeric("): // decimal(p,s): padded to its scale
		scale, _ := strconv.Atoi(strings.TrimSuffix(pgType[strings.IndexByte(pgType, ',')+1:], ")"))
		intPart, frac, _ := strings.Cut(text, ".")
		return intPart + "." + frac + strings.Repeat("0", scale-len(frac))
	case pgType == "boolean":
		return text == "t"
	case pgType == "double precision":
		return must(strconv.ParseFloat(text, 64))
	case pgType == "timestamp without time zone":
		return must(time.Parse("2006-01-02 15:04:05.999999", text))
	case pgType == "timestamp with time zone":
		ts := must(time.Parse("2006-01-02 15:04:05.999999-07", text)).(time.Time)
		return ts.In(zone)
	case pgType == "bytea":
		return must(hex.DecodeString(strings.TrimPrefix(text, `\x`)))
	case pgType == "uuid":
		return strings.ToUpper(text)
	case strings.HasPrefix(pgType, "character varying"), pgType == "text":
		return text
	}
	t.Fatalf("driverValue: no conversion for %s", pgType)
	return nil
}
