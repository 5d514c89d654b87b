package snapshot

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// cancelAfter is a context whose Err reports cancellation after n checks,
// so a test can stop a copy in its middle without relying on timing.
type cancelAfter struct {
	context.Context
	left int
}

func (c *cancelAfter) Err() error {
	if c.left <= 0 {
		return context.Canceled
	}
	c.left--
	return nil
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDumpFile(t *testing.T) {
	tests := []struct {
		name      string
		path      func(t *testing.T) string
		extracted bool   // written into dir, removed by cleanup
		inPlace   string // for folder and bare: the path relative to the backup
	}{
		{name: "tar.gz", path: func(t *testing.T) string { return writeTarGz(t, wellFormed()) }, extracted: true},
		{name: "./-prefixed tar.gz", path: func(t *testing.T) string { return writeTarGz(t, withPrefix(wellFormed())) }, extracted: true},
		{name: "plain tar", path: func(t *testing.T) string { return writePlainTar(t, wellFormed()) }, extracted: true},
		{name: "folder", path: func(t *testing.T) string { return wellFormedFolder(t) }, inPlace: "db/db.backup"},
		{name: "bare", path: func(t *testing.T) string { return writeFile(t, "app.backup", []byte(fakeDump)) }, inPlace: "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backup := tt.path(t)
			workDir := t.TempDir()
			path, cleanup, err := openBackup(t, backup).DumpFile(context.Background(), workDir)
			if err != nil {
				t.Fatalf("DumpFile: %v", err)
			}
			wantPath := filepath.Join(workDir, "db.backup")
			if !tt.extracted {
				wantPath = filepath.Join(backup, filepath.FromSlash(tt.inPlace))
			}
			if path != wantPath {
				t.Errorf("path = %s, want %s", path, wantPath)
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != fakeDump {
				t.Errorf("dump file holds %q (err %v), want %q", got, err, fakeDump)
			}
			if tt.extracted {
				if got := dirEntries(t, workDir); len(got) != 1 {
					t.Errorf("work dir holds %q, want only db.backup (no temporary file left)", got)
				}
			} else if got := dirEntries(t, workDir); len(got) != 0 {
				t.Errorf("work dir holds %q, want nothing written for an in-place dump", got)
			}
			cleanup()
			_, statErr := os.Stat(path)
			if tt.extracted && !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("after cleanup, stat %s: %v; want it removed", path, statErr)
			}
			if !tt.extracted && statErr != nil {
				t.Errorf("after cleanup, stat %s: %v; an in-place dump must be left alone", path, statErr)
			}
		})
	}
}

func TestDumpFileFailures(t *testing.T) {
	bigDump := append([]byte("PGDMP"), []byte(randomText(4<<20))...)
	bigDumpTarGz := func(t *testing.T) []byte {
		return gzipBytes(t, tarBytes(t, []tarItem{file(".metadata", mendixMeta), dir("db/"), file("db/db.backup", string(bigDump))}))
	}
	tests := []struct {
		name     string
		path     func(t *testing.T) string
		ctx      func() context.Context
		workDir  func(t *testing.T) string
		wantCode int
		want     []string
		wantIs   error
	}{
		{
			name:     "tar without a dump",
			path:     func(t *testing.T) string { return writeTarGz(t, without(wellFormed(), "db/db.backup")) },
			wantCode: exitcode.BadInput,
			want:     []string{"has no db/db.backup"},
		},
		{
			name: "tar whose dump is a symlink",
			path: func(t *testing.T) string {
				return writeTarGz(t, append(without(wellFormed(), "db/db.backup"), tarItem{name: "db/db.backup", typ: tar.TypeSymlink, link: "/etc/shadow"}))
			},
			wantCode: exitcode.BadInput,
			want:     []string{"has no db/db.backup"},
		},
		{
			name:     "folder without a dump",
			path:     func(t *testing.T) string { return writeFolder(t, map[string]string{".metadata": mendixMeta}) },
			wantCode: exitcode.BadInput,
			want:     []string{"has no db/db.backup"},
		},
		{
			name: "dump truncated",
			path: func(t *testing.T) string {
				data := bigDumpTarGz(t)
				return writeFile(t, "cut.tar.gz", data[:len(data)/2])
			},
			wantCode: exitcode.BadInput,
			want:     []string{"is truncated or corrupt", `in entry "db/db.backup"`, "download it again"},
		},
		{
			name:     "work dir missing",
			path:     func(t *testing.T) string { return writeTarGz(t, wellFormed()) },
			workDir:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent") },
			wantCode: exitcode.Failure,
			want:     []string{"cannot write the dump", "absent"},
		},
		{
			name:     "cancelled before starting",
			path:     func(t *testing.T) string { return writeTarGz(t, wellFormed()) },
			ctx:      func() context.Context { return &cancelAfter{Context: context.Background()} },
			wantCode: exitcode.Interrupted,
			wantIs:   context.Canceled,
		},
		{
			name:     "cancelled in the middle of the copy",
			path:     func(t *testing.T) string { return writeFile(t, "big.tar.gz", bigDumpTarGz(t)) },
			ctx:      func() context.Context { return &cancelAfter{Context: context.Background(), left: 40} },
			wantCode: exitcode.Interrupted,
			want:     []string{`stopped in entry "db/db.backup"`},
			wantIs:   context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			workDir := t.TempDir()
			if tt.workDir != nil {
				workDir = tt.workDir(t)
			}
			path, cleanup, err := openBackup(t, tt.path(t)).DumpFile(ctx, workDir)
			wantErr(t, err, tt.wantCode, tt.want...)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			if path != "" || cleanup == nil {
				t.Errorf("on error: path %q, cleanup nil = %v; want an empty path and a callable cleanup", path, cleanup == nil)
			}
			if tt.workDir == nil {
				if got := dirEntries(t, workDir); len(got) != 0 {
					t.Errorf("work dir holds %q after a failed DumpFile, want nothing (no db.backup, no partial file)", got)
				}
			}
		})
	}
}
