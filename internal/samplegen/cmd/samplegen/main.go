// Command samplegen writes a Mendix-shaped full-snapshot backup made with
// the real pg_dump. `make sample` regenerates testdata/sample.tar.gz with
// it; `make bench-data` builds the large benchmark backups.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/mxmigrate/mxmigrate/internal/samplegen"
)

func main() {
	var opts samplegen.Options
	flag.StringVar(&opts.Out, "out", "testdata/sample.tar.gz", "backup to write")
	flag.IntVar(&opts.Rows, "rows", 200, "orders in the fixed Mendix tables")
	flag.IntVar(&opts.BenchTables, "bench-tables", 0, "generated module tables")
	flag.Int64Var(&opts.BenchRows, "bench-rows", 0, "rows of the largest generated table (each next one has half)")
	flag.IntVar(&opts.Blobs, "blobs", 24, "file documents with contents")
	flag.Int64Var(&opts.BlobMedian, "blob-median", 2048, "median blob size in bytes")
	flag.Int64Var(&opts.BlobMax, "blob-max", 16384, "largest blob size in bytes")
	flag.IntVar(&opts.MissingBlobs, "missing-blobs", 0, "file documents whose blob the backup lacks")
	flag.StringVar(&opts.ModelVersion, "model-version", "1.0.0.40", "app model version")
	flag.IntVar(&opts.GzipLevel, "gzip-level", 0, "gzip level (0: default, 1: fastest)")
	flag.Uint64Var(&opts.Seed, "seed", 1, "random seed")
	flag.Parse()
	opts.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := samplegen.Generate(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "samplegen:", err)
		os.Exit(1)
	}
	var bytes int64
	for _, b := range res.Blobs {
		bytes += b.Size
	}
	fmt.Printf("wrote %s: dump %d bytes, %d tables, %d blobs (%d bytes)\n", opts.Out, res.DumpSize, len(res.Rows), len(res.Blobs), bytes)
}
