package blobsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// cancellingPayload cancels its context after the first read, as Ctrl-C in
// the middle of a copy would.
type cancellingPayload struct {
	Payload
	cancel context.CancelFunc
}

func (p cancellingPayload) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.Payload.ReadAt(b[:min(len(b), 1024)], off)
	p.cancel()
	return n, err
}

func TestFileStoreInterruptedPutLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir, Options{}) // a bare path
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	_, err = s.Put(ctx, "blob", cancellingPayload{BytesPayload(make([]byte, 1<<20)), cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v, want context.Canceled", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("folder holds %d entries after an interrupted Put, want none", len(entries))
	}
}

func TestFileStoreFolderLooksLikeFlattenedTree(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), "file://"+filepath.ToSlash(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "b"} {
		if _, err := s.Put(t.Context(), key, BytesPayload([]byte(key))); err != nil {
			t.Fatal(err)
		}
	}
	// A leftover temp file from a crashed run must not show as an object.
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != ".mxmigrate-tmp-123,a,b" {
		t.Errorf("folder holds %v, want just the objects (and the planted temp file)", names)
	}
	if got := listAll(t, s); len(got) != 2 || got["a"] != 1 || got["b"] != 1 {
		t.Errorf("List = %v, want a and b only", got)
	}
	info, err := os.Stat(filepath.Join(dir, "a"))
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("object mode = %v (%v), want 0644", info.Mode().Perm(), err)
	}
}

func TestFileStoreRejectsDotKeys(t *testing.T) {
	s := openTempFileStore(t)
	for _, key := range []string{".hidden", "dir/.x", tempPrefix + "1"} {
		if _, err := s.Put(t.Context(), key, BytesPayload(nil)); exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("Put(%q) = %v, want a bad-input error", key, err)
		}
	}
}

func TestFileStoreOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, raw, want string
	}{
		{"not a folder", file, "not a folder"},
		{"missing", filepath.Join(t.TempDir(), "nope"), "does not exist"},
	}
	for _, tt := range tests {
		_, err := Open(t.Context(), tt.raw, Options{})
		if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open = %v, want a bad-input error mentioning %q", tt.name, err, tt.want)
		}
	}
}
