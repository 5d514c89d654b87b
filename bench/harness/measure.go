package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Measurement is what GNU time -v reports about one command and the
// children it waited for.
type Measurement struct {
	WallSeconds float64 `json:"wallSeconds"`
	UserSeconds float64 `json:"userSeconds"`
	SysSeconds  float64 `json:"sysSeconds"`
	// MaxRSSKiB is the largest resident set of any single process in the
	// tree (the kernel's ru_maxrss), not the sum over processes.
	MaxRSSKiB  int64 `json:"maxRssKiB"`
	ExitStatus int   `json:"exitStatus"`
	// ServerCPUSeconds is the CPU the local servers (PostgreSQL with every
	// process it runs, MinIO, a SQL Server whose process is known) spent
	// while the command ran: the other half of the work, which a client
	// can shift or save. Zero where it cannot be read (not Linux).
	ServerCPUSeconds float64 `json:"serverCpuSeconds,omitempty"`
}

// CPUSeconds is user plus system time.
func (m Measurement) CPUSeconds() float64 { return m.UserSeconds + m.SysSeconds }

// MaxRSSMiB is the peak resident set in MiB.
func (m Measurement) MaxRSSMiB() float64 { return float64(m.MaxRSSKiB) / 1024 }

// parseTimeV reads the report `/usr/bin/time -v -o FILE` writes.
func parseTimeV(report string) (Measurement, error) {
	var m Measurement
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(report))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// A killed command still gets "Exit status: 0": keep the signal.
		if sig, ok := strings.CutPrefix(line, "Command terminated by signal "); ok {
			n, err := strconv.Atoi(sig)
			if err != nil {
				return m, fmt.Errorf("time -v: %q: %w", line, err)
			}
			m.ExitStatus = 128 + n
			seen["signal"] = true
			continue
		}
		// The label itself may hold colons: "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.03".
		i := strings.LastIndex(line, ": ")
		if i < 0 {
			continue
		}
		label, value := line[:i], strings.TrimSpace(line[i+2:])
		var err error
		switch {
		case label == "User time (seconds)":
			m.UserSeconds, err = strconv.ParseFloat(value, 64)
		case label == "System time (seconds)":
			m.SysSeconds, err = strconv.ParseFloat(value, 64)
		case strings.HasPrefix(label, "Elapsed (wall clock) time"):
			m.WallSeconds, err = parseClock(value)
		case label == "Maximum resident set size (kbytes)":
			m.MaxRSSKiB, err = strconv.ParseInt(value, 10, 64)
		case label == "Exit status" && !seen["signal"]:
			m.ExitStatus, err = strconv.Atoi(value)
		default:
			continue
		}
		if err != nil {
			return m, fmt.Errorf("time -v: %s: %w", label, err)
		}
		seen[label] = true
	}
	if !seen["User time (seconds)"] || !seen["Maximum resident set size (kbytes)"] {
		return m, fmt.Errorf("time -v: not a GNU time report: %q", firstLine(report))
	}
	return m, nil
}

// parseClock reads GNU time's elapsed time: "m:ss.cc" or "h:mm:ss".
func parseClock(s string) (float64, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("elapsed time %q: want m:ss or h:mm:ss", s)
	}
	var total float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0, fmt.Errorf("elapsed time %q: %w", s, err)
		}
		total = total*60 + v
	}
	return total, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
