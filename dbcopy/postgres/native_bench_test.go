package postgres

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// TestNativeAgainstPgRestoreTiming loads the dump that
// MXTEST_NATIVE_TIMING names with the native loader and with
// pg_restore -j 2, and logs both times: a tool for tuning, skipped
// unless asked for.
func TestNativeAgainstPgRestoreTiming(t *testing.T) {
	dump := os.Getenv("MXTEST_NATIVE_TIMING")
	if dump == "" {
		t.Skip("set MXTEST_NATIVE_TIMING to a dump to time")
	}
	c := needCluster(t)
	if v := os.Getenv("MXTEST_NATIVE_SPLIT_MIN"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		old := splitMinBytes
		splitMinBytes = n
		defer func() { splitMinBytes = old }()
	}
	src := sourceOf(t, dump)
	for _, loader := range []string{LoaderNative, "pg_restore -j 2"} {
		target := newDatabase(t)
		started := time.Now()
		if loader == LoaderNative {
			logs := &logBuffer{}
			opts := dbcopy.Options{Jobs: 2, Loader: LoaderNative, Log: newLogger(logs)}
			if _, err := migrate(testCtx(t), openTarget(t, target, opts), src, 0); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(os.TempDir(), "native-timing.log"), []byte(logs.String()), 0o644)
		} else {
			cmd := exec.Command(filepath.Join(c.BinDir(), "pg_restore"), "-j", "2", "--no-owner", "--no-privileges", "-d", target, dump)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		t.Logf("%s: %s", loader, time.Since(started).Round(time.Millisecond))
	}
}
