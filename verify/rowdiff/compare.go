// Package rowdiff compares every row of a dump's tables with a target's,
// in bounded memory, and names the rows that differ. Values are compared
// in their canonical forms (package canon).
package rowdiff

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/verify"
	"github.com/mxmigrate/mxmigrate/verify/canon"
)

// Limits that keep a content comparison's memory bounded whatever the
// size of the database.
const (
	// maxListedRows is how many differing rows a table's report lists.
	maxListedRows = 10
	// defaultIndexLimit is the most rows of the target that listing one
	// table's differences may index in all: the rows in the buckets whose
	// digests differ (see tableCheck). Beyond it the table is reported by
	// digest alone, so that listing never costs more than a few more reads
	// of the table.
	defaultIndexLimit = 2_000_000
	// defaultChunkRows is how many target rows listing indexes at once,
	// 24 bytes each; more are listed in several rounds.
	defaultChunkRows = 256 << 10
	// defaultBucketRows is about how many rows share a bucket digest.
	defaultBucketRows = 1024
	// maxBucketBits caps a table's buckets (2^14 digests of 24 bytes).
	maxBucketBits = 14
	// maxShownBytes is how much of a value a difference shows.
	maxShownBytes = 64
)

// Compare compares every row of every table in the dump with the
// target's, value by value after normalising both sides (see
// canon.Text), and sets ContentOK and Differences on the TableResults
// of rep that are not Missing. Tables the dump has but rep lacks are not
// compared.
//
// It works in two passes, neither of which holds more than a bounded
// amount in memory whatever the size of the tables:
//
//   - The first pass reads the dump once, in file order, while up to jobs
//     tables are read from the target at the same time (with ScanTable,
//     which must return a uuid as a string, see canon.Value), largest
//     first. Each side of a table is reduced to an order-independent
//     digest: its row count and the sum of its rows' 128-bit hashes, kept
//     per bucket of rows (rows are put in buckets by their key: the
//     primary key, else the id column, else the whole row).
//   - Only a table whose digests differ gets a second pass, which names
//     the differing rows: the target's rows in the buckets that differ
//     are indexed by key (about 256Ki rows, 6 MiB, at a time; more in
//     several rounds), and the table's rows in the dump, read again from
//     the file at the table's offset, are matched against the index. A
//     last read of the target fetches its side of the listed rows. When
//     the buckets that differ hold more than 2 million target rows, the
//     table is reported by digest alone.
//
// The second pass runs on the same jobs goroutines as the target's
// scans, after them, so that at most jobs target reads are under way.
//
// Per-table failures (the target cannot be read, a value cannot be
// normalised) mark that table as not matching and name the cause; an
// error is returned only when the dump cannot be read or ctx ends.
func Compare(ctx context.Context, dump *pgdump.ArchiveFile, target dbcopy.Target, rep *verify.DBReport, jobs int) error {
	return compareContents(ctx, dump, target, rep, contentOptions{jobs: jobs})
}

// contentOptions tunes a comparison; zero values take the defaults.
type contentOptions struct {
	jobs       int
	indexLimit int64 // most target rows the listing of one table indexes
	chunkRows  int64 // most target rows indexed at once
	bucketRows int64 // rows per bucket digest aimed at
}

func (o contentOptions) withDefaults() contentOptions {
	o.jobs = max(o.jobs, 1)
	if o.indexLimit <= 0 {
		o.indexLimit = defaultIndexLimit
	}
	if o.chunkRows <= 0 {
		o.chunkRows = defaultChunkRows
	}
	if o.bucketRows <= 0 {
		o.bucketRows = defaultBucketRows
	}
	return o
}

// contentRun is one Compare call.
type contentRun struct {
	dump   *pgdump.ArchiveFile
	target dbcopy.Target
	opts   contentOptions
	seeds  seeds
	cancel context.CancelFunc

	lists    chan *tableCheck // tables whose contents differ, to list
	unjoined atomic.Int64     // tables not yet read on both sides

	errMu sync.Mutex
	err   error
}

