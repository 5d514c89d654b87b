package rowdiff

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// The second pass of Compare: naming the rows of a table whose
// digests differ, with memory bounded by chunkRows whatever the table's
// size.

// list names the rows of t that differ. The target's rows in the buckets
// that differ are indexed by key, in chunks of at most chunkRows rows;
// for each chunk the dump's rows of the table are read again and matched
// against the index. What no dump row matched is only in the target.
func (run *contentRun) list(ctx context.Context, t *tableCheck) {
	var rows int64
	for _, d := range t.diff {
		rows += d.rows
	}
	if rows > run.opts.indexLimit {
		t.unlisted = fmt.Sprintf("contents differ; table too large to list rows (more than %d rows)", run.opts.indexLimit)
		t.setResult()
		return
	}
	l := &listing{t: t, members: make([]uint64, (1<<t.bucketBits+63)/64)}
	for start := 0; start < len(t.diff); {
		end, n := start, int64(0)
		for end < len(t.diff) && (end == start || n+t.diff[end].rows <= run.opts.chunkRows) {
			n += t.diff[end].rows
			end++
		}
		clear(l.members)
		for _, d := range t.diff[start:end] {
			l.members[d.bucket/64] |= 1 << (d.bucket % 64)
		}
		if err := run.indexTarget(ctx, l, n); err != nil {
			if ctx.Err() != nil {
				return
			}
			t.listTargetError, t.incomplete = err, true
			t.setResult()
			return
		}
		if t.unlisted != "" {
			t.setResult()
			return
		}
		if err := run.matchDump(ctx, l); err != nil {
			run.fail(err)
			return
		}
		l.takeLeftovers()
		start = end
	}
	run.fetchTargetSides(ctx, l)
	if ctx.Err() == nil {
		t.setResult()
	}
}

// listing is the state of listing one table's differences.
type listing struct {
	t       *tableCheck
	members []uint64 // bitset of the buckets in the current chunk
	index   []indexEntry
	// The first differences: dump rows by their position in the dump, and
	// target-only rows by their position in the target's order.
	dumpSide []*rowDiff
	extra    []indexEntry
}

func (l *listing) member(k uint64) bool {
	b := l.t.bucket(k)
	return l.members[b/64]&(1<<(b%64)) != 0
}

// indexEntry is a target row in the index: its key hash, the first 64
// bits of its row hash, and its position in the target's order, with
// the top bit set once a dump row has matched it.
type indexEntry struct {
	key, row uint64
	ord      uint64
}

const matchedBit = 1 << 63

// errTargetGrew stops an index that outgrows what the first pass counted.
var errTargetGrew = errors.New("the table grew while it was read")

// indexTarget indexes the target's rows in the chunk's buckets, of which
// the first pass counted expect.
func (run *contentRun) indexTarget(ctx context.Context, l *listing, expect int64) error {
	t := l.t
	limit := max(2*expect, expect+1024) // rows may be added between reads, within reason
	l.index = slices.Grow(l.index[:0], int(expect))
	enc := newRowEncoder(t.columns, t.kinds, run.seeds)
	var ord uint64
	err := run.target.ScanTable(ctx, t.result.Name, t.columns, func(values []any) error {
		ord++
		k, err := enc.keyOfValues(values, t.key)
		if err != nil {
			return err
		}
		if !l.member(k) {
			return nil
		}
		if int64(len(l.index)) >= limit {
			return errTargetGrew
		}
		if err := enc.encodeValues(values); err != nil {
			return err
		}
		l.index = append(l.index, indexEntry{key: k, row: enc.hash().lo, ord: ord})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(l.index, func(a, b indexEntry) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.row, b.row); c != 0 {
			return c
		}
		return cmp.Compare(a.ord, b.ord)
	})
	for i := 1; i < len(l.index); i++ {
		if l.index[i].key == l.index[i-1].key && l.index[i].row != l.index[i-1].row {
			t.unlisted = fmt.Sprintf("contents differ; rows cannot be listed: the key (%s) is not unique in the target", t.keyNames())
			break
		}
	}
	return nil
}

// matchDump reads the dump's rows of the table again and matches those
// in the chunk's buckets against the index.
func (run *contentRun) matchDump(ctx context.Context, l *listing) error {
	t := l.t
	data, err := run.dump.OpenData(ctx, t.entry)
	if err != nil {
		return err
	}
	defer data.Close()
	enc := newRowEncoder(t.columns, t.kinds, run.seeds)
	rows := pgdump.NewCopyReader(data)
	for ord := uint64(1); ; ord++ {
		fields, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			var k uint64
			if k, err = enc.keyOfFields(fields, t.key); err == nil && l.member(k) {
				if err = enc.encodeFields(fields); err == nil {
					l.match(enc, k, ord)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.entry, err)
		}
	}
}

