//go:build unix && !linux

package postgres

import "syscall"

// childProcAttr puts the child in a process group of its own. Only Linux
// can tie the child's life to ours (Pdeathsig); elsewhere a child that
// outlives a killed run is ended by the next run (endOrphanRestores).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