func compareContents(ctx context.Context, dump *pgdump.ArchiveFile, target dbcopy.Target, rep *verify.DBReport, opts contentOptions) error {
	opts = opts.withDefaults()
	rep.Checksums = true
	plan, byDumpID := planContents(dump.Archive, rep, opts.bucketRows)
	if len(plan) == 0 {
		return nil
	}

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := &contentRun{dump: dump, target: target, opts: opts, seeds: newSeeds(), cancel: cancel,
		lists: make(chan *tableCheck, len(plan))}
	run.unjoined.Store(int64(len(plan)))

	// The target's side: the largest tables first, so that the longest
	// scan is under way from the start, then the listing of the tables
	// that differ as they come.
	scans := slices.Clone(plan)
	slices.SortStableFunc(scans, func(a, b *tableCheck) int { return cmp.Compare(b.size, a.size) })
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(opts.jobs, len(scans)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(scans)) {
					break
				}
				run.scanTarget(ctx, scans[i])
			}
			for {
				select {
				case t, ok := <-run.lists:
					if !ok {
						return
					}
					run.list(ctx, t)
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	// The dump's side, at the same time, in file order.
	err := dump.ScanData(ctx, dump.Data(), func(e *pgdump.Entry, data io.Reader) error {
		if t := byDumpID[e.DumpID]; t != nil {
			return run.digestDump(ctx, t, data)
		}
		return nil
	})
	if err != nil {
		run.fail(err)
	}
	wg.Wait()
	if run.err != nil {
		return run.err
	}
	return parent.Err()
}

// fail ends the run with err, unless it already ended.
func (run *contentRun) fail(err error) {
	run.errMu.Lock()
	if run.err == nil {
		run.err = err
	}
	run.errMu.Unlock()
	run.cancel()
}

// tableCheck is the comparison of one table.
//
// Each side's digest is kept per bucket: a row's bucket is the top
// bucketBits bits of its key's hash, so that a row and its counterpart
// fall in the same bucket, and a bucket's digests differ only when rows
// of that bucket differ. Buckets hold about defaultBucketRows rows, so
// that a few differing rows in a large table are found by indexing a few
// thousand rows, not the table.
type tableCheck struct {
	result     *verify.TableResult
	entry      *pgdump.Entry // the TABLE DATA entry
	columns    []string
	kinds      []canon.Kind
	key        []int // the columns that identify a row
	size       int64 // rows expected, for the order of scans and the buckets
	bucketBits uint

	// pending counts the sides not yet read; the goroutine that reads the
	// last one judges the table. Until then each side's fields belong to
	// the goroutine that reads it.
	pending atomic.Int32
	target  sideDigest
	scanErr error
	dump    sideDigest
	problem string // why the table could not be compared

	// Set by the listing, which one goroutine runs.
	diff            []bucketRows // the buckets whose digests differ
	unlisted        string       // why rows cannot be listed
	changed         int64
	missing         int64
	onlyInTarget    int64
	listed          []*rowDiff
	listTargetError error
	incomplete      bool // the listing stopped before counting every row
}

// bucketRows is a bucket that differs and how many target rows it holds.
type bucketRows struct {
	bucket uint32
	rows   int64
}

// bucket is the bucket of a row whose key hashes to k.
func (t *tableCheck) bucket(k uint64) uint32 {
	return uint32(k >> (64 - t.bucketBits)) // a shift by 64 gives 0
}

// digest is an order-independent digest of a multiset of rows: the row
// count and the sum, modulo 2^128, of each row's 128-bit hash.
type digest struct {
	rows   int64
	hi, lo uint64
}

func (d *digest) add(h rowHash) {
	var carry uint64
	d.lo, carry = bits.Add64(d.lo, h.lo, 0)
	d.hi, _ = bits.Add64(d.hi, h.hi, carry)
	d.rows++
}

// merge adds the rows of e to d.
func (d *digest) merge(e digest) {
	var carry uint64
	d.lo, carry = bits.Add64(d.lo, e.lo, 0)
	d.hi, _ = bits.Add64(d.hi, e.hi, carry)
	d.rows += e.rows
}

// sideDigest is the digest of one side of a table, by bucket and, once
// the side is read, in all.
type sideDigest struct {
	total   digest
	buckets []digest
}

func newSideDigest(bucketBits uint) sideDigest {
	return sideDigest{buckets: make([]digest, 1<<bucketBits)}
}

func (s *sideDigest) add(bucket uint32, h rowHash) {
	s.buckets[bucket].add(h)
}

// finish sums the buckets.
func (s *sideDigest) finish() {
	s.total = digest{}
	for _, d := range s.buckets {
		s.total.merge(d)
	}
}

// planContents lists the tables to compare in the order of their data in
// the archive, by TABLE DATA dump ID. Tables that cannot be compared get
// their result at once and are left out.
func planContents(a *pgdump.Archive, rep *verify.DBReport, bucketRows int64) ([]*tableCheck, map[int]*tableCheck) {
	results := map[string]*verify.TableResult{}
	for i := range rep.Tables {
		if r := &rep.Tables[i]; !r.Missing && results[r.Name] == nil {
			results[r.Name] = r
		}
	}
	definitions := map[string]*pgdump.Entry{}
	primaryKeys := map[string][]string{}
	var data []*pgdump.Entry
	for i := range a.Entries {
		e := &a.Entries[i]
		switch e.Desc {
		case "TABLE":
			definitions[e.Namespace+"."+e.Tag] = e
		case "CONSTRAINT":
			if schema, table, cols, ok := e.PrimaryKeyColumns(); ok {
				primaryKeys[schema+"."+table] = cols
			}
		case "TABLE DATA":
			if e.HadDumper { // else the archive has no data block for it
				data = append(data, e)
			}
		}
	}
	sortByDataOffset(data)

	var plan []*tableCheck
	byDumpID := map[int]*tableCheck{}
	for _, e := range data {
		r := results[e.Tag]
		if r == nil {
			continue
		}
		delete(results, e.Tag)
		t := &tableCheck{result: r, entry: e, size: max(r.SourceRows, r.TargetRows, 0)}
		qualified := e.Namespace + "." + e.Tag
		if err := t.describe(definitions[qualified], primaryKeys[qualified]); err != nil {
			t.problem = "cannot compare contents: " + err.Error()
			t.setResult()
			continue
		}
		if len(t.columns) == 0 {
			continue // no values to compare; the row counts say it all
		}
		t.bucketBits = bucketBitsFor(t.size, bucketRows)
		t.pending.Store(2)
		plan = append(plan, t)
		byDumpID[e.DumpID] = t
	}
	return plan, byDumpID
}

// bucketBitsFor picks the number of buckets, a power of two, so that
// each holds about bucketRows of a table's rows.
func bucketBitsFor(rows, bucketRows int64) uint {
	n := uint(0)
	for n < maxBucketBits && rows > bucketRows<<n {
		n++
	}
	return n
}

// sortByDataOffset orders data entries as their blocks lie in the file.
// Without offsets (a dump written to a pipe) the TOC order is kept, which
// is the order pg_dump writes the data in.
func sortByDataOffset(data []*pgdump.Entry) {
	for _, e := range data {
		if !e.HasDataOffset {
			return
		}
	}
	sort.SliceStable(data, func(i, j int) bool { return data[i].DataOffset < data[j].DataOffset })
}

// describe learns the table's columns, their kinds and its key.
func (t *tableCheck) describe(definition *pgdump.Entry, primaryKey []string) error {
	cols, err := t.entry.CopyColumns()
	if err != nil {
		return err
	}
	if definition == nil {
		return errors.New("the backup has no CREATE TABLE for it")
	}
	defined, err := definition.TableColumns()
	if err != nil {
		return err
	}
	types := make(map[string]string, len(defined))
	for _, c := range defined {
		types[c.Name] = c.Type
	}
	t.columns = cols
	t.kinds = make([]canon.Kind, len(cols))
	position := make(map[string]int, len(cols))
	for i, c := range cols {
		t.kinds[i] = canon.KindOf(types[c]) // a column defined elsewhere (inherited) compares as text
		position[c] = i
	}
	t.key = keyColumns(position, primaryKey, len(cols))
	return nil
}

// keyColumns picks what identifies a row: the primary key, else Mendix's
// id column, else the whole row. Mendix's tables have their primary key on
// id; the primary key comes first because it is sure to be unique.
func keyColumns(position map[string]int, primaryKey []string, n int) []int {
	var key []int
	for _, c := range primaryKey {
		i, ok := position[c]
		if !ok {
			key = nil
			break
		}
		key = append(key, i)
	}
	if len(key) > 0 {
		return key
	}
	if i, ok := position["id"]; ok {
		return []int{i}
	}
	key = make([]int, n)
	for i := range key {
		key[i] = i
	}
	return key
}

// scanTarget digests the target's side of t.
func (run *contentRun) scanTarget(ctx context.Context, t *tableCheck) {
	side := newSideDigest(t.bucketBits)
	enc := newRowEncoder(t.columns, t.kinds, run.seeds)
	err := run.target.ScanTable(ctx, t.result.Name, t.columns, func(values []any) error {
		if err := enc.encodeValues(values); err != nil {
			return err
		}
		side.add(t.bucket(enc.keyHash(t.key)), enc.hash())
		return nil
	})
	side.finish()
	t.target, t.scanErr = side, err
	run.sideDone(ctx, t)
}

// digestDump digests the dump's side of t.
func (run *contentRun) digestDump(ctx context.Context, t *tableCheck, data io.Reader) error {
	side := newSideDigest(t.bucketBits)
	enc := newRowEncoder(t.columns, t.kinds, run.seeds)
	rows := pgdump.NewCopyReader(data)
	for n := 1; ; n++ {
		fields, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.entry, err)
		}
		if err := enc.encodeFields(fields); err != nil {
			t.problem = fmt.Sprintf("cannot compare contents: backup row %d: %v", n, err)
			break // ScanData skips the rest of the table
		}
		side.add(t.bucket(enc.keyHash(t.key)), enc.hash())
	}
	side.finish()
	t.dump = side
	run.sideDone(ctx, t)
	return nil
}