// match finds the dump row just encoded, of key hash k, in the index.
func (l *listing) match(enc *rowEncoder, k, ord uint64) {
	row := enc.hash().lo
	i, _ := slices.BinarySearchFunc(l.index, k, func(e indexEntry, k uint64) int { return cmp.Compare(e.key, k) })
	unmatched := -1 // an entry of the same key that no dump row took yet
	for j := i; j < len(l.index) && l.index[j].key == k; j++ {
		if l.index[j].ord&matchedBit != 0 {
			continue
		}
		if l.index[j].row == row {
			l.index[j].ord |= matchedBit
			return
		}
		if unmatched < 0 {
			unmatched = j
		}
	}
	if unmatched < 0 {
		l.t.missing++
		l.keep(ord, func() *rowDiff {
			return &rowDiff{what: missingInTarget, key: enc.keyText(l.t.key, l.t.columns)}
		})
		return
	}
	l.index[unmatched].ord |= matchedBit
	l.t.changed++
	l.keep(ord, func() *rowDiff {
		return &rowDiff{what: changed, keyHash: k, key: enc.keyText(l.t.key, l.t.columns), backup: enc.cells()}
	})
}

// keep adds a difference found at dump position ord if it is among the
// first maxListedRows found so far.
func (l *listing) keep(ord uint64, build func() *rowDiff) {
	n := len(l.dumpSide)
	if n == maxListedRows && ord >= l.dumpSide[n-1].ord {
		return
	}
	d := build()
	d.ord = ord
	i, _ := slices.BinarySearchFunc(l.dumpSide, ord, func(d *rowDiff, ord uint64) int { return cmp.Compare(d.ord, ord) })
	l.dumpSide = slices.Insert(l.dumpSide, i, d)
	if len(l.dumpSide) > maxListedRows {
		l.dumpSide = l.dumpSide[:maxListedRows]
	}
}

// takeLeftovers counts the index's entries that no dump row matched, and
// keeps the first of them in the target's order (a repeated row once).
func (l *listing) takeLeftovers() {
	var last uint64 // the key of the last entry taken, if taken
	taken := false
	for _, e := range l.index {
		if e.ord&matchedBit != 0 {
			continue
		}
		l.t.onlyInTarget++
		if taken && e.key == last {
			continue // a repeated row: the first of its key stands for it
		}
		last, taken = e.key, true
		j, _ := slices.BinarySearchFunc(l.extra, e.ord, func(x indexEntry, ord uint64) int { return cmp.Compare(x.ord, ord) })
		if j < maxListedRows {
			l.extra = slices.Insert(l.extra, j, e)
			l.extra = l.extra[:min(len(l.extra), maxListedRows)]
		}
	}
}

// errEnoughRows stops a scan that has found what it was looking for.
var errEnoughRows = errors.New("enough rows")

// fetchTargetSides reads the target once more for its side of the listed
// differences: its values of changed rows, the keys of rows only it has.
func (run *contentRun) fetchTargetSides(ctx context.Context, l *listing) {
	t := l.t
	t.listed = l.dumpSide
	want := map[uint64]*rowDiff{}
	for _, d := range l.dumpSide {
		if d.what == changed {
			want[d.keyHash] = d
		}
	}
	extra := map[uint64]*rowDiff{}
	for _, e := range l.extra[:min(len(l.extra), maxListedRows-len(l.dumpSide))] {
		extra[e.key] = &rowDiff{what: onlyInTarget, ord: e.ord}
	}
	if len(want) == 0 && len(extra) == 0 {
		return
	}
	var found []*rowDiff
	enc := newRowEncoder(t.columns, t.kinds, run.seeds)
	err := run.target.ScanTable(ctx, t.result.Name, t.columns, func(values []any) error {
		k, err := enc.keyOfValues(values, t.key)
		if err != nil {
			return err
		}
		d, isChanged := want[k]
		if !isChanged {
			if d = extra[k]; d == nil {
				return nil
			}
		}
		if err := enc.encodeValues(values); err != nil {
			return err
		}
		if isChanged {
			d.target = enc.cells()
			delete(want, k)
		} else {
			d.key = enc.keyText(t.key, t.columns)
			found = append(found, d)
			delete(extra, k)
		}
		if len(want) == 0 && len(extra) == 0 {
			return errEnoughRows
		}
		return nil
	})
	slices.SortFunc(found, func(a, b *rowDiff) int { return cmp.Compare(a.ord, b.ord) })
	t.listed = append(t.listed, found...)
	switch {
	case err == nil, errors.Is(err, errEnoughRows):
	case ctx.Err() != nil:
	default:
		t.listTargetError = err
	}
}
