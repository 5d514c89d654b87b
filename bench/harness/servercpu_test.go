package main

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
)

func TestListenerPIDFindsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cases := []struct {
		dsn  string
		want int
	}{
		{"sqlserver://sa:x@127.0.0.1:" + strconv.Itoa(port) + "?database=master", os.Getpid()},
		{"sqlserver://sa:x@192.0.2.1:" + strconv.Itoa(port), 0}, // not loopback
		{"", 0},
	}
	for _, c := range cases {
		if got := listenerPID(c.dsn); got != c.want {
			t.Errorf("listenerPID(%q) = %d, want %d", c.dsn, got, c.want)
		}
	}
}

func TestTreeTicksCountsThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	before := treeTicks(os.Getpid(), 0)
	x := 0
	for i := 0; i < 300_000_000; i++ { // ~0.1-0.3 s of CPU, bounded
		x += i & 3
	}
	if after := treeTicks(os.Getpid(), 0); after <= before || x == 0 {
		t.Errorf("CPU ticks did not grow: %d then %d", before, after)
	}
	if treeTicks(-1, 0) != 0 {
		t.Error("a missing process counts CPU")
	}
}
