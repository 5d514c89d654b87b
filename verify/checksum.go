package verify

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// Limits that keep a content comparison's memory bounded whatever the
// size of the database.
const (
	// maxListedRows is how many differing rows a table's report lists.
	maxListedRows = 10
	// defaultIndexLimit is the largest table whose rows are indexed by key
	// (about 30 bytes a row), so that differing rows can be listed. Larger
	// tables are compared by digest alone.
	defaultIndexLimit = 2_000_000
	// maxShownBytes is how much of a value a difference shows.
	maxShownBytes = 64
)

// CompareContents compares every row of every table in the dump with the
// target's, value by value after normalising both sides (see
// CanonicalText), and sets ContentOK and Differences on the TableResults
// of rep that are not Missing. Tables the dump has but rep lacks are not
// compared.
//
// a's data is read once, in file order, from r (positioned after the TOC,
// as for Archive.ScanData). Each table is read from the target with
// ScanTable, which must return a uuid as a string (see CanonicalValue).
// The target is read ahead of the dump, at most jobs tables at a time, and
// each table's rows are indexed by key (the primary key, else the id
// column, else the whole row) while the dump catches up: the dump's rows,
// read once, are then checked against the index as they stream past, so
// the backup's side of a difference is in hand when it is found. A table
// whose contents differ is read from the target a second time to show the
// target's side. Memory stays bounded: an index holds at most 2 million
// rows (larger tables are compared by digest only) and at most jobs
// indexes exist at once.
//
// Per-table failures (the target cannot be read, a value cannot be
// normalised) mark that table as not matching and name the cause; an
// error is returned only when the dump cannot be read or ctx ends.
func CompareContents(ctx context.Context, a *pgdump.Archive, r io.Reader, target dbcopy.Target, rep *DBReport, jobs int) error {
	return compareContents(ctx, a, r, target, rep, contentOptions{jobs: jobs, indexLimit: defaultIndexLimit})
}

type contentOptions struct {
	jobs       int
	indexLimit int64
}

// contentRun is one CompareContents call: the target scans it has under
// way and the first error that ends it.
type contentRun struct {
	target dbcopy.Target
	opts   contentOptions
	seed   maphash.Seed  // for in-memory key and cell hashes
	slots  chan struct{} // one per table read ahead from the target
	wg     sync.WaitGroup
	cancel context.CancelFunc

	errMu sync.Mutex
	err   error
}

