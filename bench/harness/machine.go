package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the figures were taken; without it they mean
// little.
type Machine struct {
	CPUModel        string `json:"cpuModel"`
	CPUs            int    `json:"cpus"`
	MemoryGiB       string `json:"memoryGiB"`
	Kernel          string `json:"kernel"`
	Disk            string `json:"disk"`
	LoadAtStart     string `json:"loadAtStart"`
	LoadAtEnd       string `json:"loadAtEnd"`
	Go              string `json:"go"`
	PostgreSQL      string `json:"postgresql"`
	PgRestore       string `json:"pgRestore"`
	MinIO           string `json:"minio"`
	Rclone          string `json:"rclone"`
	Pgloader        string `json:"pgloader"`
	MxmigrateCommit string `json:"mxmigrateCommit"`
}

func (m Machine) rows() [][2]string {
	return [][2]string{
		{"CPU", fmt.Sprintf("%s, %d cores", m.CPUModel, m.CPUs)},
		{"memory", m.MemoryGiB + " GiB"},
		{"kernel", m.Kernel},
		{"disk (bench/data)", m.Disk},
		{"load average at start / end", m.LoadAtStart + " / " + m.LoadAtEnd},
		{"Go", m.Go},
		{"PostgreSQL", m.PostgreSQL},
		{"pg_restore", m.PgRestore},
		{"MinIO", m.MinIO},
		{"rclone", m.Rclone},
		{"pgloader", m.Pgloader},
		{"mxmigrate", m.MxmigrateCommit},
	}
}

// describeMachine gathers what can be read without privileges.
func describeMachine(root, dataDir string, t *toolset, minioVersion string) Machine {
	m := Machine{
		CPUModel:   procField("/proc/cpuinfo", "model name"),
		CPUs:       runtime.NumCPU(),
		Kernel:     firstLine(readFile("/proc/sys/kernel/osrelease")),
		Disk:       describeDisk(dataDir),
		Go:         versionOf("go", "version"),
		PostgreSQL: versionOf(filepath.Join(t.pgBin, "postgres"), "--version"),
		PgRestore:  versionOf(filepath.Join(t.pgBin, "pg_restore"), "--version"),
		MinIO:      minioVersion,
		Rclone:     versionOf(t.rclone, "version"),
		Pgloader:   versionOf(t.pgloader, "--version"),
	}
	var kib int64
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%d", &kib)
	m.MemoryGiB = fmt.Sprintf("%.1f", float64(kib)/(1<<20))
	m.MxmigrateCommit = gitDescribe(root)
	return m
}

// procField reads "name : value" from a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

func loadAverage() string {
	fields := strings.Fields(readFile("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// describeDisk names the filesystem under dir, its size, and whether the
// device is rotational.
func describeDisk(dir string) string {
	out, err := exec.Command("df", "-PT", "-h", dir).Output()
	if err != nil {
		return "unknown"
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 7 {
		return "unknown"
	}
	desc := fmt.Sprintf("%s (%s), %s, %s free", f[0], f[1], f[2], f[4])
	dev := filepath.Base(f[0])
	if rot := strings.TrimSpace(readFile("/sys/block/" + dev + "/queue/rotational")); rot != "" {
		desc += map[string]string{"0": ", the kernel reports it non-rotational", "1": ", the kernel reports it rotational"}[rot]
	}
	return desc
}

// gitDescribe says which tree was measured, read-only: the commit and
// whether the working tree had changes other than the bench's own results,
// which an earlier run rewrites (--no-optional-locks: status must not even
// refresh the index of a tree others are working in).
func gitDescribe(root string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	commit, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	desc := "commit " + strings.TrimSpace(string(commit))
	if status, err := exec.CommandContext(ctx, "git", "--no-optional-locks", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results").Output(); err == nil && len(strings.TrimSpace(string(status))) > 0 {
		desc += " with uncommitted changes"
	}
	return desc
}
