package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/samplegen"
)

// sizePreset is what one SIZE means to samplegen.
type sizePreset struct {
	Name string `json:"name"`
	// Orders scales the fixed Mendix tables (users, customers, orders).
	Orders int `json:"orders"`
	// Tables generated module tables; the first has LargestRows rows and
	// each next one half as many.
	Tables      int   `json:"tables"`
	LargestRows int64 `json:"largestRows"`
	// Blobs of log-normal size around BlobMedian bytes, at most BlobMax.
	Blobs      int    `json:"blobs"`
	BlobMedian int64  `json:"blobMedian"`
	BlobMax    int64  `json:"blobMax"`
	GzipLevel  int    `json:"gzipLevel"`
	Seed       uint64 `json:"seed"`
	// Shrink divides the rows from one generated table to the next
	// (0 means 2, halving).
	Shrink int64 `json:"shrink,omitempty"`
	// DBSpeedup is how much faster than a bare pg_restore -j 2 `mxmigrate
	// db` must be on this backup (0: no claim).
	DBSpeedup float64 `json:"dbSpeedup,omitempty"`
}

// presets: "small" to check the harness in seconds, "1g" for the figures.
// 1g: a generated row takes ~147 bytes in PostgreSQL (heap and TOAST, no
// indexes; measured on "small"), and the 30 halving tables hold twice the
// largest one's rows, so 2 x 3.4M rows are ~1 GB of table data. samplegen
// draws blob sizes as exp(N(ln median, 1)), of mean median*e^0.5, and
// leaves 2% empty: 20,000 blobs of median 31 kB are ~1 GB.
var presets = map[string]sizePreset{
	"small": {Name: "small", Orders: 2000, Tables: 8, LargestRows: 20000, Blobs: 400, BlobMedian: 4096, BlobMax: 1 << 20, GzipLevel: 1, Seed: 1},
	"1g":    {Name: "1g", Orders: 20000, Tables: 30, LargestRows: 3_400_000, Blobs: 20000, BlobMedian: 31_000, BlobMax: 32 << 20, GzipLevel: 1, Seed: 1, DBSpeedup: 1.25},
	// skew80: ~1 GB of table data whose largest table holds ~80% of the
	// rows (each next table a fifth of the one before), the shape of an
	// app with one big audit or log table; few blobs, since it is about
	// the database.
	"skew80": {Name: "skew80", Orders: 20000, Tables: 12, LargestRows: 5_400_000, Shrink: 5, Blobs: 500, BlobMedian: 31_000, BlobMax: 32 << 20, GzipLevel: 1, Seed: 1, DBSpeedup: 1.5},
}

func presetNamed(name string) (sizePreset, error) {
	p, ok := presets[name]
	if !ok {
		names := make([]string, 0, len(presets))
		for n := range presets {
			names = append(names, n)
		}
		sort.Strings(names)
		return p, fmt.Errorf("unknown SIZE %q (have %v)", name, names)
	}
	return p, nil
}

// fileName keys the cached backup by every parameter, so that a changed
// preset never reuses a stale backup.
func (p sizePreset) fileName() string {
	shrink := ""
	if p.Shrink != 0 && p.Shrink != 2 {
		shrink = fmt.Sprintf("-k%d", p.Shrink)
	}
	return fmt.Sprintf("mendix-%s-o%d-t%d-r%d-b%d-m%d-x%d-z%d-s%d%s.tar.gz",
		p.Name, p.Orders, p.Tables, p.LargestRows, p.Blobs, p.BlobMedian, p.BlobMax, p.GzipLevel, p.Seed, shrink)
}

// datasetFacts describes a generated backup; it is stored beside it so
// that later runs need not read the archive to know what is in it.
type datasetFacts struct {
	File             string     `json:"file"`
	Preset           sizePreset `json:"preset"`
	ArchiveBytes     int64      `json:"archiveBytes"`
	DumpBytes        int64      `json:"dumpBytes"`
	Tables           int        `json:"tables"`
	Rows             int64      `json:"rows"`
	LargestTableRows int64      `json:"largestTableRows"`
	Blobs            int        `json:"blobs"`
	BlobBytes        int64      `json:"blobBytes"`
	BlobMinBytes     int64      `json:"blobMinBytes"`
	BlobMedianBytes  int64      `json:"blobMedianBytes"`
	BlobMaxBytes     int64      `json:"blobMaxBytes"`
	GeneratedIn      string     `json:"generatedIn"`
	// Measured on a restored copy at benchmark time, not at generation.
	TableDataBytes int64 `json:"tableDataBytes,omitempty"`
	IndexBytes     int64 `json:"indexBytes,omitempty"`
}

// ensureDataset returns the cached backup for p under dataDir, generating
// it with the real pg_dump (through samplegen) when it is missing.
func ensureDataset(ctx context.Context, log *slog.Logger, dataDir string, p sizePreset) (string, datasetFacts, error) {
	path := filepath.Join(dataDir, p.fileName())
	factsPath := path + ".json"
	if facts, err := readFacts(factsPath); err == nil {
		if _, err := os.Stat(path); err == nil {
			log.Info("using cached benchmark backup", "file", path)
			return path, facts, nil
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", datasetFacts{}, err
	}
	log.Info("generating benchmark backup with samplegen (minutes for 1g)", "file", path, "preset", p)
	started := time.Now()
	res, err := samplegen.Generate(ctx, samplegen.Options{
		Out: path, Rows: p.Orders, BenchTables: p.Tables, BenchRows: p.LargestRows, BenchShrink: p.Shrink,
		Blobs: p.Blobs, BlobMedian: p.BlobMedian, BlobMax: p.BlobMax,
		GzipLevel: p.GzipLevel, Seed: p.Seed, Log: log,
	})
	if err != nil {
		return "", datasetFacts{}, fmt.Errorf("generate %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", datasetFacts{}, err
	}
	facts := factsOf(res, p)
	facts.File = filepath.Base(path)
	facts.ArchiveBytes = info.Size()
	facts.GeneratedIn = time.Since(started).Round(time.Second).String()
	data, _ := json.MarshalIndent(facts, "", "  ")
	if err := os.WriteFile(factsPath, append(data, '\n'), 0o644); err != nil {
		return "", datasetFacts{}, err
	}
	log.Info("generated benchmark backup", "file", path, "bytes", facts.ArchiveBytes, "in", facts.GeneratedIn)
	return path, facts, nil
}

func readFacts(path string) (datasetFacts, error) {
	var f datasetFacts
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(data, &f)
}

func factsOf(res *samplegen.Result, p sizePreset) datasetFacts {
	f := datasetFacts{Preset: p, DumpBytes: res.DumpSize, Tables: len(res.Rows), Blobs: len(res.Blobs)}
	for _, n := range res.Rows {
		f.Rows += n
		f.LargestTableRows = max(f.LargestTableRows, n)
	}
	sizes := make([]int64, 0, len(res.Blobs))
	for _, b := range res.Blobs {
		f.BlobBytes += b.Size
		sizes = append(sizes, b.Size)
	}
	if len(sizes) > 0 {
		slices.Sort(sizes)
		f.BlobMinBytes, f.BlobMedianBytes, f.BlobMaxBytes = sizes[0], sizes[len(sizes)/2], sizes[len(sizes)-1]
	}
	return f
}
