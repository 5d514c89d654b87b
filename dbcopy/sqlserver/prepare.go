package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// prepared is the work done before anything is written to the target:
// the dump's schema, the plan and the collation check. The archive stays
// open for the copy.
type prepared struct {
	archive *pgdump.ArchiveFile
	catalog *pgcatalog.Schema
	// data is each table's TABLE DATA entry; dataSize its (compressed)
	// size in the dump, which orders the copy.
	data       map[string]*pgdump.Entry
	dataSize   map[string]int64
	plan       *loadPlan
	collation  collation
	collisions []collision
}

// prepare reads the dump's schema and checks it against the target, once
// per target. It writes nothing and starts nothing.
func (t *target) prepare(ctx context.Context, src *dbcopy.Source, opts dbcopy.Options) (*prepared, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prepared != nil {
		return t.prepared, nil
	}
	mapper, err := typemap.Load(opts.TypeMapFile)
	if err != nil {
		return nil, err
	}
	archive, err := pgdump.Open(src.DumpPath)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("open the dump: %w", err))
	}
	p, err := t.check(ctx, archive, src, mapper)
	if err != nil {
		archive.Close()
		return nil, err
	}
	t.prepared = p
	return p, nil
}

func (t *target) check(ctx context.Context, archive *pgdump.ArchiveFile, src *dbcopy.Source, mapper *typemap.Mapper) (*prepared, error) {
	schema := src.Schema
	if schema == "" {
		schema = "public"
	}
	catalog, err := pgcatalog.FromArchive(archive.Archive, schema)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("read the dump's schema: %w", err))
	}
	p := &prepared{archive: archive, catalog: catalog}
	if err := p.indexData(src.DumpPath, schema); err != nil {
		return nil, err
	}
	p.plan = newPlan(t.schema, catalog, mapper)
	for _, change := range p.plan.ActionChanges {
		t.log.Warn("foreign key action changed for SQL Server", "change", change)
	}
	name, err := targetCollation(ctx, t.db)
	if err != nil {
		return nil, err
	}
	p.collation = parseCollation(name)
	if len(p.plan.Problems) > 0 {
		return p, nil // the keys may change once the types are fixed
	}
	if p.collisions, err = p.scanCollisions(ctx, keyChecks(p.plan)); err != nil {
		return nil, err
	}
	t.log.Info("checked unique keys against the target collation", "collation", name, "collisions", len(p.collisions))
	return p, nil
}

// indexData finds each table's TABLE DATA entry and the size of its data
// block: the distance to the next block (or the end of the file).
func (p *prepared) indexData(path, schema string) error {
	p.data = map[string]*pgdump.Entry{}
	p.dataSize = map[string]int64{}
	var offsets []int64
	for i := range p.archive.Entries {
		e := &p.archive.Entries[i]
		if e.HasDataOffset {
			offsets = append(offsets, e.DataOffset)
		}
		if e.Desc != "TABLE DATA" || e.Namespace != schema {
			continue
		}
		if other, dup := p.data[e.Tag]; dup {
			return exitcode.With(exitcode.BadInput, fmt.Errorf("the dump holds the data of table %q twice (%s and %s)", e.Tag, other, e))
		}
		p.data[e.Tag] = e
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
	for name, e := range p.data {
		if !e.HasDataOffset {
			continue // written to a pipe: no sizes; the order is by name
		}
		next := info.Size()
		if i := sort.Search(len(offsets), func(i int) bool { return offsets[i] > e.DataOffset }); i < len(offsets) {
			next = offsets[i]
		}
		p.dataSize[name] = next - e.DataOffset
	}
	return nil
}

func (p *prepared) close() error {
	if p == nil || p.archive == nil {
		return nil
	}
	return p.archive.Close()
}

func targetCollation(ctx context.Context, db *sql.DB) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, `SELECT CONVERT(nvarchar(128), DATABASEPROPERTYEX(DB_NAME(), 'Collation'))`).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("read the target database's collation: %w", err)
	}
	return name, nil
}