// sideDone records that one side of t has been read. After the second,
// it judges the table: alike, not comparable, or to be listed.
func (run *contentRun) sideDone(ctx context.Context, t *tableCheck) {
	if t.pending.Add(-1) > 0 {
		return
	}
	if ctx.Err() != nil {
		return // the run is ending: a scan cut short proves nothing
	}
	toList := false
	switch {
	case t.scanErr != nil:
		t.problem = "cannot read the table from the target: " + t.scanErr.Error()
	case t.problem != "":
	case t.dump.total == t.target.total:
	default:
		for b := range t.dump.buckets {
			if t.dump.buckets[b] != t.target.buckets[b] {
				t.diff = append(t.diff, bucketRows{bucket: uint32(b), rows: t.target.buckets[b].rows})
			}
		}
		toList = true
	}
	t.dump.buckets, t.target.buckets = nil, nil
	if toList {
		run.lists <- t // never blocks: it has room for every table
	} else {
		t.setResult()
	}
	if run.unjoined.Add(-1) == 0 {
		close(run.lists)
	}
}

func (t *tableCheck) setResult() {
	ok := t.problem == "" && t.dump.total == t.target.total
	t.result.ContentOK = &ok
	t.result.Differences = nil
	switch {
	case ok:
		return
	case t.problem != "":
		t.result.Differences = []string{t.problem}
		return
	case t.unlisted != "":
		t.result.Differences = []string{t.unlisted}
		return
	}
	var lines []string
	if !t.incomplete {
		for _, d := range t.listed {
			lines = append(lines, d.String(t.columns))
		}
	}
	if t.listTargetError != nil {
		lines = append(lines, "cannot read the target's rows to list them: "+t.listTargetError.Error())
	}
	if t.incomplete {
		t.result.Differences = lines
		return
	}
	total := t.changed + t.missing + t.onlyInTarget
	switch {
	case total == 0:
		lines = append(lines, "contents differ, but no single row could be singled out")
	case total > int64(len(t.listed)):
		lines = append(lines, fmt.Sprintf("%d rows differ in all: %d changed, %d missing in the target, %d only in the target",
			total, t.changed, t.missing, t.onlyInTarget))
	}
	t.result.Differences = lines
}

