package pipeline_test

import (
	"archive/tar"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// A blob whose bytes are in the backup is never "already missing in the
// backup": a hard link moves with its target's bytes, a blob in the wrong
// folder moves under its UUID (both named as anomalies), and a UUID that
// names an entry that could not move (a symbolic link) fails verification
// instead of passing as missing at the source.
func TestBlobsHeldOddlyAreNotMissingInTheBackup(t *testing.T) {
	cluster := testenv.Postgres(t)
	items := sampleItems(t)
	var blobs []string
	for _, it := range items {
		if isBlob(it) {
			blobs = append(blobs, it.hdr.Name)
		}
	}
	linked, misplaced := blobs[0], blobs[1]
	uuidOf := func(name string) string { return path.Base(name) }
	oddly := transformed(items, func(it tarItem) []tarItem {
		switch it.hdr.Name {
		case linked:
			// GNU tar writes a second name of one inode as a hard link to
			// the first name it wrote.
			copyHdr := it.hdr
			copyHdr.Name = "tree/00/00/first-name-of-the-inode"
			link := tar.Header{Name: it.hdr.Name, Typeflag: tar.TypeLink, Linkname: copyHdr.Name, Mode: 0o644, ModTime: it.hdr.ModTime}
			return []tarItem{{hdr: copyHdr, body: it.body}, {hdr: link}}
		case misplaced:
			id := uuidOf(it.hdr.Name)
			wrong := "tree/" + string(rune('a'+(id[0]-'0')%6)) + "z/zz/" + id
			it.hdr.Name = wrong
			return []tarItem{it}
		}
		return []tarItem{it}
	})

	t.Run("hard link and misplaced blob", func(t *testing.T) {
		files, _ := fileStore(t)
		cfg := config(t, writeBackup(t, oddly), testenv.NewDatabase(t, cluster), files)
		rep, err := run(t, "migrate", pipeline.Migrate, cfg)
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if rep.Blobs.Matched != len(blobs) || len(rep.Blobs.MissingInBackup) != 0 || rep.Upload.Uploaded != len(blobs) {
			t.Fatalf("matched %d of %d, uploaded %d, missing in backup %v", rep.Blobs.Matched, len(blobs), rep.Upload.Uploaded, rep.Blobs.MissingInBackup)
		}
		anomalies := strings.Join(rep.Anomalies, "\n")
		if !strings.Contains(anomalies, uuidOf(misplaced)) || !strings.Contains(anomalies, "uploaded under its UUID") {
			t.Fatalf("the misplaced blob is not named an anomaly:\n%s", anomalies)
		}
		// files alone, and verify, agree.
		files2, _ := fileStore(t)
		rep, err = run(t, "files", pipeline.Files, config(t, cfg.Backup, "", files2))
		if err != nil || rep.Upload.Uploaded != len(blobs) {
			t.Fatalf("files: %v, %+v", err, rep.Upload)
		}
		if rep, err := run(t, "verify", pipeline.Verify, cfg); err != nil || rep.Blobs.Matched != len(blobs) {
			t.Fatalf("verify: %v", err)
		}
	})

	t.Run("blob size differs from its file document", func(t *testing.T) {
		grown := transformed(items, func(it tarItem) []tarItem {
			if it.hdr.Name == linked {
				it.body = append(it.body, "extra bytes"...)
			}
			return []tarItem{it}
		})
		files, _ := fileStore(t)
		rep, err := run(t, "migrate", pipeline.Migrate, config(t, writeBackup(t, grown), testenv.NewDatabase(t, cluster), files))
		if err != nil {
			t.Fatalf("migrate: %v (the backup's bytes move as they are)", err)
		}
		if len(rep.Blobs.SizeDiffers) != 1 || !strings.HasPrefix(rep.Blobs.SizeDiffers[0], uuidOf(linked)) {
			t.Fatalf("size anomalies %v, want %s named", rep.Blobs.SizeDiffers, uuidOf(linked))
		}
		if !strings.Contains(strings.Join(rep.Blobs.Problems(), "\n"), "differs from the file document's size") {
			t.Fatalf("the summary does not name the size anomaly: %v", rep.Blobs.Problems())
		}
	})

	t.Run("symbolic link in place of a blob", func(t *testing.T) {
		symlinked := transformed(items, func(it tarItem) []tarItem {
			if it.hdr.Name == linked {
				it.hdr = tar.Header{Name: it.hdr.Name, Typeflag: tar.TypeSymlink, Linkname: "../../../" + misplaced, Mode: 0o777, ModTime: it.hdr.ModTime}
				it.body = nil
			}
			return []tarItem{it}
		})
		files, _ := fileStore(t)
		rep, err := run(t, "migrate", pipeline.Migrate, config(t, writeBackup(t, symlinked), testenv.NewDatabase(t, cluster), files))
		if exitcode.Of(err) != exitcode.VerifyFailed {
			t.Fatalf("migrate: %v (exit %d), want %d", err, exitcode.Of(err), exitcode.VerifyFailed)
		}
		if !slices.Contains(rep.Blobs.SkippedInBackup, uuidOf(linked)) || len(rep.Blobs.MissingInBackup) != 0 {
			t.Fatalf("skipped %v, missing in backup %v; want %s skipped", rep.Blobs.SkippedInBackup, rep.Blobs.MissingInBackup, uuidOf(linked))
		}
	})
}
