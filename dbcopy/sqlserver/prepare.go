package sqlserver

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/typemap"
)

// prepared is the work done before anything is written to the target:
// the staging restore, its catalog, the plan and the collation check.
type prepared struct {
	stage      *staging
	catalog    *pgcatalog.Schema
	plan       *loadPlan
	collation  collation
	collisions []collision
}

// prepare restores the staging database and checks what it holds against
// the target, once per target.
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
	stage, err := openStaging(ctx, src, opts, jobs(opts), t.log)
	if err != nil {
		return nil, err
	}
	p, err := t.check(ctx, stage, mapper)
	if err != nil {
		stage.close(context.Background(), false)
		return nil, err
	}
	t.prepared = p
	return p, nil
}

func (t *target) check(ctx context.Context, stage *staging, mapper *typemap.Mapper) (*prepared, error) {
	conn, err := stage.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	catalog, err := pgcatalog.Read(ctx, conn, stage.schema)
	if err != nil {
		return nil, err
	}
	plan := newPlan(t.schema, catalog, mapper)
	name, err := targetCollation(ctx, t.db)
	if err != nil {
		return nil, err
	}
	p := &prepared{stage: stage, catalog: catalog, plan: plan, collation: parseCollation(name)}
	if len(plan.Problems) > 0 {
		return p, nil // the keys may change once the types are fixed
	}
	for _, k := range keyChecks(plan) {
		found, err := scanCollisions(ctx, conn, stage.schema, p.collation, k)
		if err != nil {
			return nil, err
		}
		p.collisions = append(p.collisions, found...)
	}
	t.log.Info("checked unique keys against the target collation", "collation", name, "collisions", len(p.collisions))
	return p, nil
}

func targetCollation(ctx context.Context, db *sql.DB) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, `SELECT CONVERT(nvarchar(128), DATABASEPROPERTYEX(DB_NAME(), 'Collation'))`).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("read the target database's collation: %w", err)
	}
	return name, nil
}
