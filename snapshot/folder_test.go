package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symlinks here: %v", err)
	}
}

func TestWalkFolderWellFormed(t *testing.T) {
	root := wellFormedFolder(t)
	linked := filepath.Join(t.TempDir(), "link-to-backup")
	symlink(t, root, linked)
	for _, path := range []string{root, linked} { // the folder itself may be a symlink
		b := openBackup(t, path)
		if b.Kind() != KindFolder {
			t.Fatalf("Kind = %q, want %q", b.Kind(), KindFolder)
		}
		var rec recorder
		sum, err := b.Walk(context.Background(), rec.visitor())
		if err != nil {
			t.Fatalf("Walk(%s): %v", path, err)
		}
		wantBlobs := []gotBlob{
			{Blob{UUID: uuidA, Entry: blobAPath, Size: int64(len(blobABody))}, blobABody},
			{Blob{UUID: uuidB, Entry: blobBPath, Size: 0}, ""},
		}
		if !slices.Equal(rec.blobs, wantBlobs) || !slices.Equal(rec.dumps, []string{fakeDump}) || len(rec.metadata) != 1 {
			t.Errorf("blobs %+v dumps %q metadata %v; want %+v, the dump and metadata once", rec.blobs, rec.dumps, rec.metadata, wantBlobs)
		}
		if sum.AnomalyCount != 0 {
			t.Errorf("anomalies = %v, want none", sum.Anomalies)
		}
		checkSummary(t, sum, Summary{Kind: KindFolder, Path: path, DumpEntry: "db/db.backup", DumpSize: int64(len(fakeDump)),
			HasDump: true, Blobs: 2, BlobBytes: int64(len(blobABody))}, &mendixMetaParsed)
	}
}

