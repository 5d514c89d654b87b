package main

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// serverCPU is the CPU seconds the local servers have used so far: the
// PostgreSQL postmaster, MinIO, and the process listening on the SQL Server
// DSN's loopback port when there is one, each with the children it runs
// (live ones directly, exited ones through the parent's cutime/cstime,
// which the kernel adds when the parent reaps them). Differences of two
// readings are the servers' share of a command. 0 where /proc is missing.
func (b *bench) serverCPU() float64 {
	var pids []int
	if b.pg != nil {
		pids, _ = b.serverPIDs()
		pids = pids[:min(len(pids), 1)] // the postmaster; its children below
	}
	if b.minio != nil && b.minio.cmd != nil && b.minio.cmd.Process != nil {
		pids = append(pids, b.minio.cmd.Process.Pid)
	}
	if pid := listenerPID(sqlServerDSN()); pid > 0 {
		pids = append(pids, pid)
	}
	var ticks int64
	for _, pid := range pids {
		ticks += treeTicks(pid, 3)
	}
	return float64(ticks) / clockTicks
}

// treeTicks is pid's own CPU, its reaped children's, and (depth levels
// down) its live children's.
func treeTicks(pid, depth int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name in parentheses may hold spaces: fields start after it.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	// utime, stime, cutime, cstime are fields 14-17 of stat; 3 is state.
	for _, f := range fields[11:min(len(fields), 15)] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	if depth == 0 {
		return ticks
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		children, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(children)) {
			if child, err := strconv.Atoi(f); err == nil {
				ticks += treeTicks(child, depth-1)
			}
		}
	}
	return ticks
}

// listenerPID finds the process that listens on a loopback DSN's TCP port
// (through /proc/net/tcp and the processes' socket descriptors), or 0.
func listenerPID(dsn string) int {
	u, err := url.Parse(dsn)
	if dsn == "" || err != nil {
		return 0
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "1433"
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	want, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st ... inode: state 0A is LISTEN.
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && p == want {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid
		}
	}
	return 0
}
