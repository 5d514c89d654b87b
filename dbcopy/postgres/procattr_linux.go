package postgres

import "syscall"

// childProcAttr puts the child in a process group of its own and has the
// kernel kill it when the thread that started it dies.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
