package export_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify/canon"
)

// contents is what a backup holds, in a form two backups can be compared
// in: every table's rows as canonical values (verify's codec, so a value
// reads the same whatever wrote it), sequences' values, index and
// constraint names, and every blob's MD5.
type contents struct {
	meta      snapshot.Metadata
	tables    map[string][]string // sorted rows
	sequences map[string]string   // name -> setval arguments
	objects   map[string]bool     // "INDEX name", "CONSTRAINT table name", ...
	blobs     map[string]string   // uuid -> MD5
	dumpPath  string
}

func readBackup(t *testing.T, path string) *contents {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := &contents{tables: map[string][]string{}, sequences: map[string]string{}, objects: map[string]bool{}, blobs: map[string]string{}}
	c.dumpPath = filepath.Join(t.TempDir(), "db.backup")
	summary, err := b.Walk(ctx, snapshot.Visitor{
		Metadata: func(m snapshot.Metadata) error { c.meta = m; return nil },
		Dump: func(_ context.Context, r io.Reader, _ int64) error {
			f, err := os.Create(c.dumpPath)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(f, r)
			return err
		},
		Blob: func(_ context.Context, bl snapshot.Blob, r io.Reader) error {
			h := md5.New()
			if _, err := io.Copy(h, r); err != nil {
				return err
			}
			c.blobs[bl.UUID] = hex.EncodeToString(h.Sum(nil))
			return nil
		},
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if summary.AnomalyCount > 0 {
		t.Errorf("%s: anomalies %v", path, summary.Anomalies)
	}
	f, err := pgdump.Open(c.dumpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	types := map[string][]pgdump.Column{}
	for i := range f.Entries {
		e := &f.Entries[i]
		switch e.Desc {
		case "TABLE":
			cols, err := e.TableColumns()
			if err != nil {
				t.Fatal(err)
			}
			types[e.Tag] = cols
		case "SEQUENCE SET":
			// SELECT pg_catalog.setval('public."s"', 200, true);
			args := e.Defn[strings.LastIndex(e.Defn, "',")+2:]
			c.sequences[e.Tag] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(args), ");"))
		case "INDEX", "CONSTRAINT", "FK CONSTRAINT":
			c.objects[e.Desc+" "+e.Tag] = true
		}
	}
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.Desc != "TABLE DATA" {
			continue
		}
		names, err := e.CopyColumns()
		if err != nil {
			t.Fatal(err)
		}
		colType := map[string]string{}
		for _, col := range types[e.Tag] {
			colType[col.Name] = col.Type
		}
		r, err := f.OpenData(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		cr := pgdump.NewCopyReader(r)
		rows := []string{}
		for {
			row, err := cr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", e, err)
			}
			vals := make([]string, len(row))
			for j, field := range row {
				if field.Null {
					vals[j] = "\x00NULL"
					continue
				}
				v, err := canon.Text(colType[names[j]], field.Value)
				if err != nil {
					t.Fatalf("%s column %s: %v", e, names[j], err)
				}
				vals[j] = names[j] + "=" + v
			}
			sort.Strings(vals) // column order may differ; names keep values apart
			rows = append(rows, strings.Join(vals, "\x01"))
		}
		r.Close()
		sort.Strings(rows)
		c.tables[e.Tag] = rows
	}
	return c
}

// compareBackups fails the test on every difference between two backups.
func compareBackups(t *testing.T, want, got *contents) {
	t.Helper()
	if len(want.tables) != len(got.tables) {
		t.Errorf("tables: %d in the original, %d in the export", len(want.tables), len(got.tables))
	}
	for name, rows := range want.tables {
		other, ok := got.tables[name]
		if !ok {
			t.Errorf("table %s missing from the export", name)
			continue
		}
		if len(rows) != len(other) {
			t.Errorf("table %s: %d rows in the original, %d in the export", name, len(rows), len(other))
			continue
		}
		for i := range rows {
			if rows[i] != other[i] {
				t.Errorf("table %s: row differs:\n original %q\n export   %q", name, rows[i], other[i])
				break
			}
		}
	}
	for name, v := range want.sequences {
		if got.sequences[name] != v {
			t.Errorf("sequence %s: %q in the original, %q in the export", name, v, got.sequences[name])
		}
	}
	for name := range want.objects {
		if !got.objects[name] {
			t.Errorf("%s missing from the export", name)
		}
	}
	for name := range got.objects {
		if !want.objects[name] {
			t.Errorf("%s in the export only", name)
		}
	}
	if len(want.blobs) != len(got.blobs) {
		t.Errorf("blobs: %d in the original, %d in the export", len(want.blobs), len(got.blobs))
	}
	for uuid, sum := range want.blobs {
		if got.blobs[uuid] != sum {
			t.Errorf("blob %s: MD5 %s in the original, %q in the export", uuid, sum, got.blobs[uuid])
		}
	}
}

// tableDigests is what two databases with the same contents have alike:
// each table's digest (testenv.TableDigests), and the sequences, keys,
// indexes, checks and columns as the server prints them.
func tableDigests(t *testing.T, url, schema string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	out := map[string]string{}
	for name, digest := range testenv.TableDigests(t, url, schema) {
		out["table "+name] = digest
	}
	// Sequences, keys, indexes and checks, as the server prints them.
	extra, err := conn.Query(ctx, `
SELECT 'sequence ' || sequencename || ': ' || coalesce(last_value::text, 'null') FROM pg_sequences WHERE schemaname = $1
UNION ALL
SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = $1
UNION ALL
SELECT 'constraint ' || c.conname || ': ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ': ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' ||
       coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attgenerated::text || ' ' || a.attcollation::regcollation::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`, schema)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(extra, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, ": ")
		out[k] = v
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// nextValues turns setval arguments ("200, true") into the value nextval()
// returns next ("201"), for sequences of increment 1.
func nextValues(t *testing.T, seqs map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, args := range seqs {
		value, called, ok := strings.Cut(args, ",")
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if !ok || err != nil {
			t.Fatalf("sequence %s: setval arguments %q", name, args)
		}
		if strings.TrimSpace(called) == "true" {
			n++
		}
		out[name] = itoa(n)
	}
	return out
}
