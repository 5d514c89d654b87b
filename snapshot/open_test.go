package snapshot

import (
	"path/filepath"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name     string
		path     func(t *testing.T) string
		wantKind Kind
		wantErr  []string
	}{
		{name: "tar.gz", path: func(t *testing.T) string { return writeTarGz(t, wellFormed()) }, wantKind: KindFull},
		{name: "plain tar", path: func(t *testing.T) string { return writePlainTar(t, wellFormed()) }, wantKind: KindFull},
		{name: "bare .backup", path: func(t *testing.T) string { return writeFile(t, "db.backup", []byte(fakeDump)) }, wantKind: KindDatabase},
		{name: "bare dump with another extension", path: func(t *testing.T) string { return writeFile(t, "export.dat", []byte(fakeDump)) }, wantKind: KindDatabase},
		{name: "folder", path: func(t *testing.T) string { return wellFormedFolder(t) }, wantKind: KindFolder},
		{
			name:    "missing file",
			path:    func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.tar.gz") },
			wantErr: []string{"nope.tar.gz does not exist: check the path"},
		},
		{
			name:    "empty file",
			path:    func(t *testing.T) string { return writeFile(t, "empty.tar.gz", nil) },
			wantErr: []string{"empty.tar.gz is empty (0 bytes): download it again"},
		},
		{
			name:    "not a backup at all",
			path:    func(t *testing.T) string { return writeFile(t, "notes.tar.gz", []byte("these are my notes")) },
			wantErr: []string{"notes.tar.gz is not a backup mxmigrate recognises", "Mendix full-snapshot .tar.gz", "database-only .backup"},
		},
		{
			name:    "plain SQL dump",
			path:    func(t *testing.T) string { return writeFile(t, "db.sql", []byte("--\n-- PostgreSQL database dump\n")) },
			wantErr: []string{"db.sql is not a backup mxmigrate recognises"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			b, err := Open(path)
			if tt.wantErr != nil {
				wantErr(t, err, exitcode.BadInput, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("Open(%s): %v", path, err)
			}
			if b.Kind() != tt.wantKind || b.Path() != path {
				t.Errorf("Open(%s) = kind %q path %q, want %q", path, b.Kind(), b.Path(), tt.wantKind)
			}
		})
	}
}
