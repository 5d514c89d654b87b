// Command harness benchmarks mxmigrate against the tools people use by
// hand today, on large Mendix-shaped backups made with the real pg_dump.
//
//	go run ./bench/harness data -size 1g        generate (or find) the backup
//	go run ./bench/harness run -size 1g -runs 3  time everything, write bench/results/
//
// `make bench-data` and `make bench` call it; bench/README.md says what is
// measured and how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Args[1:]); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted; servers stopped and scratch files removed: %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, args []string) error {
	if len(args) == 0 || (args[0] != "data" && args[0] != "run") {
		return errors.New("usage: harness data|run [-size small|1g] [-runs N] [-profile 1|db|files|migrate|verify]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	size := fs.String("size", "1g", "backup size preset: small, 1g or skew80")
	runs := fs.Int("runs", 3, "runs of every contender (the figures are medians)")
	profile := fs.String("profile", "", "also profile one mxmigrate phase: 1 (the slowest), db, files, migrate or verify")
	stepTimeout := fs.Duration("step-timeout", 60*time.Minute, "longest any one timed command may take")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *runs < 1 || *runs > 20 {
		return fmt.Errorf("-runs %d: want 1 to 20", *runs)
	}
	preset, err := presetNamed(*size)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dataDir := filepath.Join(root, "bench", "data")
	backup, facts, err := ensureDataset(ctx, log, dataDir, preset)
	// The cached facts may predate claims added to the preset since; the
	// file name pins everything that shaped the backup.
	facts.Preset = preset
	if err != nil || args[0] == "data" {
		if err == nil {
			fmt.Printf("%s: %d tables, %d rows, dump %d bytes, %d blobs (%d bytes), archive %d bytes\n",
				backup, facts.Tables, facts.Rows, facts.DumpBytes, facts.Blobs, facts.BlobBytes, facts.ArchiveBytes)
		}
		return err
	}
	return benchmark(ctx, log, root, backup, facts, *runs, *profile, *stepTimeout)
}

// benchmark sets up the tools and servers, runs every comparison and
// writes the results; everything it starts is stopped before it returns.
func benchmark(ctx context.Context, log *slog.Logger, root, backup string, facts datasetFacts, runs int, profile string, stepTimeout time.Duration) error {
	started := time.Now()
	loadAtStart := loadAverage()
	layouts, layoutNotes, err := layoutsFromEnv()
	if err != nil {
		return err
	}
	tools, err := findTools(ctx, log, root)
	if err != nil {
		return err
	}
	for _, n := range tools.notes {
		log.Info(n)
	}
	log.Info("building mxmigrate", "cmd", "go build -o bin/mxmigrate ./cmd/mxmigrate")
	if err := runQuiet(ctx, root, 10*time.Minute, "go", "build", "-o", "bin/mxmigrate", "./cmd/mxmigrate"); err != nil {
		return err
	}
	stamp := started.UTC().Format("2006-01-02-1504") + "-" + facts.Preset.Name
	b := &bench{root: root, log: log, mx: filepath.Join(root, "bin", "mxmigrate"), backup: backup, dataset: facts,
		tools: tools, stepTimeout: stepTimeout}
	b.scratchDir = filepath.Join(root, "bench", "data", "scratch-"+stamp)
	b.logDir = filepath.Join(root, "bench", "data", "logs", stamp)
	for _, dir := range []string{b.scratchDir, b.logDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	defer os.RemoveAll(b.scratchDir)

	b.pg, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(b.scratchDir, "pg"), BinDir: tools.pgBin, Log: log})
	if err != nil {
		return err
	}
	defer b.pg.Remove(context.WithoutCancel(ctx))
	b.minio, err = startMinIO(ctx, tools.minio, filepath.Join(b.scratchDir, "minio"))
	if err != nil {
		return err
	}
	defer b.minio.stop()
	minioVersion := b.minio.version()

	if err := b.prepareFixtures(ctx); err != nil {
		return err
	}
	specs := b.groups()
	// Every comparison runs in each layout (layout.go), one layout after
	// the other.
	var groups []GroupResult
	for _, l := range layouts {
		if err := b.applyLayout(ctx, l); err != nil {
			return err
		}
		pass, err := b.runGroups(ctx, specs, runs)
		if err != nil {
			return err
		}
		markLayout(pass, l)
		if l.name == layoutPinned {
			wholeVersusParts(pass, l)
		}
		groups = append(groups, pass...)
	}
	notes := append(tools.notes, layoutNotes...)
	notes = append(notes, sqlServerNotes(groups, b.dataset)...)
	results := &Results{Started: started, Size: facts.Preset.Name, Runs: runs, Dataset: b.dataset, Groups: groups, Notes: notes}
	results.Conditions = conditions(b)
	for _, l := range layouts {
		results.Conditions = append(results.Conditions, "The "+l.describe()+".")
	}
	results.Verify = verifyThroughput(groups, b.dataset)
	if name, why := chooseProfile(profile, groups); name != "" {
		results.Profile = b.profile(ctx, specs, name, why, filepath.Join(root, "bench", "results"), stamp)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	results.Machine = describeMachine(root, filepath.Join(root, "bench", "data"), tools, minioVersion)
	results.Machine.LoadAtStart, results.Machine.LoadAtEnd = loadAtStart, loadAverage()
	md, err := writeResults(filepath.Join(root, "bench", "results"), results)
	if err != nil {
		return err
	}
	fmt.Print(renderMarkdown(results))
	log.Info("results written", "markdown", md, "latest", "bench/results/latest.md", "logs", b.logDir, "took", time.Since(started).Round(time.Second))
	return nil
}

// prepareFixtures does the untimed work every run shares: the extracted
// dump for the bare pg_restore, a restored source database for pgloader
// (also measured for the table data size), and one read of the backup so
// that no contender pays for a cold page cache the others do not.
func (b *bench) prepareFixtures(ctx context.Context) error {
	b.log.Info("preparing fixtures (untimed): extracted dump, source database, warm page cache")
	dumpDir := filepath.Join(b.scratchDir, "dump")
	if err := os.MkdirAll(dumpDir, 0o755); err != nil {
		return err
	}
	if err := runQuiet(ctx, "", b.stepTimeout, b.tools.tar, "-xzf", b.backup, "-C", dumpDir, "db/db.backup"); err != nil {
		return err
	}
	b.extractedDump = filepath.Join(dumpDir, "db", "db.backup")
	b.sourceDB = "bench_source"
	if err := b.pg.CreateDatabase(ctx, b.sourceDB); err != nil {
		return err
	}
	restore := b.restoreStep(b.sourceDB, b.extractedDump)
	if err := runQuiet(ctx, "", b.stepTimeout, restore.argv[0], restore.argv[1:]...); err != nil {
		return fmt.Errorf("restore the source database: %w", err)
	}
	if err := b.rowsCheck(b.sourceDB)(ctx); err != nil {
		return fmt.Errorf("the source database does not match the dataset's facts: %w", err)
	}
	tables, indexes, err := relationSizes(ctx, b.pg, b.sourceDB)
	if err != nil {
		return err
	}
	b.dataset.TableDataBytes, b.dataset.IndexBytes = tables, indexes
	return readThrough(b.backup)
}

func readThrough(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// verifyThroughput turns verify's median wall time into rows/s and MB/s.
func verifyThroughput(groups []GroupResult, d datasetFacts) *Throughput {
	for _, g := range groups {
		if g.Name != "verify" || len(g.Contenders) == 0 || g.Contenders[0].Median.OKRuns == 0 {
			continue
		}
		wall := g.Contenders[0].Median.WallSeconds
		return &Throughput{
			Rows: d.Rows, TableDataBytes: d.TableDataBytes, ArchiveBytes: d.ArchiveBytes, WallSeconds: wall,
			RowsPerSecond: float64(d.Rows) / wall, TableMBPerSecond: float64(d.TableDataBytes) / 1e6 / wall,
			ArchiveMBPerSecond: float64(d.ArchiveBytes) / 1e6 / wall,
		}
	}
	return nil
}

// conditions say what the figures do not show.
func conditions(b *bench) []string {
	return []string{
		fmt.Sprintf("Warm page cache: the backup (%s) was read once before the timed runs and the extracted dump was restored once, so with this much RAM every contender reads its input from memory. The page cache was not dropped between runs: that needs privileges and would disturb the others using this machine. Before each timed run the server takes a CHECKPOINT and the kernel writes out dirty pages (sync), untimed, so no contender pays for the write-back of the one before it.", mb(b.dataset.ArchiveBytes)),
		"Shared machine: other jobs may have run at the same time (load averages in the machine table); the per-run pairs and alternating order are there to even that out, not to remove it.",
		"PostgreSQL: one throwaway cluster (internal/pgserver) on 127.0.0.1 with fsync, synchronous_commit and full_page_writes off; every run of every contender gets a fresh empty database.",
		"MinIO: one server on 127.0.0.1 with a single drive on the same disk; every run gets a fresh bucket. Both uploaders use 16 transfers.",
		"CPU and peak RSS cover the timed processes and the children they wait for (pg_restore's workers, tar, rclone), not the PostgreSQL and MinIO servers. Peak RSS is the largest single process (ru_maxrss from GNU time), not a sum; for `mxmigrate db` that includes the pg_restore it runs.",
		"`mxmigrate db` and `migrate` include their verification (row counts against the dump, sequences, indexes, constraints; every file document against the store). The manual baselines verify nothing; the harness only counts rows and objects afterwards, untimed.",
		"The manual flattening is the batched one-liner (`find … -exec mv -t flat {} +`), not one mv per file. Each manual step is timed on its own and the steps are added up; an operator's typing time is not counted.",
		"tar extracts only what its comparison needs (db/db.backup, or tree/), but always decompresses the whole archive.",
		"pgloader copies from a live source database (restored once, untimed), not from the dump, with its default settings.",
		"Untimed: creating and dropping databases and buckets, and the row and object counts that confirm each run did the whole job.",
	}
}

// moduleRoot finds the folder of mxmigrate's go.mod above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/mxmigrate/mxmigrate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the mxmigrate module (no go.mod of github.com/mxmigrate/mxmigrate above the working directory)")
		}
		dir = parent
	}
}
