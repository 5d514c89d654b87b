package main

import (
	"strings"
	"testing"
)

// A report as GNU time 1.9 writes it with -v -o FILE.
const timeReport = `	Command being timed: "pg_restore -j 2 -d postgres://x: y db.backup"
	User time (seconds): 12.34
	System time (seconds): 1.66
	Percent of CPU this job got: 45%
	Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50
	Average shared text size (kbytes): 0
	Maximum resident set size (kbytes): 153600
	Average resident set size (kbytes): 0
	Page size (bytes): 4096
	Exit status: 0
`

func TestParseTimeV(t *testing.T) {
	m, err := parseTimeV(timeReport)
	if err != nil {
		t.Fatal(err)
	}
	want := Measurement{WallSeconds: 62.5, UserSeconds: 12.34, SysSeconds: 1.66, MaxRSSKiB: 153600}
	if m != want {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	if m.CPUSeconds() != 14 || m.MaxRSSMiB() != 150 {
		t.Fatalf("CPU %v s, RSS %v MiB", m.CPUSeconds(), m.MaxRSSMiB())
	}
}

func TestParseTimeVFailures(t *testing.T) {
	exited := "Command exited with non-zero status 3\n" + strings.Replace(timeReport, "Exit status: 0", "Exit status: 3", 1)
	if m, err := parseTimeV(exited); err != nil || m.ExitStatus != 3 {
		t.Fatalf("non-zero exit: %+v, %v", m, err)
	}
	// A killed command still reports "Exit status: 0".
	killed := "Command terminated by signal 9\n" + timeReport
	if m, err := parseTimeV(killed); err != nil || m.ExitStatus != 128+9 {
		t.Fatalf("killed: %+v, %v", m, err)
	}
	if _, err := parseTimeV("real 0.01\nuser 0.00\n"); err == nil {
		t.Fatal("a POSIX time -p report parsed as GNU time -v")
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]float64{"0:00.01": 0.01, "2:03.50": 123.5, "1:02:03": 3723} {
		if got, err := parseClock(in); err != nil || got != want {
			t.Errorf("parseClock(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"12", "a:b", "1:2:3:4"} {
		if _, err := parseClock(bad); err == nil {
			t.Errorf("parseClock(%q) accepted", bad)
		}
	}
}
