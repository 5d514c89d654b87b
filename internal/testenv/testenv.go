// Package testenv starts real servers (MinIO, Azurite, PostgreSQL) on the
// loopback interface for integration tests, and skips or fails those tests
// cleanly when a server is not installed.
//
// Nothing here listens on anything but 127.0.0.1, and every server is
// stopped in t.Cleanup.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireServersEnv names the variable that turns a missing server from a
// skip into a failure: 1 requires every server, else it is a
// comma-separated list of the servers required ("postgresql,minio,azurite",
// "sqlserver"). `make test` requires the servers it installs itself, and
// SQL Server too when it has one (the stand-in or MSSQL_TEST_DSN), so that a
// broken install cannot pass silently.
const RequireServersEnv = "MXTEST_REQUIRE_SERVERS"

// SkipIfShort skips the test under `go test -short`, the tier that starts
// no server and spawns no process; what names what the test would need.
func SkipIfShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not starting %s (the short tier runs no servers and spawns no processes)", what)
	}
}

// required reports whether MXTEST_REQUIRE_SERVERS requires the server
// what ("SQL Server" matches "sqlserver": case and spaces do not count).
func required(what string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "")) }
	list := os.Getenv(RequireServersEnv)
	if list == "1" {
		return true
	}
	for _, name := range strings.Split(list, ",") {
		if n := norm(name); n != "" && n == norm(what) {
			return true
		}
	}
	return false
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; servers started
// from here retry on a new port when that happens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CacheDir is where test dependencies are installed by `make test-deps`:
// $MXTEST_CACHE, else $HOME/.cache/mxmigrate.
func CacheDir() string {
	if dir := os.Getenv("MXTEST_CACHE"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "mxmigrate-cache")
	}
	return filepath.Join(home, ".cache", "mxmigrate")
}

// Unavailable reports that the server what cannot be started. It fails the
// test when MXTEST_REQUIRE_SERVERS requires what and skips it otherwise.
// hint says how to install the server; it defaults to `make test-deps`.
func Unavailable(t testing.TB, what, hint string) {
	t.Helper()
	if hint == "" {
		hint = "run `make test-deps`"
	}
	msg := fmt.Sprintf("%s is not available: %s", what, hint)
	if required(what) {
		t.Fatalf("%s (%s=%s requires it)", msg, RequireServersEnv, os.Getenv(RequireServersEnv))
		return
	}
	t.Skipf("%s (set %s=1 to fail instead of skip)", msg, RequireServersEnv)
}

// WaitTimeout bounds WaitFor when ctx has no earlier deadline.
const WaitTimeout = 60 * time.Second

// WaitFor calls check until it returns nil, ctx ends, or WaitTimeout has
// passed, sleeping a little longer between attempts each time. The error
// names what and carries the last failure of check.
func WaitFor(ctx context.Context, what string, check func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	delay := 20 * time.Millisecond
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s not ready: %w", what, errors.Join(ctx.Err(), err))
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// findBinary returns the first usable path: the file named by env, then
// cached, then name on PATH. It returns "" when none exists.
func findBinary(env, cached, name string) string {
	if p := os.Getenv(env); p != "" {
		if isExecutable(p) {
			return p
		}
		return ""
	}
	if isExecutable(cached) {
		return cached
	}
	if name == "" {
		return ""
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// serverProcess is a child server whose output is kept so that a failed
// start can say why.
type serverProcess struct {
	what   string
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // the exit status, valid once exited is closed
}

// startProcess starts cmd and registers a t.Cleanup that kills it and waits
// for it, so no server outlives its test. cmd's stdout and stderr must be
// unset; they are captured for Output.
func startProcess(t testing.TB, what string, cmd *exec.Cmd) (*serverProcess, error) {
	t.Helper()
	SkipIfShort(t, what)
	p := &serverProcess{what: what, cmd: cmd, output: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	// Wait must not block on output pipes held open by grandchildren.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w", what, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p, nil
}

// stop kills the process and waits for it. Safe to call more than once.
func (p *serverProcess) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// alive returns an error describing the exit when the process has ended;
// readiness checks call it so that a crashed server fails fast.
func (p *serverProcess) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); output:\n%s", p.what, p.err, p.output.String())
	default:
		return nil
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a child's
// stdout and stderr, capped so a chatty server cannot fill memory.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxProcessOutput = 64 << 10

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxProcessOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// randomToken returns n random bytes as hex, for throwaway credentials.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("testenv: random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// environWithout returns os.Environ() minus the named variables.
func environWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			env = append(env, kv)
		}
	}
	return env
}
