package sqlserver

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// tableRowsRecorder is a dbcopy.TableProgress that adds up what it is
// told, per table.
type tableRowsRecorder struct {
	mu          sync.Mutex
	rows, bytes map[string]int64
	phase       string
	added       int64 // what Add counted in the data phase
}

func newTableRowsRecorder() *tableRowsRecorder {
	return &tableRowsRecorder{rows: map[string]int64{}, bytes: map[string]int64{}}
}

func (p *tableRowsRecorder) Phase(name string, _ int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase = name
}

func (p *tableRowsRecorder) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phase == "data" {
		p.added += n
	}
}

func (p *tableRowsRecorder) TableRows(table string, rows, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows[table] += rows
	p.bytes[table] += bytes
}

// rewriteArchive writes the archive at path again with pgdump's Writer as
// archive version 1.minor in compression comp: the same table of
// contents, every data block decompressed and compressed anew.
func rewriteArchive(t *testing.T, path string, minor int, comp pgdump.Compression) string {
	t.Helper()
	ctx := context.Background()
	af, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	out := filepath.Join(t.TempDir(), fmt.Sprintf("db-1.%d-%s.backup", minor, comp))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := af.Header
	w, err := pgdump.NewWriter(f, af.Entries, pgdump.WriterOptions{VersionMinor: minor, Compression: comp, Created: h.Created,
		DatabaseName: h.DatabaseName, ServerVersion: h.ServerVersion, DumpVersion: h.DumpVersion})
	if err != nil {
		t.Fatal(err)
	}
	for i := range af.Entries {
		e := &af.Entries[i]
		if !e.HadDumper {
			continue
		}
		if e.Desc != "TABLE DATA" {
			t.Fatalf("%s: only table data is copied here", e)
		}
		data, err := af.OpenData(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		dw, err := w.Data(e.DumpID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dw, data); err != nil {
			t.Fatalf("copy %s: %v", e, err)
		}
		data.Close()
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpRowCounts counts each table's rows in the archive's own data.
func dumpRowCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	af, err := pgdump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	counts, err := af.CountAllRows(context.Background(), af.Data())
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for i := range af.Entries {
		if e := &af.Entries[i]; e.Desc == "TABLE DATA" && counts[e.DumpID] > 0 {
			rows[e.Tag] = counts[e.DumpID]
		}
	}
	return rows
}

// TestWrittenArchivesLoadTheSame loads one database written as every
// archive version pg_dump 10 to 17 writes (1.12 to 1.16) in every
// compression each can record, through the real target, and compares
// every value with the source each time. The rows the target reports
// per table while loading add up to the dump's counts.
func TestWrittenArchivesLoadTheSame(t *testing.T) {
	serverURL := sqlServerURL(t)
	db := openDB(t, serverURL)
	cluster := testenv.Postgres(t)
	sourceURL := testenv.NewDatabase(t, cluster)
	dump := makeDumpFrom(t, cluster, sourceURL, integrationFixture)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	type variant struct {
		minor int
		comp  pgdump.Compression
	}
	var variants []variant
	for minor := 12; minor <= 16; minor++ {
		comps := []pgdump.Compression{pgdump.CompressionNone, pgdump.CompressionGzip}
		if minor >= 15 {
			comps = append(comps, pgdump.CompressionLZ4, pgdump.CompressionZstd)
		}
		for _, c := range comps {
			variants = append(variants, variant{minor, c})
		}
	}
	for _, v := range variants {
		t.Run(fmt.Sprintf("1.%d-%s", v.minor, v.comp), func(t *testing.T) {
			archive := rewriteArchive(t, dump, v.minor, v.comp)
			af, err := pgdump.Open(archive)
			if err != nil {
				t.Fatal(err)
			}
			h := af.Header
			af.Close()
			if h.Version() != fmt.Sprintf("1.%d", v.minor) || h.Compression != v.comp {
				t.Fatalf("wrote archive %s, %s compression", h.Version(), h.Compression)
			}
			wantRows := dumpRowCounts(t, archive)
			schema := testSchemaName("mxfmt")
			t.Cleanup(func() { dropTestSchema(t, db, schema) })
			progress := newTableRowsRecorder()
			opts := dbcopy.Options{Schema: schema, Jobs: 2, AllowConnected: true, Progress: progress}
			tg := open(t, ctx, serverURL, opts)
			unlock, err := tg.Lock(ctx, 3*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			src := sourceOf(t, ctx, sourceURL, archive, fmt.Sprintf("written-1.%d-%s", v.minor, v.comp))
			if _, err := tg.Preflight(ctx, src); err != nil {
				t.Fatalf("preflight: %v", err)
			}
			if err := tg.Load(ctx, src); err != nil {
				t.Fatalf("load: %v", err)
			}
			compareWithSource(t, ctx, tg, sourceURL)
			if !maps.Equal(progress.rows, wantRows) {
				t.Errorf("rows reported per table:\n got %v\nwant %v", progress.rows, wantRows)
			}
			var total int64
			for table, n := range wantRows {
				total += n
				if progress.bytes[table] < n {
					t.Errorf("table %s: %d bytes reported for %d rows", table, progress.bytes[table], n)
				}
			}
			if progress.added != total {
				t.Errorf("the data phase counted %d rows, the dump holds %d", progress.added, total)
			}
		})
	}
}
