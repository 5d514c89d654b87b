//go:build unix

package pgdump

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCountAllRowsFile counts a dump file in one pass (CountAllRows)
// and with CountAllRowsAt, as the pipeline checks a spooled dump. It reads
// the archive named by MXTEST_BENCH_DUMP (e.g. a bench backup's
// db/db.backup), or else a written one.
func BenchmarkCountAllRowsFile(b *testing.B) {
	path := os.Getenv("MXTEST_BENCH_DUMP")
	if path == "" {
		path = filepath.Join(b.TempDir(), "db.backup")
		raw := (&testArchive{minor: 14, compression: CompressionGzip, entries: manyTables(60)}).bytes(b)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// The machine may be shared: CPU time per count (user+sys) is
	// reported beside the wall time.
	run := func(b *testing.B, count func() error) {
		b.SetBytes(f.size)
		before := cpuTime(b)
		for b.Loop() {
			if err := count(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime(b)-before)/float64(b.N), "cpu-ns/op")
	}
	b.Run("one pass", func(b *testing.B) {
		run(b, func() error { _, err := f.CountAllRows(context.Background(), f.Data()); return err })
	})
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("at/%d workers", workers), func(b *testing.B) {
			run(b, func() error { _, err := f.CountAllRowsAt(context.Background(), f.Data(), f.f, workers); return err })
		})
	}
}

// cpuTime is the user and system time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Skipf("no CPU time on this platform: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
