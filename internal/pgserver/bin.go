package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
)

// BinDirEnv names the environment variable that points at a PostgreSQL bin
// folder, for machines where the binaries are not in a standard place. It
// is the variable of mxmigrate's --pg-bin flag, which sets it, so that the
// command line, tests and the bench share this one setting.
const BinDirEnv = "MXMIGRATE_PG_BIN"

// FindBinDir locates the PostgreSQL server binaries: $MXMIGRATE_PG_BIN, else
// the newest /usr/lib/postgresql/*/bin (C:\Program Files\PostgreSQL\*\bin
// on Windows), else the folder of pg_ctl on PATH. It returns the folder and
// the major version of its pg_restore.
func FindBinDir() (dir string, major int, err error) {
	if d := os.Getenv(BinDirEnv); d != "" {
		major, _, err := ToolVersion(d, "pg_restore")
		if err != nil {
			return "", 0, fmt.Errorf("%s=%s: %w", BinDirEnv, d, err)
		}
		return d, major, nil
	}
	candidates, _ := filepath.Glob(installedBinDirs())
	// Newest first: "9.6" sorts after "15" as text, so sort by number.
	sort.Slice(candidates, func(i, j int) bool {
		return versionOfDir(candidates[i]) > versionOfDir(candidates[j])
	})
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl"+exeSuffix())); err == nil {
			if major, _, err := ToolVersion(d, "pg_restore"); err == nil {
				return d, major, nil
			}
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		d := filepath.Dir(p)
		if major, _, err := ToolVersion(d, "pg_restore"); err == nil {
			return d, major, nil
		}
	}
	return "", 0, errors.New("no PostgreSQL binaries found (looked in $" + BinDirEnv + ", /usr/lib/postgresql/*/bin and PATH): install the PostgreSQL server package (e.g. apt-get install postgresql) or set " + BinDirEnv)
}

// installedBinDirs is the pattern of the folders the PostgreSQL packages
// install their binaries in, one per major version.
func installedBinDirs() string {
	if runtime.GOOS == "windows" {
		return `C:\Program Files\PostgreSQL\*\bin`
	}
	return "/usr/lib/postgresql/*/bin"
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

func versionOfDir(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

var toolVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// ToolVersion runs "tool --version" from binDir and returns its major
// version and the full version text.
func ToolVersion(binDir, tool string) (major int, full string, err error) {
	out, err := exec.CommandContext(context.Background(), filepath.Join(binDir, tool), "--version").Output()
	if err != nil {
		return 0, "", fmt.Errorf("%s --version: %w", tool, err)
	}
	m := toolVersionRE.FindSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("%s --version printed %q: not a PostgreSQL version", tool, out)
	}
	major, _ = strconv.Atoi(string(m[1]))
	return major, string(out[:len(out)-1]), nil
}
