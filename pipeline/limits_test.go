package pipeline_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// A blob entry larger than --max-blob-size is refused with exit 2, named,
// saying what to do.
func TestBlobLargerThanTheBoundIsRefused(t *testing.T) {
	files, _ := fileStore(t)
	cfg := config(t, sampleBackup, "", files)
	cfg.MaxBlobSize = 1000 // the sample's blobs go up to a few kB
	_, err := run(t, "files", pipeline.Files, cfg)
	if exitcode.Of(err) != exitcode.BadInput {
		t.Fatalf("files: %v (exit %d), want exit 2", err, exitcode.Of(err))
	}
	for _, want := range []string{"tree/", "more than --max-blob-size 1000", "run again with a larger --max-blob-size", "download it again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	cfg.MaxBlobSize = 0 // the default lets them all through
	files2, _ := fileStore(t)
	cfg.Files = files2
	if rep, err := run(t, "files", pipeline.Files, cfg); err != nil || rep.Upload.Uploaded != 24 {
		t.Fatalf("files with the default bound: %v", err)
	}
}

// An entry named with control characters cannot write to the terminal or
// forge a line in the summaries of inspect, files and migrate.
func TestHostileEntryNamesAreEscaped(t *testing.T) {
	const forged = "mxmigrate migrate: VERIFIED (exit 0)"
	hostile := []string{
		"tree/\x1b[2K\r" + forged,
		"tree/ab/\n" + forged + "\n",
		"\x1b]0;title\x07notes.txt",
	}
	items := sampleItems(t)
	for _, name := range hostile {
		it := items[0]
		it.hdr.Name = name
		it.body = []byte("x")
		items = append(items, it)
	}
	backup := writeBackup(t, items)
	check := func(t *testing.T, what, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r\x07") {
			t.Fatalf("%s printed a control character:\n%q", what, out)
		}
		// Only the summary's own status line may read like one.
		status := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "mxmigrate ") {
				status++
			}
		}
		if status > 1 {
			t.Fatalf("%s printed a forged line:\n%s", what, out)
		}
		if !strings.Contains(out, `\x1b[2K\r`) {
			t.Fatalf("%s does not show the escaped name:\n%s", what, out)
		}
	}

	in, err := pipeline.Inspect(t.Context(), backup)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	in.WriteText(&buf)
	check(t, "inspect", buf.String())

	files, _ := fileStore(t)
	rep, err := run(t, "files", pipeline.Files, config(t, backup, "", files))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	rep.WriteText(&buf)
	check(t, "files", buf.String())

	cluster := testenv.Postgres(t)
	files, _ = fileStore(t)
	rep, err = run(t, "migrate", pipeline.Migrate, config(t, backup, testenv.NewDatabase(t, cluster), files))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	rep.WriteText(&buf)
	check(t, "migrate", buf.String())
}
