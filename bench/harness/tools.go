package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

// toolset holds the programs the benchmark runs. An empty path means the
// tool could not be installed; the contenders that need it are left out
// and the results say why.
type toolset struct {
	time     string // GNU time, for wall, CPU and peak RSS
	tar      string
	rclone   string
	pgloader string
	minio    string
	pgBin    string // PostgreSQL's bin folder (pg_restore, postgres)
	// notes say what was installed or is missing, for the results.
	notes []string
}

// debianTools maps each compared program to its Debian package.
var debianTools = []struct{ binary, pkg string }{
	{"/usr/bin/time", "time"},
	{"rclone", "rclone"},
	{"pgloader", "pgloader"},
}

// installTimeout bounds apt-get: a stuck mirror must not hang the run.
const installTimeout = 10 * time.Minute

// findTools locates every program, installing the missing compared tools
// from Debian's packages.
func findTools(ctx context.Context, log *slog.Logger, root string) (*toolset, error) {
	t := &toolset{}
	var missing []string
	for _, d := range debianTools {
		if lookPath(d.binary) == "" {
			missing = append(missing, d.pkg)
		}
	}
	if len(missing) > 0 {
		t.notes = append(t.notes, installPackages(ctx, log, missing)...)
	}
	t.time = lookPath("/usr/bin/time")
	t.tar = lookPath("tar")
	t.rclone = lookPath("rclone")
	t.pgloader = lookPath("pgloader")
	if t.time == "" || t.tar == "" {
		return nil, errors.New("GNU time (/usr/bin/time) and tar are required: apt-get install time tar")
	}
	if t.rclone == "" {
		t.notes = append(t.notes, "rclone is not available: the files and migrate comparisons are left out")
	}
	if t.pgloader == "" {
		t.notes = append(t.notes, "pgloader is not available: its row is left out")
	}

	dir, _, err := pgserver.FindBinDir()
	if err != nil {
		log.Info("PostgreSQL server binaries missing: running scripts/deps.sh postgres")
		if err := runQuiet(ctx, root, installTimeout, filepath.Join(root, "scripts", "deps.sh"), "postgres"); err != nil {
			return nil, fmt.Errorf("install PostgreSQL: %w", err)
		}
		if dir, _, err = pgserver.FindBinDir(); err != nil {
			return nil, err
		}
		t.notes = append(t.notes, "installed PostgreSQL server binaries with scripts/deps.sh")
	}
	t.pgBin = dir

	t.minio = minioBinary()
	if t.minio == "" {
		return nil, errors.New("MinIO not found ($MXTEST_MINIO, ~/.cache/mxmigrate/bin/minio or PATH): run `make test-deps` once")
	}
	return t, nil
}

// installPackages installs pkgs with apt-get, one at a time after a
// failed batch so that one unavailable package does not cost the others.
func installPackages(ctx context.Context, log *slog.Logger, pkgs []string) (notes []string) {
	apt := []string{"apt-get"}
	if os.Geteuid() != 0 {
		if lookPath("sudo") == "" {
			return []string{fmt.Sprintf("not root and no sudo: could not install %s", strings.Join(pkgs, ", "))}
		}
		apt = []string{"sudo", "-n", "apt-get"}
	}
	log.Info("installing the compared tools from Debian's packages", "packages", pkgs)
	update := append(append([]string{}, apt...), "update", "-qq")
	if err := runQuiet(ctx, "", installTimeout, update[0], update[1:]...); err != nil {
		log.Warn("apt-get update failed; trying the install anyway", "err", err)
	}
	install := func(p ...string) error {
		args := append(append(append([]string{}, apt...), "install", "-y", "-qq", "--no-install-recommends"), p...)
		return runQuiet(ctx, "", installTimeout, args[0], args[1:]...)
	}
	if install(pkgs...) == nil {
		return []string{"installed from Debian's packages: " + strings.Join(pkgs, ", ")}
	}
	for _, p := range pkgs {
		if err := install(p); err != nil {
			notes = append(notes, fmt.Sprintf("could not install %s with apt-get: %v", p, err))
		} else {
			notes = append(notes, "installed from Debian's packages: "+p)
		}
	}
	return notes
}

// runQuiet runs a setup command, returning its output's tail on failure.
func runQuiet(ctx context.Context, dir string, timeout time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tailLines(string(out), 5))
	}
	return nil
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// minioBinary finds MinIO as the tests do: $MXTEST_MINIO, the pinned
// build of scripts/deps.sh, or PATH.
func minioBinary() string {
	if p := os.Getenv("MXTEST_MINIO"); p != "" {
		return lookPath(p)
	}
	cache := os.Getenv("MXTEST_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "mxmigrate")
	}
	if p := lookPath(filepath.Join(cache, "bin", "minio")); p != "" {
		return p
	}
	return lookPath("minio")
}

// versionOf runs a tool's version command and keeps its first line.
func versionOf(name string, args ...string) string {
	if name == "" {
		return "not available"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown (" + err.Error() + ")"
	}
	return firstLine(string(out))
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
