package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"
)

// killGrace is how long pg_restore gets after SIGTERM (which makes it
// cancel its running queries) before its process group is killed. The
// per-platform parts (process group, signals) are in process_*.go.
const killGrace = 5 * time.Second

// maxErrorLines bounds what an error quotes from pg_restore's stderr.
const maxErrorLines = 12

// runChild runs a PostgreSQL client tool, calling onLine for each line it
// writes to stderr, and returns an error that quotes its error lines.
//
// The child runs in its own process group so that cancelling ctx stops it
// and every worker it forked (pg_restore -j forks on Unix; on Windows its
// workers are threads). On Linux it also gets SIGKILL when our thread that
// started it dies, so a killed mxmigrate does not leave pg_restore running;
// workers that outlive it are ended by the next run (see endOrphanRestores).
func runChild(ctx context.Context, path string, args []string, conn childConn, onLine func(string)) error {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = conn.env()
	cmd.SysProcAttr = childProcAttr()
	var killer *time.Timer
	cmd.Cancel = func() error {
		proc := cmd.Process
		killer = time.AfterFunc(killGrace, func() { _ = killGroup(proc) })
		return terminateGroup(proc)
	}
	cmd.WaitDelay = 2 * killGrace
	out := &stderrLines{redact: conn.redact, onLine: onLine}
	cmd.Stderr = out

	// Pdeathsig fires when the thread that forked the child exits: keep this
	// goroutine on one thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	err := cmd.Wait()
	if killer != nil {
		killer.Stop()
	}
	if ctx.Err() != nil {
		// Make sure no worker of the group survives the cancellation.
		_ = killGroup(cmd.Process)
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, out.errorText())
	}
	return nil
}

// stderrLines splits a child's stderr into lines and keeps those that
// explain a failure.
type stderrLines struct {
	redact func(string) string
	onLine func(string)

	mu      sync.Mutex
	partial []byte
	errors  []string
	last    []string
}

func (s *stderrLines) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *stderrLines) line(line string) {
	line = s.redact(strings.TrimRight(line, "\r"))
	if s.onLine != nil {
		s.onLine(line)
	}
	if isErrorLine(line) && len(s.errors) < maxErrorLines {
		s.errors = append(s.errors, line)
	}
	s.last = append(s.last, line)
	if len(s.last) > 5 {
		s.last = s.last[1:]
	}
}

// isErrorLine picks pg_restore's explanation of a failure out of its
// verbose chatter.
func isErrorLine(line string) bool {
	for _, marker := range []string{"error:", "fatal:", "FATAL:", "ERROR:", "DETAIL:", "HINT:", "Command was:", "from TOC entry", "warning:"} {
		if strings.Contains(line, marker) {
			return true
		}
	}
	return false
}

// errorText is what the error quotes: the error lines, else the last lines.
func (s *stderrLines) errorText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.partial) > 0 {
		s.line(string(s.partial))
		s.partial = nil
	}
	lines := s.errors
	if len(lines) == 0 {
		lines = s.last
	}
	if len(lines) == 0 {
		return "no output"
	}
	return strings.Join(lines, " | ")
}
