package postgres

import (
	"os"
	"syscall"
)

// childProcAttr gives the child a process group of its own, so that a
// Ctrl-C in our console reaches us (we cancel it) rather than the child.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// terminateGroup ends the child. Windows has no SIGTERM to send to another
// process, and pg_restore's parallel workers are threads of its own
// process there, so ending the process ends them all; the server cancels
// their queries when the connections drop.
func terminateGroup(p *os.Process) error { return p.Kill() }

// killGroup ends the child at once.
func killGroup(p *os.Process) error { return p.Kill() }