func (t *tableCheck) keyNames() string {
	names := make([]string, len(t.key))
	for i, c := range t.key {
		names[i] = t.columns[c]
	}
	return strings.Join(names, ", ")
}

type diffKind int

const (
	changed diffKind = iota
	missingInTarget
	onlyInTarget
)

// rowDiff is one listed difference.
type rowDiff struct {
	what    diffKind
	ord     uint64 // position in the dump, or for onlyInTarget in the target
	keyHash uint64
	key     string // e.g. `id=42`
	backup  []cell // changed rows: each side's values
	target  []cell
}

// cell is what a difference needs of a value: enough to tell whether two
// values differ, and a short form to show.
type cell struct {
	hash  uint64
	shown string
}

func (d *rowDiff) String(columns []string) string {
	switch d.what {
	case missingInTarget:
		return d.key + ": missing in the target"
	case onlyInTarget:
		return d.key + ": only in the target"
	}
	if d.target == nil {
		return d.key + ": differs, but the target no longer has the row"
	}
	var parts []string
	for i := range d.backup {
		if d.backup[i].hash != d.target[i].hash {
			parts = append(parts, fmt.Sprintf("column %q: backup %s, target %s", columns[i], d.backup[i].shown, d.target[i].shown))
		}
	}
	if len(parts) == 0 {
		return d.key + ": differs, but the target's row changed while it was read"
	}
	return d.key + ": " + strings.Join(parts, "; ")
}

