package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/verify"
)

// fullReport has every section, so that the goldens pin every field.
func fullReport() *Report {
	contentOK := false
	storeOnly := 3
	return &Report{Tool: "mxmigrate", Version: "v1", Command: "migrate", Backup: "b.tar.gz", Database: "postgres://x", Files: "s3://b",
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), FinishedAt: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC), ExitCode: 3, Error: "e",
		Phases: []Phase{{Name: "p", Seconds: 1.5, OK: true}},
		DB: &verify.DBReport{Tables: []verify.TableResult{{Name: "t", SourceRows: 2, TargetRows: 1, ContentOK: &contentOK, Differences: []string{"id=1: x"}}},
			Sequences: []verify.SequenceResult{{Name: "s", Source: 5, Target: 4}}, MissingIndexes: []string{"t.i"}, Checksums: true},
		Blobs:     &verify.FilesReport{Expected: 3, Matched: 1, Lost: []string{"u1"}, Orphans: []string{"o"}, OrphanCount: 1, StoreObjects: 2},
		Upload:    &UploadReport{Uploaded: 1, Skipped: 2, Failed: 1, Bytes: 10, Failures: []string{"f"}, New: 1, StoreOnly: &storeOnly},
		Prune:     &PruneReport{Deleted: []string{"k2", "k1"}, DeletedCount: 2, Kept: 1, Failures: []string{"x"}},
		Anomalies: []string{"a"}, Warnings: []string{"w"}, DatabaseIdentity: "id", FilesIdentity: "fid"}
}

// TestReportGolden pins the JSON report, a contract scripts and the
// Kubernetes verify Job rely on, and the summary. The goldens were written
// by verify.Report before it became this package's, byte for byte.
func TestReportGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	if err := fullReport().WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	var summary bytes.Buffer
	fullReport().WriteText(&summary)
	for _, c := range []struct {
		golden string
		got    func() ([]byte, error)
	}{
		{"report.json", func() ([]byte, error) { return os.ReadFile(path) }},
		{"summary.txt", func() ([]byte, error) { return summary.Bytes(), nil }},
	} {
		got, err := c.got()
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", c.golden))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/%s:\n%s", c.golden, c.golden, got)
		}
	}
}

func TestVerified(t *testing.T) {
	failedUpload := &Report{Upload: &UploadReport{Failed: 1}}
	if failedUpload.Verified() {
		t.Error("a report with a failed upload is verified")
	}
	if !(&Report{}).Verified() {
		t.Error("a report with no checks is not verified")
	}
	if fullReport().Verified() {
		t.Error("a report with differences is verified")
	}
}
