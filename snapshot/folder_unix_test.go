//go:build unix

package snapshot

import (
	"context"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// Opening a FIFO blocks until a writer appears, so a walk that opened one
// would hang: it must be reported from its type alone.
func TestWalkFolderFifo(t *testing.T) {
	root := wellFormedFolder(t)
	if err := syscall.Mkfifo(filepath.Join(root, filepath.FromSlash("tree/cc/cc/"+uuidC)), 0o644); err != nil {
		t.Skipf("cannot create a FIFO here: %v", err)
	}
	var rec recorder
	if _, err := openBackup(t, root).Walk(context.Background(), rec.visitor()); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	want := []Anomaly{{"tree/cc/cc/" + uuidC, "named pipe (FIFO); skipped"}}
	if !slices.Equal(rec.anomalies, want) {
		t.Errorf("anomalies = %q, want %q", rec.anomalies, want)
	}
}
