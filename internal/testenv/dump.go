package testenv

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ExtractDump writes the db/db.backup of the .tar.gz backup at path to a
// temporary file and returns that file's path.
func ExtractDump(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no db/db.backup: %v", path, err)
		}
		if strings.TrimPrefix(h.Name, "./") != "db/db.backup" {
			continue
		}
		out := filepath.Join(t.TempDir(), "db.backup")
		w, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(w, tr)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}