func compareContents(ctx context.Context, a *pgdump.Archive, r io.Reader, target dbcopy.Target, rep *DBReport, opts contentOptions) error {
	opts.jobs = max(opts.jobs, 1)
	rep.Checksums = true
	plan, byDumpID := planContents(a, rep)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := &contentRun{target: target, opts: opts, seed: maphash.MakeSeed(),
		slots: make(chan struct{}, opts.jobs), cancel: cancel}
	stop := make(chan struct{})
	run.wg.Add(1)
	go run.readAhead(ctx, plan, stop)

	consumed := make([]bool, len(plan))
	lowest := 0 // the first table of the plan the dump has not reached
	err := a.ScanData(ctx, r, func(e *pgdump.Entry, data io.Reader) error {
		t := byDumpID[e.DumpID]
		if t == nil {
			return nil
		}
		if t.order != lowest {
			// The data comes in another order than planned: the tables
			// read ahead may hold every slot, so do not wait for one.
			run.startScan(ctx, t, false)
		}
		consumed[t.order] = true
		for lowest < len(plan) && consumed[lowest] {
			lowest++
		}
		select {
		case <-t.scanned:
		case <-ctx.Done():
			return ctx.Err()
		}
		return run.compareDump(ctx, t, data)
	})
	if err != nil {
		cancel()
	}
	close(stop)
	run.wg.Wait()
	if run.err != nil {
		return run.err
	}
	return err
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

// readAhead starts the target scans in the order the dump's data comes,
// each once a slot is free; a table's slot is freed when its comparison is
// done.
func (run *contentRun) readAhead(ctx context.Context, plan []*tableCheck, stop <-chan struct{}) {
	defer run.wg.Done()
	for _, t := range plan {
		select {
		case run.slots <- struct{}{}:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		if !run.startScan(ctx, t, true) {
			<-run.slots // the dump got there first
		}
	}
}

// startScan starts reading t from the target unless that has started; it
// reports whether it started it.
func (run *contentRun) startScan(ctx context.Context, t *tableCheck, withSlot bool) bool {
	started := false
	t.startOnce.Do(func() {
		started = true
		t.holdsSlot = withSlot
		run.wg.Add(1)
		go func() {
			defer run.wg.Done()
			defer close(t.scanned)
			run.scanTarget(ctx, t)
		}()
	})
	return started
}

// tableCheck is the comparison of one table.
type tableCheck struct {
	result  *TableResult
	entry   *pgdump.Entry // the TABLE DATA entry
	columns []string
	kinds   []kind
	key     []int // the columns that identify a row
	order   int   // position in the data's order

	startOnce sync.Once
	holdsSlot bool
	scanned   chan struct{} // closed when the fields below are set
	target    digest
	index     map[uint64]indexedRow // key hash -> row; nil when rows cannot be listed
	unlisted  string                // why rows cannot be listed
	scanErr   error

	// Set while the dump's rows stream past.
	dump            digest
	changed         int64
	missing         int64
	onlyInTarget    int64
	listed          []*rowDiff
	problem         string // why the table could not be compared
	listTargetError error
}

// indexedRow is a target row in the index: its row hash and how many
// rows have that key and contents (tables without a key may repeat rows).
type indexedRow struct {
	row uint64
	n   uint32
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

// planContents lists the tables to compare in the order of their data in
// the archive, by TABLE DATA dump ID. Tables that cannot be compared get
// their result at once and are left out.
func planContents(a *pgdump.Archive, rep *DBReport) ([]*tableCheck, map[int]*tableCheck) {
	results := map[string]*TableResult{}
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
		t := &tableCheck{result: r, entry: e, scanned: make(chan struct{})}
		qualified := e.Namespace + "." + e.Tag
		if err := t.describe(definitions[qualified], primaryKeys[qualified]); err != nil {
			t.problem = "cannot compare contents: " + err.Error()
			t.setResult()
			continue
		}
		if len(t.columns) == 0 {
			continue // no values to compare; the row counts say it all
		}
		t.order = len(plan)
		plan = append(plan, t)
		byDumpID[e.DumpID] = t
	}
	return plan, byDumpID
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
	t.kinds = make([]kind, len(cols))
	position := make(map[string]int, len(cols))
	for i, c := range cols {
		t.kinds[i] = kindOf(types[c]) // a column defined elsewhere (inherited) compares as text
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

// scanTarget reads t from the target: its digest and, for tables small
// enough, the index of its rows by key.
func (run *contentRun) scanTarget(ctx context.Context, t *tableCheck) {
	limit := run.opts.indexLimit
	tooLarge := fmt.Sprintf("contents differ; table too large to list rows (more than %d rows)", limit)
	var index map[uint64]indexedRow
	if t.result.TargetRows > limit {
		t.unlisted = tooLarge
	} else {
		index = make(map[uint64]indexedRow, max(t.result.TargetRows, 0))
	}
	enc := newRowEncoder(t.columns, t.kinds)
	t.scanErr = run.target.ScanTable(ctx, t.result.Name, t.columns, func(values []any) error {
		if err := enc.encodeValues(values); err != nil {
			return err
		}
		h := enc.hash()
		t.target.add(h)
		if index == nil {
			return nil
		}
		if t.target.rows > limit {
			index, t.unlisted = nil, tooLarge
			return nil
		}
		k := enc.keyHash(run.seed, t.key)
		prev, seen := index[k]
		switch {
		case !seen:
			index[k] = indexedRow{row: h.lo, n: 1}
		case prev.row == h.lo:
			prev.n++
			index[k] = prev
		default:
			index, t.unlisted = nil, fmt.Sprintf("contents differ; rows cannot be listed: the key (%s) is not unique in the target", t.keyNames())
		}
		return nil
	})
	t.index = index
}

// compareDump digests the dump's rows of t and checks each against the
// target's index.
func (run *contentRun) compareDump(ctx context.Context, t *tableCheck, data io.Reader) error {
	if t.scanErr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.problem = "cannot read the table from the target: " + t.scanErr.Error()
		run.finish(t)
		return nil
	}
	enc := newRowEncoder(t.columns, t.kinds)
	rows := pgdump.NewCopyReader(data)
	for {
		fields, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.entry, err)
		}
		if err := enc.encodeFields(fields); err != nil {
			t.problem = fmt.Sprintf("cannot compare contents: backup row %d: %v", t.dump.rows+1, err)
			run.finish(t)
			return nil // ScanData skips the rest of the table
		}
		h := enc.hash()
		t.dump.add(h)
		if t.index != nil {
			t.match(run.seed, enc, h)
		}
	}
	if t.dump == t.target || t.index == nil {
		run.finish(t)
		return nil
	}
	for _, e := range t.index {
		t.onlyInTarget += int64(e.n) // what no dump row matched
	}
	if !t.needsTargetRows() {
		run.finish(t)
		return nil
	}
	run.wg.Add(1)
	go func() {
		defer run.wg.Done()
		run.listTargetRows(ctx, t)
		run.finish(t)
	}()
	return nil
}

// match checks one dump row against the target's index, keeping the first
// differences with the backup's values.
func (t *tableCheck) match(seed maphash.Seed, enc *rowEncoder, h rowHash) {
	k := enc.keyHash(seed, t.key)
	e, found := t.index[k]
	if found && e.row == h.lo {
		t.consume(k, e)
		return
	}
	room := len(t.listed) < maxListedRows
	if !found {
		t.missing++
		if room {
			t.listed = append(t.listed, &rowDiff{what: missingInTarget, key: enc.keyText(t.key, t.columns)})
		}
		return
	}
	t.changed++
	if room {
		t.listed = append(t.listed, &rowDiff{what: changed, keyHash: k, key: enc.keyText(t.key, t.columns), backup: enc.cells(seed)})
	}
	t.consume(k, e)
}

// consume takes one row of key k out of the index, so that what is left
// at the end is what only the target has.
func (t *tableCheck) consume(k uint64, e indexedRow) {
	if e.n--; e.n == 0 {
		delete(t.index, k)
	} else {
		t.index[k] = e
	}
}

// needsTargetRows reports whether listing the differences needs the
// target's rows: its values of a changed row, or the keys of rows only it
// has.
func (t *tableCheck) needsTargetRows() bool {
	for _, d := range t.listed {
		if d.what == changed {
			return true
		}
	}
	return t.onlyInTarget > 0 && len(t.listed) < maxListedRows
}

// errEnoughRows stops a scan that has found what it was looking for.
var errEnoughRows = errors.New("enough rows")

// listTargetRows reads t from the target again for the target's side of
// the listed differences.
func (run *contentRun) listTargetRows(ctx context.Context, t *tableCheck) {
	want := map[uint64]*rowDiff{}
	for _, d := range t.listed {
		if d.what == changed {
			want[d.keyHash] = d
		}
	}
	room := maxListedRows - len(t.listed)
	enc := newRowEncoder(t.columns, t.kinds)
	err := run.target.ScanTable(ctx, t.result.Name, t.columns, func(values []any) error {
		if err := enc.encodeValues(values); err != nil {
			return err
		}
		k := enc.keyHash(run.seed, t.key)
		if d := want[k]; d != nil {
			d.target = enc.cells(run.seed)
			delete(want, k)
		} else if _, extra := t.index[k]; extra && room > 0 {
			delete(t.index, k) // list a repeated row once
			t.listed = append(t.listed, &rowDiff{what: onlyInTarget, key: enc.keyText(t.key, t.columns)})
			room--
		}
		if len(want) == 0 && (room == 0 || len(t.index) == 0) {
			return errEnoughRows
		}
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errEnoughRows):
	case ctx.Err() != nil:
		run.fail(ctx.Err())
	default:
		t.listTargetError = err
	}
}

// finish writes t's result and frees its slot.
func (run *contentRun) finish(t *tableCheck) {
	t.setResult()
	if t.holdsSlot {
		<-run.slots
	}
}

func (t *tableCheck) setResult() {
	ok := t.problem == "" && t.dump == t.target
	t.result.ContentOK = &ok
	t.result.Differences = nil
	switch {
	case ok:
		return
	case t.problem != "":
		t.result.Differences = []string{t.problem}
		return
	case t.index == nil:
		t.result.Differences = []string{t.unlisted}
		return
	}
	var lines []string
	for _, d := range t.listed {
		lines = append(lines, d.String(t.columns))
	}
	if t.listTargetError != nil {
		lines = append(lines, "cannot read the target's rows to list them: "+t.listTargetError.Error())
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

// rowHash is the first 128 bits of a row encoding's SHA-256.
type rowHash struct{ hi, lo uint64 }

// rowEncoder writes a row's canonical values into one buffer to be hashed.
// Each column is a tag byte (0 for NULL, 1 for a value) and, for a value,
// its length as 8 bytes and its canonical form, so that no two different
// rows encode alike (NULL and "" included).
type rowEncoder struct {
	names []string
	kinds []kind
	buf   []byte
	ends  []int // where each column's encoding ends in buf
}

func newRowEncoder(names []string, kinds []kind) *rowEncoder {
	return &rowEncoder{names: names, kinds: kinds, ends: make([]int, 0, len(kinds))}
}

func (e *rowEncoder) encodeFields(fields []pgdump.Field) error {
	if len(fields) != len(e.kinds) {
		return fmt.Errorf("%d values for %d columns", len(fields), len(e.kinds))
	}
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	for i, f := range fields {
		if f.Null {
			e.appendNull()
			continue
		}
		start := e.beginValue()
		var err error
		if e.buf, err = appendCanonicalText(e.buf, e.kinds[i], f.Value); err != nil {
			return fmt.Errorf("column %q: %w", e.names[i], err)
		}
		e.endValue(start)
	}
	return nil
}

func (e *rowEncoder) encodeValues(values []any) error {
	if len(values) != len(e.kinds) {
		return fmt.Errorf("ScanTable returned %d values for %d columns", len(values), len(e.kinds))
	}
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	for i, v := range values {
		if v == nil {
			e.appendNull()
			continue
		}
		start := e.beginValue()
		var err error
		if e.buf, err = appendCanonicalValue(e.buf, e.kinds[i], v); err != nil {
			return fmt.Errorf("column %q: %w", e.names[i], err)
		}
		e.endValue(start)
	}
	return nil
}

func (e *rowEncoder) appendNull() {
	e.buf = append(e.buf, 0)
	e.ends = append(e.ends, len(e.buf))
}

// beginValue writes the tag and room for the length, filled in by
// endValue once the canonical form is written.
func (e *rowEncoder) beginValue() int {
	e.buf = append(e.buf, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	return len(e.buf)
}

func (e *rowEncoder) endValue(start int) {
	binary.BigEndian.PutUint64(e.buf[start-8:start], uint64(len(e.buf)-start))
	e.ends = append(e.ends, len(e.buf))
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
	sum := sha256.Sum256(e.buf)
	return rowHash{hi: binary.BigEndian.Uint64(sum[0:8]), lo: binary.BigEndian.Uint64(sum[8:16])}
}

// keyHash hashes the key columns' encodings, which carry their lengths,
// so that composite keys cannot run into each other.
func (e *rowEncoder) keyHash(seed maphash.Seed, key []int) uint64 {
	if len(key) == 1 {
		return maphash.Bytes(seed, e.column(key[0]))
	}
	var h maphash.Hash
	h.SetSeed(seed)
	for _, i := range key {
		h.Write(e.column(i))
	}
	return h.Sum64()
}

func (e *rowEncoder) cells(seed maphash.Seed) []cell {
	out := make([]cell, len(e.ends))
	for i := range out {
		enc := e.column(i)
		value, null := decodeColumn(enc)
		out[i] = cell{hash: maphash.Bytes(seed, enc), shown: showValue(value, null)}
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
		if !isDigit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && strings.IndexByte("-+.:", c) < 0 {
			return false
		}
	}
	return true
}
