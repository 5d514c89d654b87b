//go:build unix

package postgres

import (
	"os"
	"syscall"
)

// terminateGroup asks the child's process group to stop: pg_restore and
// its workers cancel their running queries on SIGTERM.
func terminateGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGTERM) }

// killGroup ends the child's process group at once.
func killGroup(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }
