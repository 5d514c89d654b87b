package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Fixture content shared by the tests.
const (
	uuidA = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	uuidB = "cccc0000-1111-4222-8333-444455556666" // the zero-byte blob
	uuidC = "ffee0000-1111-4222-8333-444455556666" // where hostile entries sit, and the big blob

	fakeDump   = "PGDMP\x01\x0e\x00 a fake custom-format dump body"
	mendixMeta = `{"duration":"0","dumpSize":"94769","modelVersion":"1.0.0.40","databaseSize":"9730584","filesSize":"1346575"}`
	blobABody  = "contents of blob A"
	blobBPath  = "tree/cc/cc/" + uuidB
	blobAPath  = "tree/0a/1b/" + uuidA
	blobCPath  = "tree/ff/ee/" + uuidC
)

var mendixMetaParsed = Metadata{ModelVersion: "1.0.0.40", DumpSize: 94769, DatabaseSize: 9730584, FilesSize: 1346575, Duration: "0"}

// tarItem is one entry to write into a test archive.
type tarItem struct {
	name string
	typ  byte // tar.TypeReg when zero
	body string
	link string
}

func dir(name string) tarItem { return tarItem{name: name, typ: tar.TypeDir} }

func file(name, body string) tarItem { return tarItem{name: name, body: body} }

// wellFormed is a complete, valid full snapshot in the order Mendix writes it.
func wellFormed() []tarItem {
	return []tarItem{
		file(".metadata", mendixMeta),
		dir("db/"),
		file("db/db.backup", fakeDump),
		dir("tree/"),
		dir("tree/0a/"),
		dir("tree/0a/1b/"),
		file(blobAPath, blobABody),
		dir("tree/cc/"),
		dir("tree/cc/cc/"),
		file(blobBPath, ""),
	}
}

// withPrefix writes every name with a leading "./", as `tar -C dir .` does.
func withPrefix(items []tarItem) []tarItem {
	out := make([]tarItem, 0, len(items)+1)
	out = append(out, dir("./"))
	for _, it := range items {
		it.name = "./" + it.name
		out = append(out, it)
	}
	return out
}

func without(items []tarItem, name string) []tarItem {
	var out []tarItem
	for _, it := range items {
		if it.name != name {
			out = append(out, it)
		}
	}
	return out
}

func tarBytes(t testing.TB, items []tarItem) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, it := range items {
		hdr := &tar.Header{Name: it.name, Typeflag: it.typ, Linkname: it.link, Mode: 0o644}
		switch it.typ {
		case 0:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(it.body))
		case tar.TypeDir:
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %s: %v", it.name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, it.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeTarGz(t testing.TB, items []tarItem) string {
	return writeFile(t, "backup.tar.gz", gzipBytes(t, tarBytes(t, items)))
}

func writePlainTar(t testing.TB, items []tarItem) string {
	return writeFile(t, "backup.tar", tarBytes(t, items))
}

// writeFolder lays out files (slash paths -> content) as an extracted backup.
func writeFolder(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func wellFormedFolder(t testing.TB) string {
	return writeFolder(t, map[string]string{
		".metadata":    mendixMeta,
		"db/db.backup": fakeDump,
		blobAPath:      blobABody,
		blobBPath:      "",
	})
}

func openBackup(t testing.TB, path string) *Backup {
	t.Helper()
	b, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return b
}

// gotBlob is a blob as a Blob callback received it.
type gotBlob struct {
	Blob
	body string
}

// recorder keeps everything a Walk hands to its callbacks.
type recorder struct {
	metadata  []Metadata
	dumps     []string
	dumpSizes []int64
	blobs     []gotBlob
	anomalies []Anomaly
}

func (r *recorder) visitor() Visitor {
	return Visitor{
		Metadata: func(m Metadata) error { r.metadata = append(r.metadata, m); return nil },
		Dump: func(_ context.Context, rd io.Reader, size int64) error {
			data, err := io.ReadAll(rd)
			r.dumps = append(r.dumps, string(data))
			r.dumpSizes = append(r.dumpSizes, size)
			return err
		},
		Blob: func(_ context.Context, b Blob, rd io.Reader) error {
			data, err := io.ReadAll(rd)
			r.blobs = append(r.blobs, gotBlob{Blob: b, body: string(data)})
			return err
		},
		Anomaly: func(a Anomaly) { r.anomalies = append(r.anomalies, a) },
	}
}

func (r *recorder) blobUUIDs() []string {
	var ids []string
	for _, b := range r.blobs {
		ids = append(ids, b.UUID)
	}
	return ids
}

// wantErr checks that err is non-nil, carries code, and mentions every part.
func wantErr(t *testing.T, err error, code int, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	if got := exitcode.Of(err); got != code {
		t.Errorf("exit code = %d, want %d (error: %v)", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}
