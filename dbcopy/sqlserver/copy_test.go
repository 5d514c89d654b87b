package sqlserver

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// valuesFixture is a Mendix-shaped database with the values a converter
// gets wrong: year 1 and 9999, microseconds, numeric(28,8) extremes,
// text beyond the BMP, escaped tabs, empty strings next to NULLs, bytea
// with zero bytes, a unique index whose values collide case-insensitively
// (and NULLs, which never collide), a column order the COPY statement
// must map, and a value no rule lets through.
const valuesFixture = `
CREATE TABLE "system$user" (id bigint PRIMARY KEY, name varchar(100), "order" integer);
CREATE UNIQUE INDEX "idx_system$user_name" ON "system$user" (name);
INSERT INTO "system$user" VALUES (1, 'Bob', 1), (2, 'bob ', 2), (3, 'alice', 3), (4, NULL, 4), (5, NULL, 5), (6, 'Émile', 6), (7, 'emile', 7);
CREATE TABLE "myfirstmodule$order" (
	id bigint PRIMARY KEY, "order" varchar(200), "select" text, total numeric(28,8), quantity integer, priority smallint,
	weight double precision, ratio real, paid boolean, signature bytea, orderdate timestamp, shipped timestamptz,
	due date, alarm time, ref uuid, doc jsonb, code char(3));
INSERT INTO "myfirstmodule$order" VALUES
	(1, '', E'tab\there\\N', 99999999999999999999.99999999, -2147483648, -32768, 1e308, 1.5, true, '\x00ff00',
	 '0001-01-01 00:00:00', '0001-01-01 00:00:00+00', '0001-01-01', '00:00:00', '6f9619ff-8b86-d011-b42d-00c04fc964ff', '{"a":[1,2]}', 'ab'),
	(2, NULL, '😀 𝄞', -99999999999999999999.99999999, 2147483647, 32767, -1e-300, NULL, false, '\x',
	 '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00', '9999-12-31', '23:59:59.999999', NULL, 'null', NULL),
	(3, 'x', NULL, 0.00000001, 0, 0, 0, 0, NULL, NULL,
	 '2020-02-29 12:34:56.000001', '2021-06-30 23:59:59.999999+02', '2024-02-29', '12:00:00.5', NULL, NULL, NULL);
CREATE TABLE "bad$dates" (id bigint PRIMARY KEY, happened timestamp);
INSERT INTO "bad$dates" VALUES (1, '2020-01-01'), (77, 'infinity');
`

// prepareFromDump builds what prepare does, without a target.
func prepareFromDump(t *testing.T, dump string) *prepared {
	t.Helper()
	archive, err := pgdump.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { archive.Close() })
	catalog, err := pgcatalog.FromArchive(archive.Archive, "public")
	if err != nil {
		t.Fatal(err)
	}
	p := &prepared{archive: archive, catalog: catalog, plan: newPlan("dbo", catalog, typemap.New())}
	if err := p.indexData(dump, "public"); err != nil {
		t.Fatal(err)
	}
	if len(p.plan.Problems) != 0 {
		t.Fatalf("problems: %v", p.plan.Problems)
	}
	return p
}

