package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes CPU and heap profiles when MXTEST_CPUPROFILE or
// MXTEST_MEMPROFILE name a file: the benchmark harness profiles the real
// command this way, with no flag for users to trip over.
func startProfiles() (stop func()) {
	var cpu *os.File
	if path := os.Getenv("MXTEST_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "mxmigrate: cpu profile: %v\n", err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if path := os.Getenv("MXTEST_MEMPROFILE"); path != "" {
			f, err := os.Create(path)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "mxmigrate: memory profile: %v\n", err)
			}
		}
	}
}
