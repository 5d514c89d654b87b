// Package samplegen builds Mendix-shaped full-snapshot backups with the real
// pg_dump: the small sample committed under testdata/, the fixtures of the
// end-to-end tests, and the large backups of the benchmarks.
package samplegen

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/gzip"

	"github.com/mxmigrate/mxmigrate/internal/pgserver"
)

var sampleCounter atomic.Int64

// Options say what to generate. The zero value of each size field means
// none of it.
type Options struct {
	// Out is the .tar.gz to write.
	Out string
	// Cluster is the PostgreSQL to build the source database in; when nil a
	// throwaway cluster is started under a temporary folder.
	Cluster *pgserver.Cluster
	// Rows is the number of orders (and, scaled from it, users, customers
	// and association rows) in the fixed Mendix-shaped tables.
	Rows int
	// BenchTables adds that many generated module tables; the first has
	// BenchRows rows and each next one half as many as the one before.
	BenchTables int
	BenchRows   int64
	// BenchShrink is how many times fewer rows each generated table holds
	// than the one before (default 2; 5 puts 80% of them in the first).
	BenchShrink int64
	// Blobs is the number of file documents with contents, of log-normally
	// distributed size around BlobMedian bytes, at most BlobMax.
	Blobs      int
	BlobMedian int64
	BlobMax    int64
	// MissingBlobs adds file documents that claim contents the backup's
	// tree/ does not hold (a backup damaged at the source).
	MissingBlobs int
	// ModelVersion goes into .metadata and mendixsystem$version.
	ModelVersion string
	// GzipLevel compresses the tar (default gzip.DefaultCompression).
	GzipLevel int
	// Seed makes the output reproducible.
	Seed uint64
	Log  *slog.Logger
}

// BlobFacts describes one generated blob.
type BlobFacts struct {
	UUID string
	Size int64
}

// Result says what was generated.
type Result struct {
	Blobs    []BlobFacts
	DumpSize int64
	Rows     map[string]int64
}

// Generate builds the backup that opts describe.
func Generate(ctx context.Context, opts Options) (*Result, error) {
	if opts.Out == "" {
		return nil, errors.New("samplegen: no output file")
	}
	if opts.ModelVersion == "" {
		opts.ModelVersion = "1.0.0.40"
	}
	if opts.GzipLevel == 0 {
		opts.GzipLevel = gzip.DefaultCompression
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	work, err := os.MkdirTemp("", "mxmigrate-samplegen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	cluster := opts.Cluster
	if cluster == nil {
		cluster, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(work, "pg"), Log: log})
		if err != nil {
			return nil, err
		}
		defer cluster.Remove(context.Background())
	}
	// A fixed name keeps a regenerated sample byte-for-byte comparable; a
	// caller's shared cluster gets a fresh name per call.
	dbName := "mendix_app"
	if opts.Cluster != nil {
		dbName = fmt.Sprintf("sample_%d", sampleCounter.Add(1))
	}
	if err := cluster.CreateDatabase(ctx, dbName); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6d786d6967726174))
	blobs, missing := plannedBlobs(rng, opts)

	log.Info("building source database", "rows", opts.Rows, "benchTables", opts.BenchTables, "blobs", len(blobs))
	rows, dbSize, err := buildDatabase(ctx, cluster.URL(dbName), opts, blobs, missing)
	if err != nil {
		return nil, err
	}
	dumpPath := filepath.Join(work, "db.backup")
	log.Info("running pg_dump")
	dump := exec.CommandContext(ctx, filepath.Join(cluster.BinDir(), "pg_dump"), "-O", "-x", "-Fc", "-f", dumpPath, "-d", cluster.URL(dbName))
	if out, err := dump.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_dump: %w: %s", err, out)
	}
	dumpInfo, err := os.Stat(dumpPath)
	if err != nil {
		return nil, err
	}
	log.Info("writing backup", "out", opts.Out)
	if err := writeArchive(ctx, opts, dumpPath, dumpInfo.Size(), dbSize, blobs); err != nil {
		return nil, err
	}
	return &Result{Blobs: blobs, DumpSize: dumpInfo.Size(), Rows: rows}, nil
}

// plannedBlobs draws the blobs' UUIDs and sizes, and the UUIDs of the file
// documents whose blob is missing.
func plannedBlobs(rng *rand.Rand, opts Options) (blobs []BlobFacts, missing []string) {
	median := float64(max(opts.BlobMedian, 1))
	for range opts.Blobs {
		size := int64(math.Exp(math.Log(median) + rng.NormFloat64()))
		if rng.IntN(50) == 0 {
			size = 0 // empty files exist and must move too
		}
		if opts.BlobMax > 0 {
			size = min(size, opts.BlobMax)
		}
		blobs = append(blobs, BlobFacts{UUID: newUUID(rng), Size: size})
	}
	for range opts.MissingBlobs {
		missing = append(missing, newUUID(rng))
	}
	return blobs, missing
}

