package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// tableRef names a table by schema and name, as the catalog spells them.
type tableRef struct {
	schema, name string
}

func (r tableRef) String() string { return r.schema + "." + r.name }

// sql is the quoted, qualified name ("public"."system$filedocument").
func (r tableRef) sql() string { return pgx.Identifier{r.schema, r.name}.Sanitize() }

// countRows counts the rows of each table exactly, up to jobs at a time,
// each worker on a connection of its own.
func (t *Target) countRows(ctx context.Context, tables []tableRef, jobs int) (map[tableRef]int64, error) {
	counts := make(map[tableRef]int64, len(tables))
	if len(tables) == 0 {
		return counts, nil
	}
	var mu sync.Mutex
	work := make(chan tableRef)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(work)
		for _, tb := range tables {
			select {
			case work <- tb:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range max(1, min(jobs, len(tables))) {
		g.Go(func() error {
			conn, err := t.connect(gctx)
			if err != nil {
				return err
			}
			defer closeQuietly(conn)
			for tb := range work {
				var n int64
				if err := conn.QueryRow(gctx, "SELECT count(*) FROM "+tb.sql()).Scan(&n); err != nil {
					return fmt.Errorf("count the rows of %s: %w", tb, err)
				}
				mu.Lock()
				counts[tb] = n
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, interrupted(ctx, err)
	}
	return counts, nil
}