// The folder gets the tar's checks; WalkDir's lexical order makes the
// anomaly list deterministic, so it is compared whole.
func TestWalkFolderAnomalies(t *testing.T) {
	root := wellFormedFolder(t)
	for name, body := range map[string]string{
		"notes.txt":             "hi",
		"db/other.sql":          "x",
		"tree/ab/cd/xyz":        "x",
		"tree/ab/cd/" + uuidC:   "x",
		"tree/ff/" + uuidC:      "x",
		"tree/ff/ee/.placehold": "",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := writeFolder(t, map[string]string{"ee/" + uuidC[4:]: "outside"})
	symlink(t, "/etc/passwd", filepath.Join(root, filepath.FromSlash(blobCPath)))
	symlink(t, outside, filepath.Join(root, "tree", "dd"))

	var rec recorder
	sum, err := openBackup(t, root).Walk(context.Background(), rec.visitor())
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	want := []Anomaly{
		{"db/other.sql", "unexpected entry, ignored"},
		{"notes.txt", "unexpected entry, ignored"},
		{"tree/ab/cd/" + uuidC, "stored under tree/ab/cd/ but belongs under tree/ff/ee/; uploaded under its UUID"},
		{"tree/ab/cd/xyz", "name is not a UUID; not uploaded"},
		{"tree/dd", `symbolic link to "` + outside + `"; not followed`},
		{"tree/ff/ee/.placehold", "name is not a UUID; not uploaded"},
		{blobCPath, `symbolic link to "/etc/passwd"; not followed`},
		{"tree/ff/" + uuidC, "not at tree/xx/yy/<uuid> but named by a UUID; uploaded under it (it belongs at tree/ff/ee/)"},
		{"tree/ff/" + uuidC, "duplicate blob " + uuidC + "; only the first copy is used"},
	}
	if !slices.Equal(rec.anomalies, want) || !slices.Equal(sum.Anomalies, want) {
		t.Errorf("anomalies =\n%q\nwant\n%q", rec.anomalies, want)
	}
	// A misplaced blob still holds its bytes: it moves under its UUID.
	if got := rec.blobUUIDs(); !slices.Equal(got, []string{uuidA, uuidC, uuidB}) {
		t.Errorf("blobs delivered = %v, want %s, %s and %s", got, uuidA, uuidC, uuidB)
	}
}

func TestWalkFolderMissingDump(t *testing.T) {
	root := writeFolder(t, map[string]string{".metadata": mendixMeta, blobAPath: blobABody})
	sum, err := openBackup(t, root).Walk(context.Background(), Visitor{})
	wantErr(t, err, exitcode.BadInput, root, "has no db/db.backup: is it a Mendix full-snapshot backup?")
	if sum == nil || sum.Blobs != 1 {
		t.Errorf("Summary = %+v, want one blob counted", sum)
	}
}

func TestWalkFolderDumpIsSymlink(t *testing.T) {
	root := writeFolder(t, map[string]string{".metadata": mendixMeta, "real.backup": fakeDump})
	if err := os.Mkdir(filepath.Join(root, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(root, "real.backup"), filepath.Join(root, "db", "db.backup"))
	var rec recorder
	_, err := openBackup(t, root).Walk(context.Background(), rec.visitor())
	wantErr(t, err, exitcode.BadInput, "has no db/db.backup")
	if len(rec.dumps) != 0 || len(rec.anomalies) == 0 || rec.anomalies[0].Entry != "db/db.backup" {
		t.Errorf("dumps %q anomalies %q: a symlinked dump must be reported, not read", rec.dumps, rec.anomalies)
	}
}

func TestWalkBareBackup(t *testing.T) {
	path := writeFile(t, "app.backup", []byte(fakeDump))
	b := openBackup(t, path)
	var rec recorder
	sum, err := b.Walk(context.Background(), rec.visitor())
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if !slices.Equal(rec.dumps, []string{fakeDump}) || !slices.Equal(rec.dumpSizes, []int64{int64(len(fakeDump))}) {
		t.Errorf("dumps = %q sizes %v, want the whole file once", rec.dumps, rec.dumpSizes)
	}
	if len(rec.blobs) != 0 || len(rec.metadata) != 0 || len(rec.anomalies) != 0 {
		t.Errorf("blobs %v metadata %v anomalies %v, want none of them", rec.blobs, rec.metadata, rec.anomalies)
	}
	checkSummary(t, sum, Summary{Kind: KindDatabase, Path: path, DumpEntry: "app.backup",
		DumpSize: int64(len(fakeDump)), HasDump: true}, nil)
}

// The folder form works with either separator: entryName is checked with
// Windows paths here on every platform, and the names it gives are placed
// in the layout like a tar's.
func TestEntryNameWithEitherSeparator(t *testing.T) {
	tests := []struct {
		name       string
		root, path string
		sep        byte
		want       string
		wantRole   role
		wantErr    bool
	}{
		{"unix root itself", "/srv/backup", "/srv/backup", '/', ".", roleIgnore, false},
		{"unix blob", "/srv/backup", "/srv/backup/" + blobAPath, '/', blobAPath, roleBlob, false},
		{"unix dump", "/srv/backup", "/srv/backup/db/db.backup", '/', "db/db.backup", roleDump, false},
		{"unix backslash is a name character", "/srv/backup", `/srv/backup/tree/0a\1b`, '/', `tree/0a\1b`, roleAnomaly, false},
		{"unix filesystem root", "/", "/.metadata", '/', ".metadata", roleMetadata, false},
		{"windows root itself", `C:\backups\snap`, `C:\backups\snap`, '\\', ".", roleIgnore, false},
		{"windows blob", `C:\backups\snap`, `C:\backups\snap\tree\0a\1b\` + uuidA, '\\', blobAPath, roleBlob, false},
		{"windows dump", `C:\backups\snap`, `C:\backups\snap\db\db.backup`, '\\', "db/db.backup", roleDump, false},
		{"windows metadata", `C:\backups\snap`, `C:\backups\snap\.metadata`, '\\', ".metadata", roleMetadata, false},
		{"windows drive root", `D:\`, `D:\db\db.backup`, '\\', "db/db.backup", roleDump, false},
		{"windows UNC share", `\\nas\exports\snap`, `\\nas\exports\snap\tree\0a\1b\` + uuidA, '\\', blobAPath, roleBlob, false},
		{"windows sibling with the same prefix", `C:\backups\snap`, `C:\backups\snap2\db\db.backup`, '\\', "", 0, true},
		{"outside the root", "/srv/backup", "/srv/other/x", '/', "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entryName(tt.root, tt.path, tt.sep)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("entryName(%q, %q) = %q, want an error", tt.root, tt.path, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("entryName(%q, %q) = %q, %v; want %q", tt.root, tt.path, got, err, tt.want)
			}
			typ := typeRegular
			if got == "." {
				typ = typeDir
			}
			if r := place(entry{name: got, typ: typ}).role; r != tt.wantRole {
				t.Errorf("%q placed as role %d, want %d", got, r, tt.wantRole)
			}
		})
	}
}
