package postgres

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// restoreTool is the pg_restore this machine has.
type restoreTool struct {
	path  string
	major int
}

// findRestore locates pg_restore: $MXMIGRATE_PG_BIN, else the newest
// /usr/lib/postgresql/*/bin, else PATH. It does not use
// pgserver.FindBinDir, which looks for the server's pg_ctl: a client-only
// install (the usual Job image) has pg_restore without it.
func findRestore() (restoreTool, error) {
	if dir := os.Getenv(pgserver.BinDirEnv); dir != "" {
		return restoreIn(dir, "$"+pgserver.BinDirEnv)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest first: "9.6" sorts after "15" as text, so sort by number.
	sort.Slice(dirs, func(i, j int) bool { return dirVersion(dirs[i]) > dirVersion(dirs[j]) })
	for _, dir := range dirs {
		if tool, err := restoreIn(dir, dir); err == nil {
			return tool, nil
		}
	}
	if path, err := exec.LookPath("pg_restore"); err == nil {
		return restoreIn(filepath.Dir(path), "PATH")
	}
	return restoreTool{}, exitcode.With(exitcode.BadInput, errors.New(
		"pg_restore not found (looked in $"+pgserver.BinDirEnv+", /usr/lib/postgresql/*/bin and PATH): install the PostgreSQL client tools or set "+pgserver.BinDirEnv+" to their bin folder"))
}

func restoreIn(dir, where string) (restoreTool, error) {
	path := filepath.Join(dir, "pg_restore")
	major, _, err := pgserver.ToolVersion(dir, "pg_restore")
	if err != nil {
		return restoreTool{}, exitcode.With(exitcode.BadInput, fmt.Errorf("pg_restore from %s: %w", where, err))
	}
	return restoreTool{path: path, major: major}, nil
}

func dirVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// checkReads says whether this pg_restore reads src's archive, and what to
// do when it does not.
func (r restoreTool) checkReads(src *dbcopy.Source) error {
	if src.MinRestoreMajor <= r.major {
		return nil
	}
	return exitcode.With(exitcode.BadInput, fmt.Errorf(
		"this backup's archive (format %s, pg_dump %s) needs pg_restore %d or newer, but %s is version %d: install the PostgreSQL %d client tools and point %s at their bin folder (e.g. %s=/usr/lib/postgresql/%d/bin)",
		orUnknown(src.ArchiveVersion), orUnknown(src.DumpVersion), src.MinRestoreMajor, r.path, r.major,
		src.MinRestoreMajor, pgserver.BinDirEnv, pgserver.BinDirEnv, src.MinRestoreMajor))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