func newUUID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func buildDatabase(ctx context.Context, url string, opts Options, blobs []BlobFacts, missing []string) (map[string]int64, int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close(context.Background())
	script := mendixSchema + fillRows(opts.ModelVersion, opts.Rows)
	for i := 1; i <= opts.BenchTables; i++ {
		script += benchTableDDL(i)
	}
	if _, err := conn.Exec(ctx, script); err != nil {
		return nil, 0, fmt.Errorf("create sample schema: %w", err)
	}
	rowsInTable := opts.BenchRows
	for i := 1; i <= opts.BenchTables; i++ {
		if _, err := conn.Exec(ctx, benchTableFill(i, max(rowsInTable, 1))); err != nil {
			return nil, 0, fmt.Errorf("fill benchmodule$entity%02d: %w", i, err)
		}
		rowsInTable /= max(opts.BenchShrink, 2)
	}
	if err := insertFileDocuments(ctx, conn, blobs, missing); err != nil {
		return nil, 0, err
	}
	if _, err := conn.Exec(ctx, `SELECT setval('"system$filedocument_fileid_mxseq"', $1)`, int64(len(blobs)+len(missing)+1)); err != nil {
		return nil, 0, err
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, 0, err
	}
	counts := map[string]int64{}
	tables, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		return nil, 0, err
	}
	names, err := pgx.CollectRows(tables, pgx.RowTo[string])
	if err != nil {
		return nil, 0, err
	}
	for _, name := range names {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{name}.Sanitize()).Scan(&n); err != nil {
			return nil, 0, err
		}
		counts[name] = n
	}
	var dbSize int64
	err = conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&dbSize)
	return counts, dbSize, err
}

// insertFileDocuments writes a system$filedocument row per blob: most are
// plain documents, every third an image (with a system$image row) and every
// seventh an image's thumbnail, which Mendix keeps as a file document of
// its own. One more row has no contents at all.
func insertFileDocuments(ctx context.Context, conn *pgx.Conn, blobs []BlobFacts, missing []string) error {
	var docs, images [][]any
	created := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	add := func(id int64, uuid string, size int64, hasContents bool) {
		kind := "System.FileDocument"
		switch {
		case id%7 == 0:
			kind = "System.Thumbnail"
		case id%3 == 0:
			kind = "System.Image"
			images = append(images, []any{id, nil, true})
		}
		docs = append(docs, []any{id, uuid, id, "file-" + strconv.FormatInt(id, 10) + ".bin", false, hasContents, size, kind,
			created.Add(time.Duration(id) * time.Second), created.Add(time.Duration(id) * time.Minute), int64(1), int64(1)})
	}
	id := int64(1000)
	for _, b := range blobs {
		add(id, b.UUID, b.Size, true)
		id++
	}
	for _, uuid := range missing {
		add(id, uuid, 1234, true)
		id++
	}
	add(id, "", 0, false)
	cols := []string{"id", "__uuid__", "__filename__", "name", "deleteafterdownload", "hascontents", "size", "submetaobjectname", "createddate", "changeddate", "system$owner", "system$changedby"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"system$filedocument"}, cols, pgx.CopyFromRows(docs)); err != nil {
		return fmt.Errorf("insert file documents: %w", err)
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"system$image"}, []string{"id", "publicthumbnailpath", "enablecaching"}, pgx.CopyFromRows(images))
	return err
}

// writeArchive writes the tar.gz the way Mendix Cloud lays it out:
// .metadata, db/db.backup, then tree/xx/yy/<uuid> with its folders.
func writeArchive(ctx context.Context, opts Options, dumpPath string, dumpSize, dbSize int64, blobs []BlobFacts) error {
	f, err := os.Create(opts.Out + ".partial")
	if err != nil {
		return err
	}
	defer os.Remove(opts.Out + ".partial")
	defer f.Close()
	buf := bufio.NewWriterSize(f, 1<<20)
	gz, err := gzip.NewWriterLevel(buf, opts.GzipLevel)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	modTime := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)

	var filesSize int64
	for _, b := range blobs {
		filesSize += b.Size
	}
	meta, _ := json.Marshal(map[string]string{
		"duration": "0", "dumpSize": strconv.FormatInt(dumpSize, 10), "modelVersion": opts.ModelVersion,
		"databaseSize": strconv.FormatInt(dbSize, 10), "filesSize": strconv.FormatInt(filesSize, 10),
	})
	if err := writeEntry(tw, ".metadata", int64(len(meta)), modTime, func(w io.Writer) error { _, err := w.Write(meta); return err }); err != nil {
		return err
	}
	for _, dir := range []string{"db/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: modTime}); err != nil {
			return err
		}
	}
	err = writeEntry(tw, "db/db.backup", dumpSize, modTime, func(w io.Writer) error {
		d, err := os.Open(dumpPath)
		if err != nil {
			return err
		}
		defer d.Close()
		_, err = io.Copy(w, d)
		return err
	})
	if err != nil {
		return err
	}

	sorted := append([]BlobFacts(nil), blobs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].UUID < sorted[j].UUID })
	dirs := map[string]bool{}
	content := rand.NewChaCha8(seed32(opts.Seed))
	for _, b := range sorted {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, dir := range []string{"tree/", "tree/" + b.UUID[0:2] + "/", "tree/" + b.UUID[0:2] + "/" + b.UUID[2:4] + "/"} {
			if !dirs[dir] {
				dirs[dir] = true
				if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: modTime}); err != nil {
					return err
				}
			}
		}
		// Random bytes: stored files (PDFs, images) are already
		// compressed, so gzip must not shrink the benchmark's blobs.
		err := writeEntry(tw, "tree/"+b.UUID[0:2]+"/"+b.UUID[2:4]+"/"+b.UUID, b.Size, modTime, func(w io.Writer) error {
			_, err := io.CopyN(w, content, b.Size)
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(opts.Out+".partial", opts.Out)
}

func writeEntry(tw *tar.Writer, name string, size int64, modTime time.Time, body func(io.Writer) error) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: modTime}); err != nil {
		return err
	}
	return body(tw)
}

func seed32(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}
