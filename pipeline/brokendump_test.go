package pipeline_test

import (
	"archive/tar"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/testenv"
	"github.com/mxmigrate/mxmigrate/pipeline"
)

// A dump that is truncated, corrupt, random, missing or ambiguous is
// refused with exit 2 and inspect's own message before anything is written
// to the database or the store, by db, files and migrate alike.
func TestBrokenDumpRefusedBeforeAnyWrite(t *testing.T) {
	items := sampleItems(t)
	dumpAfterBlobs := func(items []tarItem) []tarItem {
		var dump []tarItem
		rest := transformed(items, func(it tarItem) []tarItem {
			if isDump(it) {
				dump = append(dump, it)
				return nil
			}
			return []tarItem{it}
		})
		return append(rest, dump...)
	}
	truncate := func(it tarItem) []tarItem {
		if isDump(it) {
			it.body = it.body[:len(it.body)*6/10]
		}
		return []tarItem{it}
	}
	cases := []struct {
		name  string
		items []tarItem
	}{
		{"truncated", transformed(items, truncate)},
		{"corrupt", transformed(items, func(it tarItem) []tarItem {
			if isDump(it) {
				for i := len(it.body) * 7 / 10; i < len(it.body)*7/10+256; i++ {
					it.body[i] ^= 0x5a
				}
			}
			return []tarItem{it}
		})},
		{"random", transformed(items, func(it tarItem) []tarItem {
			if isDump(it) {
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range it.body {
					it.body[i] = byte(rng.UintN(256))
				}
			}
			return []tarItem{it}
		})},
		{"missing", transformed(items, func(it tarItem) []tarItem {
			if isDump(it) {
				return nil
			}
			return []tarItem{it}
		})},
		{"ambiguous", transformed(items, func(it tarItem) []tarItem {
			if isDump(it) {
				return []tarItem{it, it}
			}
			return []tarItem{it}
		})},
		{"truncated after the blobs", dumpAfterBlobs(transformed(items, truncate))},
	}
	cluster := testenv.Postgres(t)
	commands := []struct {
		name     string
		db, file bool
	}{
		{"db", true, false},
		{"files", false, true},
		{"migrate", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			backup := writeBackup(t, tc.items)
			_, inspectErr := pipeline.Inspect(t.Context(), backup)
			if exitcode.Of(inspectErr) != exitcode.BadInput {
				t.Fatalf("inspect: %v (exit %d), want exit 2: the test's damage is not damage", inspectErr, exitcode.Of(inspectErr))
			}
			for _, cmd := range commands {
				t.Run(cmd.name, func(t *testing.T) {
					var db, files, dir string
					if cmd.db {
						db = testenv.NewDatabase(t, cluster)
					}
					if cmd.file {
						files, dir = fileStore(t)
					}
					cfg := config(t, backup, db, files)
					var err error
					switch cmd.name {
					case "db":
						_, err = run(t, "db", pipeline.DB, cfg)
					case "files":
						_, err = run(t, "files", pipeline.Files, cfg)
					default:
						_, err = run(t, "migrate", pipeline.Migrate, cfg)
					}
					if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), inspectErr.Error()) {
						t.Fatalf("err %v (exit %d), want exit 2 with inspect's message %q", err, exitcode.Of(err), inspectErr)
					}
					if cmd.file {
						if n := filesIn(t, dir); n != 0 {
							t.Fatalf("%d objects were uploaded before the dump was refused", n)
						}
					}
					if cmd.db {
						if n := relationsIn(t, db); n != 0 {
							t.Fatalf("%d tables or schemas were created before the dump was refused", n)
						}
					}
				})
			}
		})
	}
}

// The same for the backups whose dump is a file already (a bare .backup,
// an extracted folder), which are checked in place: a truncated dump is
// refused with inspect's message before the target or the store is touched.
func TestTruncatedDumpFileRefusedBeforeAnyWrite(t *testing.T) {
	items := sampleItems(t)
	var dump []byte
	for _, it := range items {
		if isDump(it) {
			dump = it.body[:len(it.body)*6/10]
		}
	}
	bare := func(t *testing.T) string {
		backup := filepath.Join(t.TempDir(), "app.backup")
		if err := os.WriteFile(backup, dump, 0o644); err != nil {
			t.Fatal(err)
		}
		return backup
	}
	folder := func(t *testing.T) string {
		dir := t.TempDir()
		for _, it := range items {
			path := filepath.Join(dir, filepath.FromSlash(it.hdr.Name))
			body := it.body
			if isDump(it) {
				body = dump
			}
			var err error
			switch it.hdr.Typeflag {
			case tar.TypeDir:
				err = os.MkdirAll(path, 0o755)
			case tar.TypeReg:
				if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
					err = os.WriteFile(path, body, 0o644)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	cases := []struct {
		name     string
		backup   func(t *testing.T) string
		commands []string
	}{
		{"bare .backup", bare, []string{"db"}},
		{"extracted folder", folder, []string{"db", "files"}},
	}
	cluster := testenv.Postgres(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			backup := tc.backup(t)
			_, inspectErr := pipeline.Inspect(t.Context(), backup)
			if exitcode.Of(inspectErr) != exitcode.BadInput {
				t.Fatalf("inspect: %v", inspectErr)
			}
			for _, cmd := range tc.commands {
				t.Run(cmd, func(t *testing.T) {
					var err error
					var db, dir string
					if cmd == "db" {
						db = testenv.NewDatabase(t, cluster)
						_, err = run(t, "db", pipeline.DB, config(t, backup, db, ""))
					} else {
						var files string
						files, dir = fileStore(t)
						_, err = run(t, "files", pipeline.Files, config(t, backup, "", files))
					}
					if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), inspectErr.Error()) {
						t.Fatalf("%s: %v (exit %d), want exit 2 with %q", cmd, err, exitcode.Of(err), inspectErr)
					}
					if db != "" {
						if n := relationsIn(t, db); n != 0 {
							t.Fatalf("%d tables or schemas were created", n)
						}
					}
					if dir != "" {
						if n := filesIn(t, dir); n != 0 {
							t.Fatalf("%d objects were uploaded before the dump was refused", n)
						}
					}
				})
			}
		})
	}
}