// seeds key the hashes of one comparison. Digests are only ever compared
// within one run, so the seeds are random, new for each run: an accidental
// collision does not repeat on the next run, and whoever can write rows
// into the target cannot compute rows that collide.
type seeds struct {
	hi, lo, key maphash.Seed
}

func newSeeds() seeds {
	return seeds{hi: maphash.MakeSeed(), lo: maphash.MakeSeed(), key: maphash.MakeSeed()}
}

// rowHash is a row encoding's 128-bit hash: two 64-bit hash/maphash
// hashes of it under independent random seeds.
//
// The digests compare sums of row hashes, so a difference goes unseen
// only if the hashes of the rows that differ happen to sum alike: with
// 128 bits of keyed hash that is a chance in about 2^128 for a random
// function, and no worse than about 2^-64 were the two halves to be
// correlated. maphash (AES-based where the CPU has AES instructions)
// costs a few nanoseconds a row where SHA-256 cost hundreds; it is not a
// cryptographic hash, but it is keyed by the secret per-run seeds, which
// is what makes deliberate collisions impractical, and nothing here needs
// a hash that is stable across processes.
type rowHash struct{ hi, lo uint64 }

// rowEncoder writes a row's canonical values into one buffer to be hashed.
// Each column is a tag byte (0 for NULL, 1 for a value) and, for a value,
// its length as 8 bytes and its canonical form, so that no two different
// rows encode alike (NULL and "" included).
type rowEncoder struct {
	names []string
	kinds []canon.Kind
	seeds seeds
	buf   []byte
	ends  []int  // where each column's encoding ends in buf
	kbuf  []byte // the key columns' encodings, one after the other
}

func newRowEncoder(names []string, kinds []canon.Kind, s seeds) *rowEncoder {
	return &rowEncoder{names: names, kinds: kinds, seeds: s, ends: make([]int, 0, len(kinds))}
}

func (e *rowEncoder) encodeFields(fields []pgdump.Field) error {
	if len(fields) != len(e.kinds) {
		return fmt.Errorf("%d values for %d columns", len(fields), len(e.kinds))
	}
	buf, ends := e.buf[:0], e.ends[:0] // locals: no write barrier a column
	for i, f := range fields {
		var err error
		if buf, err = e.appendField(buf, i, f); err != nil {
			e.buf, e.ends = buf, ends
			return err
		}
		ends = append(ends, len(buf))
	}
	e.buf, e.ends = buf, ends
	return nil
}

func (e *rowEncoder) encodeValues(values []any) error {
	if len(values) != len(e.kinds) {
		return fmt.Errorf("ScanTable returned %d values for %d columns", len(values), len(e.kinds))
	}
	buf, ends := e.buf[:0], e.ends[:0]
	for i, v := range values {
		var err error
		if buf, err = e.appendValue(buf, i, v); err != nil {
			e.buf, e.ends = buf, ends
			return err
		}
		ends = append(ends, len(buf))
	}
	e.buf, e.ends = buf, ends
	return nil
}

// appendField appends the encoding of column i from its COPY text.
func (e *rowEncoder) appendField(dst []byte, i int, f pgdump.Field) ([]byte, error) {
	if f.Null {
		return append(dst, 0), nil
	}
	start := len(dst)
	dst, err := canon.AppendText(append(dst, 1, 0, 0, 0, 0, 0, 0, 0, 0), e.kinds[i], f.Value)
	if err != nil {
		return dst, fmt.Errorf("column %q: %w", e.names[i], err)
	}
	return endValue(dst, start), nil
}

