package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFreePortIsBindableOnLoopback(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port <= 0 || port > 65535 {
		t.Fatalf("FreePort() = %d, want a TCP port", port)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d from FreePort is not bindable: %v", port, err)
	}
	l.Close()
}

func TestCacheDir(t *testing.T) {
	tests := []struct {
		name, cache, home, want string
	}{
		{"explicit", "/opt/mxcache", "/home/u", "/opt/mxcache"},
		{"home default", "", "/home/u", filepath.Join("/home/u", ".cache", "mxmigrate")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MXTEST_CACHE", tt.cache)
			t.Setenv("HOME", tt.home)
			if got := CacheDir(); got != tt.want {
				t.Errorf("CacheDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// recordingTB captures how Unavailable ends a test without ending this one.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recordingTB) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name, require, server string
		wantFatal             bool
	}{
		{"skips by default", "", "MinIO", false},
		{"fails when servers are required", "1", "MinIO", true},
		{"only 1 means all", "yes", "MinIO", false},
		{"listed", "postgresql,minio,azurite", "MinIO", true},
		{"not listed", "postgresql,minio,azurite", "SQL Server", false},
		{"case and spaces do not count", "PostgreSQL, SQLServer", "SQL Server", true},
		{"1 covers SQL Server", "1", "SQL Server", true},
		{"no partial names", "minio", "MinIO2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RequireServersEnv, tt.require)
			rec := &recordingTB{TB: t}
			Unavailable(rec, tt.server, "run `make test-deps`")
			msg := rec.skip
			if tt.wantFatal {
				msg = rec.fatal
			}
			if tt.wantFatal != (rec.fatal != "") || tt.wantFatal == (rec.skip != "") {
				t.Fatalf("fatal=%q skip=%q, want fatal=%v", rec.fatal, rec.skip, tt.wantFatal)
			}
			for _, want := range []string{tt.server, "make test-deps", RequireServersEnv} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestWaitForRetriesUntilReady(t *testing.T) {
	calls := 0
	err := WaitFor(t.Context(), "thing", func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("WaitFor = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestWaitForGivesUpWithLastError(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errDown := errors.New("connection refused")
	err := WaitFor(ctx, "thing", func(context.Context) error { return errDown })
	if !errors.Is(err, errDown) || !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor = %v, want it to wrap the last check error and the context error", err)
	}
	if !strings.Contains(err.Error(), "thing") {
		t.Errorf("error %q does not name what it waited for", err)
	}
}

func TestFindBinaryPrefersEnvThenCache(t *testing.T) {
	dir := t.TempDir()
	cached := filepath.Join(dir, "cached")
	explicit := filepath.Join(dir, "explicit")
	for _, p := range []string{cached, explicit} {
		writeExecutable(t, p)
	}
	tests := []struct {
		name, env, cached, want string
	}{
		{"env wins", explicit, cached, explicit},
		{"env names a missing file", filepath.Join(dir, "nope"), cached, ""},
		{"cache when env unset", "", cached, cached},
		{"nothing", "", filepath.Join(dir, "nope"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TESTENV_BIN", tt.env)
			if got := findBinary("TESTENV_BIN", tt.cached, ""); got != tt.want {
				t.Errorf("findBinary = %q, want %q", got, tt.want)
			}
		})
	}
}

func writeExecutable(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestEnvironWithout(t *testing.T) {
	t.Setenv("TESTENV_DROP", "")
	t.Setenv("TESTENV_KEEP", "x")
	env := environWithout("TESTENV_DROP")
	if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TESTENV_DROP=") }) {
		t.Error("TESTENV_DROP still in the environment")
	}
	if !slices.Contains(env, "TESTENV_KEEP=x") {
		t.Error("TESTENV_KEEP was dropped")
	}
}

func TestMissingServerBinaryIsReportedUnavailable(t *testing.T) {
	tests := []struct {
		name, env string
		start     func(testing.TB) bool
	}{
		{"MinIO", "MXTEST_MINIO", func(tb testing.TB) bool { return MinIO(tb) != nil }},
		{"Azurite", "MXTEST_AZURITE", func(tb testing.TB) bool { return Azurite(tb) != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, filepath.Join(t.TempDir(), "missing"))
			t.Setenv(RequireServersEnv, "")
			rec := &recordingTB{TB: t}
			if tt.start(rec) {
				t.Fatal("a server started from a missing binary")
			}
			if !strings.Contains(rec.skip, tt.name) || rec.fatal != "" {
				t.Fatalf("skip=%q fatal=%q, want a skip naming %s", rec.skip, rec.fatal, tt.name)
			}
		})
	}
}

// Under -short every starter skips before it looks for, or runs, anything.
func TestStartersSkipUnderShort(t *testing.T) {
	if !testing.Short() {
		t.Skip("checks the -short tier; run with -short")
	}
	t.Setenv(RequireServersEnv, "1")
	t.Setenv(SQLServerDSNEnv, "sqlserver://sa:x@127.0.0.1:1?database=master")
	starters := map[string]func(testing.TB){
		"PostgreSQL": func(tb testing.TB) { Postgres(tb) },
		"MinIO":      func(tb testing.TB) { MinIO(tb) },
		"Azurite":    func(tb testing.TB) { Azurite(tb) },
		"SQL Server": func(tb testing.TB) { SQLServer(tb) },
	}
	for name, start := range starters {
		t.Run(name, func(t *testing.T) {
			var skip string
			done := make(chan struct{})
			// Skipf ends the goroutine it runs in, as in a real test.
			go func() {
				defer close(done)
				start(&exitingTB{recordingTB: recordingTB{TB: t}, skip: &skip})
			}()
			<-done
			if !strings.Contains(skip, "-short") || !strings.Contains(skip, name) {
				t.Fatalf("skip = %q, want a -short skip naming %s", skip, name)
			}
		})
	}
}

// exitingTB ends its goroutine on Skipf and Fatalf, like testing.T, so a
// starter does not go on after it.
type exitingTB struct {
	recordingTB
	skip *string
}

func (e *exitingTB) Skipf(format string, a ...any) {
	*e.skip = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

func (e *exitingTB) Fatalf(format string, a ...any) {
	*e.skip = "fatal: " + fmt.Sprintf(format, a...)
	runtime.Goexit()
}
