package pipeline_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/blobsync"
	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/samplegen"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// rewriteBackup copies the backup src to dst, leaving out the blobs named
// in drop and giving the blobs in put (new or existing) the bytes given.
func rewriteBackup(t *testing.T, src, dst string, drop []string, put map[string][]byte) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	gzw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gzw)
	tr := tar.NewReader(gz)
	blobEntry := func(uuid string) string { return "tree/" + uuid[0:2] + "/" + uuid[2:4] + "/" + uuid }
	written := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		uuid := filepath.Base(h.Name)
		if h.Typeflag == tar.TypeReg && strings.HasPrefix(h.Name, "tree/") {
			if slices.Contains(drop, uuid) {
				continue
			}
			if data, ok := put[uuid]; ok {
				h.Size = int64(len(data))
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				tw.Write(data)
				written[uuid] = true
				continue
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, uuid := range slices.Sorted(maps.Keys(put)) {
		if written[uuid] {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: blobEntry(uuid), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(put[uuid]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(put[uuid])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gzw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBackupBlobs(t *testing.T, backup string) map[string][]byte {
	t.Helper()
	in, err := os.Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return blobs
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && strings.HasPrefix(h.Name, "tree/") {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			blobs[filepath.Base(h.Name)] = data
		}
	}
}

// TestPreseedThenMigrateTheDifference: files of an earlier backup, then
// migrate of the final one moves only the difference, refuses or replaces
// the changed file as told, and --prune deletes exactly the files deleted
// in between: the store then holds the final backup's files, plus the
// objects prune must keep (not UUID-named; a row whose blob the final
// backup lacks).
func TestPreseedThenMigrateTheDifference(t *testing.T) {
	cluster := testenv.Postgres(t)
	dir := t.TempDir()
	final := filepath.Join(dir, "final-generated.tar.gz")
	res, err := samplegen.Generate(context.Background(), samplegen.Options{Out: final, Cluster: cluster, Rows: 20, Blobs: 10, BlobMedian: 500, BlobMax: 2000, Seed: 18})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res.Blobs))
	for i, b := range res.Blobs {
		ids[i] = b.UUID
	}
	added := ids[8:]     // in the final backup only
	changed := ids[3]    // other bytes in the earlier backup
	rowOnly := ids[5]    // its row stays, its blob is gone from the final backup
	deleted := []string{ // in the earlier backup only: files deleted in the app since
		"0a0a0a0a-1111-4222-8333-444444444444",
		"0b0b0b0b-1111-4222-8333-444444444444",
	}
	finalPath := filepath.Join(dir, "final.tar.gz")
	rewriteBackup(t, final, finalPath, []string{rowOnly}, nil)
	earlier := filepath.Join(dir, "earlier.tar.gz")
	rewriteBackup(t, final, earlier, added, map[string][]byte{
		changed:    []byte("the earlier content of a changed file"),
		deleted[0]: []byte("deleted one"),
		deleted[1]: []byte("deleted two"),
	})
	want := readBackupBlobs(t, finalPath)

	for _, store := range storeKinds(t) {
		t.Run(store.name, func(t *testing.T) {
			files := store.fresh(t)
			pre := config(t, earlier, "", files)
			rep, err := run(t, "files", pipeline.Files, pre)
			if err != nil || rep.Upload.New != 10 {
				t.Fatalf("pre-seed: err %v, upload %+v", err, rep.Upload)
			}
			s, err := blobsync.Open(context.Background(), files, blobsync.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Put(context.Background(), "notes/readme.txt", blobsync.BytesPayload([]byte("not a file document"))); err != nil {
				t.Fatal(err)
			}

			// Plan counts what the store holds already from its listing:
			// the six unchanged files; the changed one differs in size.
			db := testenv.NewDatabase(t, cluster)
			cfg := config(t, finalPath, db, files)
			plan, err := pipeline.Plan(context.Background(), cfg, "", 0)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			wantCandidates := append([]string{rowOnly}, deleted...)
			slices.Sort(wantCandidates)
			if st := plan.Store; !st.Listed || st.Objects != 11 || st.Present != 6 || st.NotInBackup != 4 ||
				!slices.Equal(slices.Sorted(slices.Values(st.PruneKeys)), wantCandidates) {
				t.Errorf("plan's store facts = %+v, want 11 objects, 6 present, 4 not in the backup, candidates %v", st, wantCandidates)
			}
			if e := plan.Estimate; e.FilesLeft > e.Files {
				t.Errorf("estimate: files left %v more than all files %v", e.FilesLeft, e.Files)
			}

			// Without --overwrite the changed file is refused, by name, and
			// nothing is pruned.
			cfg.Prune = true
			rep, err = run(t, "migrate", pipeline.Migrate, cfg)
			if err == nil || rep.Upload.Refused != 1 || rep.Upload.New != 2 || rep.Upload.Skipped != 6 || rep.Prune != nil ||
				!strings.Contains(strings.Join(rep.Upload.Failures, "\n"), changed) {
				t.Fatalf("migrate without --overwrite: err %v, upload %+v, prune %+v", err, rep.Upload, rep.Prune)
			}
			if rep.Upload.StoreOnly == nil || *rep.Upload.StoreOnly != 4 {
				t.Errorf("store-only objects = %v, want 4 (two deleted, the row's, the note)", rep.Upload.StoreOnly)
			}

			// With --overwrite: replaced, and the deleted files pruned.
			cfg.Overwrite = true
			cfg.IfExists = dbcopy.IfExistsDrop
			rep, err = run(t, "migrate", pipeline.Migrate, cfg)
			if err != nil {
				t.Fatalf("migrate --overwrite --prune: %v", err)
			}
			if rep.Upload.Replaced != 1 || rep.Upload.New != 0 || rep.Upload.Skipped != 8 {
				t.Errorf("upload = %+v, want 1 replaced, 0 new, 8 skipped", rep.Upload)
			}
			if rep.Prune == nil || rep.Prune.DeletedCount != 2 || !slices.Equal(slices.Sorted(slices.Values(rep.Prune.Deleted)), prefixed(store.name, deleted)) || rep.Prune.Kept != 2 {
				t.Fatalf("prune = %+v, want deleted %v and 2 kept", rep.Prune, deleted)
			}

			got := map[string]int64{}
			if err := s.List(context.Background(), func(o blobsync.ObjectInfo) error { got[o.Key] = o.Size; return nil }); err != nil {
				t.Fatal(err)
			}
			wantKeys := []string{"notes/readme.txt", rowOnly}
			for uuid := range want {
				wantKeys = append(wantKeys, uuid)
			}
			slices.Sort(wantKeys)
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, wantKeys) {
				t.Fatalf("store holds %v, want %v", keys, wantKeys)
			}
			for uuid, data := range want {
				if got[uuid] != int64(len(data)) {
					t.Errorf("object %s: %d bytes, want %d", uuid, got[uuid], len(data))
				}
			}

			// Once pruned, a rerun finds nothing to delete.
			rep, err = run(t, "migrate", pipeline.Migrate, cfg)
			if err != nil || rep.Prune == nil || rep.Prune.DeletedCount != 0 || rep.Upload.Skipped != 9 {
				t.Fatalf("rerun: err %v, upload %+v, prune %+v", err, rep.Upload, rep.Prune)
			}
		})
	}
}

// prefixed is how the store lists keys: the tests' stores have no
// --prefix, so keys are the UUIDs.
func prefixed(_ string, uuids []string) []string { return slices.Sorted(slices.Values(uuids)) }

func TestPruneOnlyWithMigrate(t *testing.T) {
	cfg := config(t, sampleBackup, "", "file://"+filepath.ToSlash(t.TempDir()))
	cfg.Prune = true
	_, err := run(t, "files", pipeline.Files, cfg)
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "use --prune with migrate") {
		t.Fatalf("files --prune = %v (exit %d), want a refusal naming migrate", err, exitcode.Of(err))
	}
}