// appendValue appends the encoding of column i from a driver's value.
func (e *rowEncoder) appendValue(dst []byte, i int, v any) ([]byte, error) {
	if v == nil {
		return append(dst, 0), nil
	}
	start := len(dst)
	dst, err := canon.AppendValue(append(dst, 1, 0, 0, 0, 0, 0, 0, 0, 0), e.kinds[i], v)
	if err != nil {
		return dst, fmt.Errorf("column %q: %w", e.names[i], err)
	}
	return endValue(dst, start), nil
}

// endValue fills in the length of the value whose tag is at start.
func endValue(dst []byte, start int) []byte {
	binary.BigEndian.PutUint64(dst[start+1:start+9], uint64(len(dst)-start-9))
	return dst
}

// column is column i's encoding: tag, length and value.
func (e *rowEncoder) column(i int) []byte {
	start := 0
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.buf[start:e.ends[i]]
}

func (e *rowEncoder) hash() rowHash {
	return rowHash{hi: maphash.Bytes(e.seeds.hi, e.buf), lo: maphash.Bytes(e.seeds.lo, e.buf)}
}

// keyHash hashes the key columns' encodings of the row just encoded. The
// encodings carry their lengths, so composite keys cannot run into each
// other.
func (e *rowEncoder) keyHash(key []int) uint64 {
	if len(key) == 1 {
		return maphash.Bytes(e.seeds.key, e.column(key[0]))
	}
	e.kbuf = e.kbuf[:0]
	for _, i := range key {
		e.kbuf = append(e.kbuf, e.column(i)...)
	}
	return maphash.Bytes(e.seeds.key, e.kbuf)
}

// keyOfFields is keyHash for a dump row, encoding only its key columns.
func (e *rowEncoder) keyOfFields(fields []pgdump.Field, key []int) (uint64, error) {
	if len(fields) != len(e.kinds) {
		return 0, fmt.Errorf("%d values for %d columns", len(fields), len(e.kinds))
	}
	e.kbuf = e.kbuf[:0]
	for _, i := range key {
		var err error
		if e.kbuf, err = e.appendField(e.kbuf, i, fields[i]); err != nil {
			return 0, err
		}
	}
	return maphash.Bytes(e.seeds.key, e.kbuf), nil
}

// keyOfValues is keyHash for a target row, encoding only its key columns.
func (e *rowEncoder) keyOfValues(values []any, key []int) (uint64, error) {
	if len(values) != len(e.kinds) {
		return 0, fmt.Errorf("ScanTable returned %d values for %d columns", len(values), len(e.kinds))
	}
	e.kbuf = e.kbuf[:0]
	for _, i := range key {
		var err error
		if e.kbuf, err = e.appendValue(e.kbuf, i, values[i]); err != nil {
			return 0, err
		}
	}
	return maphash.Bytes(e.seeds.key, e.kbuf), nil
}

func (e *rowEncoder) cells() []cell {
	out := make([]cell, len(e.ends))
	for i := range out {
		enc := e.column(i)
		value, null := decodeColumn(enc)
		out[i] = cell{hash: maphash.Bytes(e.seeds.key, enc), shown: showValue(value, null)}
	}
	return out
}

// keyText names a row by its key, e.g. `id=42`.
func (e *rowEncoder) keyText(key []int, names []string) string {
	var b strings.Builder
	for j, i := range key {
		if j > 0 {
			b.WriteString(", ")
		}
		value, null := decodeColumn(e.column(i))
		b.WriteString(names[i])
		b.WriteByte('=')
		if !null && isPlain(value) {
			b.Write(value)
		} else {
			b.WriteString(showValue(value, null))
		}
	}
	return b.String()
}

func decodeColumn(enc []byte) (value []byte, null bool) {
	if enc[0] == 0 {
		return nil, true
	}
	return enc[9:], false
}

// showValue quotes a canonical value for a report, cut to maxShownBytes.
func showValue(v []byte, null bool) string {
	if null {
		return "NULL"
	}
	if len(v) <= maxShownBytes {
		return strconv.Quote(string(v))
	}
	cut := maxShownBytes
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(v[:cut])), len(v))
}

// isPlain reports whether a key value reads unambiguously without quotes:
// numbers, uuids, timestamps.
func isPlain(v []byte) bool {
	if len(v) == 0 || len(v) > maxShownBytes {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && strings.IndexByte("-+.:", c) < 0 {
			return false
		}
	}
	return true
}
