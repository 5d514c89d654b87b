package pipeline_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// tarItem is one entry of a backup built by a test: its header and bytes.
type tarItem struct {
	hdr  tar.Header
	body []byte
}

// sampleItems reads the sample backup's entries into memory (it is small),
// so that a test can build a hostile or broken variant of it.
func sampleItems(t *testing.T) []tarItem {
	t.Helper()
	f, err := os.Open(sampleBackup)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var items []tarItem
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return items
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, tarItem{hdr: *hdr, body: body})
	}
}

// writeBackup writes items as a .tar.gz; a header's Size is taken from
// its body unless the header is a link.
func writeBackup(t *testing.T, items []tarItem) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, it := range items {
		hdr := it.hdr
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == 0 {
			hdr.Size = int64(len(it.body))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(it.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// transformed returns a copy of items with f applied to each; f returns
// the items to put in the entry's place (none drops it).
func transformed(items []tarItem, f func(it tarItem) []tarItem) []tarItem {
	var out []tarItem
	for _, it := range items {
		it.body = append([]byte(nil), it.body...)
		out = append(out, f(it)...)
	}
	return out
}

func isDump(it tarItem) bool { return it.hdr.Name == "db/db.backup" }

func isBlob(it tarItem) bool {
	return strings.HasPrefix(it.hdr.Name, "tree/") && it.hdr.Typeflag != tar.TypeDir
}

// fileStore is a fresh file:// store URL and its folder.
func fileStore(t *testing.T) (string, string) {
	dir := filepath.Join(t.TempDir(), "files")
	return (&url.URL{Scheme: "file", Path: dir}).String(), dir
}

// filesIn counts the regular files under dir (0 when it does not exist).
func filesIn(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.SkipAll
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// relationsIn counts the tables and schemas a run may have created in the
// database at dbURL: a target nothing was written to has none.
func relationsIn(t *testing.T, dbURL string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%')
		+ (SELECT count(*) FROM pg_namespace WHERE nspname = 'mxmigrate')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