func TestCopyFromTheDump(t *testing.T) {
	cluster := testenv.Postgres(t)
	p := prepareFromDump(t, makeDump(t, cluster, valuesFixture))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("values", func(t *testing.T) {
		pt := tableOf(p.plan, "myfirstmodule$order")
		var got [][]any
		dst := make([]any, len(pt.Map.Columns))
		n, err := p.streamTable(ctx, pt, func(fields []pgdump.Field) error {
			if err := pt.Map.ConvertFields(dst, fields); err != nil {
				return err
			}
			row := make([]any, len(dst))
			for i, v := range dst {
				if b, ok := v.([]byte); ok {
					v = append([]byte{}, b...) // the fields' buffer is reused
				}
				row[i] = v
			}
			got = append(got, row)
			return nil
		})
		if err != nil || n != 3 {
			t.Fatalf("streamed %d rows: %v", n, err)
		}
		utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
			return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
		}
		guidWire := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
		want := map[int64][]any{
			1: {int64(1), "", "tab\there\\N", "99999999999999999999.99999999", int64(-2147483648), int64(-32768), 1e308, 1.5, true, []byte{0, 0xff, 0},
				utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), utc(1, 1, 1, 0, 0, 0, 0), guidWire, `{"a": [1, 2]}`, "ab "},
			2: {int64(2), nil, "😀 𝄞", "-99999999999999999999.99999999", int64(2147483647), int64(32767), -1e-300, nil, false, []byte{},
				utc(9999, 12, 31, 23, 59, 59, 999999000), utc(9999, 12, 31, 23, 59, 59, 999999000), utc(9999, 12, 31, 0, 0, 0, 0), utc(1, 1, 1, 23, 59, 59, 999999000), nil, "null", nil},
			3: {int64(3), "x", nil, "0.00000001", int64(0), int64(0), 0.0, 0.0, nil, nil,
				utc(2020, 2, 29, 12, 34, 56, 1000), utc(2021, 6, 30, 21, 59, 59, 999999000), utc(2024, 2, 29, 0, 0, 0, 0), utc(1, 1, 1, 12, 0, 0, 500000000), nil, nil, nil},
		}
		cols := pt.Map.Columns
		for _, row := range got {
			w := want[row[0].(int64)]
			for i := range w {
				if !sameConverted(row[i], w[i]) {
					t.Errorf("row %d column %q: got %#v (%T), want %#v (%T)", row[0], cols[i].Name, row[i], row[i], w[i], w[i])
				}
			}
		}
	})

	t.Run("value that does not fit", func(t *testing.T) {
		pt := tableOf(p.plan, "bad$dates")
		dst := make([]any, len(pt.Map.Columns))
		_, err := p.streamTable(ctx, pt, func(fields []pgdump.Field) error { return pt.Map.ConvertFields(dst, fields) })
		var ve *typemap.ValueError
		if !errors.As(err, &ve) || ve.Table != "bad$dates" || ve.Column != "happened" || ve.Key != "id=77" || ve.Value != "infinity" {
			t.Fatalf("got %v, want a ValueError for bad$dates.happened id=77", err)
		}
		if exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("exit code %d", exitcode.Of(err))
		}
	})

	t.Run("collisions", func(t *testing.T) {
		for _, c := range []string{"SQL_Latin1_General_CP1_CI_AS", "Latin1_General_100_CI_AI", "Latin1_General_100_BIN2"} {
			p.collation = parseCollation(c)
			found, err := p.scanCollisions(ctx, keyChecks(p.plan))
			if err != nil {
				t.Fatal(err)
			}
			var groups []string
			for _, f := range found {
				groups = append(groups, f.Check.Name+": "+strings.Join(f.Values, " = "))
			}
			want := map[string][]string{
				"SQL_Latin1_General_CP1_CI_AS": {`idx_system$user_name: ("Bob") = ("bob ")`},
				"Latin1_General_100_CI_AI":     {`idx_system$user_name: ("Bob") = ("bob ")`, `idx_system$user_name: ("emile") = ("Émile")`},
				"Latin1_General_100_BIN2":      nil,
			}[c]
			if !reflect.DeepEqual(groups, want) {
				t.Errorf("%s: got %q, want %q", c, groups, want)
			}
		}
	})

	t.Run("COPY column order", func(t *testing.T) {
		pt := tableOf(p.plan, "system$user")
		entry := *p.data["system$user"]
		entry.CopyStmt = `COPY public."system$user" ("order", id, name) FROM stdin;`
		order, err := copyOrder(&entry, pt.Map)
		if err != nil || !reflect.DeepEqual(order, []int{2, 0, 1}) {
			t.Errorf("order %v, %v", order, err)
		}
		entry.CopyStmt = `COPY public."system$user" (id, nosuch) FROM stdin;`
		if _, err := copyOrder(&entry, pt.Map); err == nil || !strings.Contains(err.Error(), `column "nosuch"`) {
			t.Errorf("unknown column: %v", err)
		}
		entry.CopyStmt = `COPY public."system$user" (name) FROM stdin;`
		if _, err := copyOrder(&entry, pt.Map); err == nil || !strings.Contains(err.Error(), `leaves out column "id", which is NOT NULL`) {
			t.Errorf("missing NOT NULL column: %v", err)
		}
	})
}

// sameConverted compares exactly, with times by instant and in UTC.
func sameConverted(got, want any) bool {
	if w, ok := want.(time.Time); ok {
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	}
	if w, ok := want.([]byte); ok {
		g, ok := got.([]byte)
		return ok && g != nil && string(g) == string(w)
	}
	return reflect.DeepEqual(got, want)
}

func tableOf(p *loadPlan, name string) *plannedTable {
	for _, t := range p.Tables {
		if t.Source.Name == name {
			return t
		}
	}
	return nil
}

func TestStreamsFor(t *testing.T) {
	p := &prepared{dataSize: map[string]int64{"big": 600, "mid": 300, "small": 100}}
	tests := []struct {
		table string
		jobs  int
		want  int
	}{
		{"big", 1, 1},   // one job: one stream
		{"big", 2, 2},   // 60% of the data, more than a job's half
		{"mid", 2, 1},   // 30%: within its share
		{"big", 4, 3},   // 2.4 shares
		{"big", 8, 5},   // 4.8 shares
		{"small", 8, 1}, // 0.8 of a share
		{"none", 4, 1},
	}
	for _, tc := range tests {
		if got := p.streamsFor(tc.table, tc.jobs); got != tc.want {
			t.Errorf("%s with %d jobs: %d streams, want %d", tc.table, tc.jobs, got, tc.want)
		}
	}
	if got := (&prepared{}).streamsFor("x", 4); got != 1 {
		t.Errorf("no sizes (a piped dump): %d streams", got)
	}
}
