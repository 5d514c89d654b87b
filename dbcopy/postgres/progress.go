package postgres

import (
	"strings"
	"sync"

	"github.com/mxmigrate/mxmigrate/dbcopy"
)

// progressCounter turns pg_restore's verbose lines into item progress. In
// parallel mode pg_restore says when each item finishes; serially it only
// says when one starts, so an item counts as done when the next starts.
type progressCounter struct {
	p        dbcopy.Progress
	parallel bool

	mu      sync.Mutex
	total   int64
	done    int64
	started bool
}

func newProgressCounter(p dbcopy.Progress, phase string, total int64, parallel bool) *progressCounter {
	if p != nil {
		p.Phase(phase, total)
	}
	return &progressCounter{p: p, total: total, parallel: parallel}
}

// serialStarts are the lines with which serial pg_restore starts an item.
var serialStarts = []string{"pg_restore: creating ", "pg_restore: processing data for table ", "pg_restore: executing "}

func (c *progressCounter) line(line string) {
	if c.p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parallel {
		if strings.HasPrefix(line, "pg_restore: finished item ") {
			c.add(1)
		}
		return
	}
	for _, prefix := range serialStarts {
		if strings.HasPrefix(line, prefix) {
			if c.started {
				c.add(1)
			}
			c.started = true
			return
		}
	}
}

// finish counts whatever is left once pg_restore succeeded.
func (c *progressCounter) finish() {
	if c.p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(c.total - c.done)
}

func (c *progressCounter) add(n int64) {
	n = min(n, c.total-c.done)
	if n <= 0 {
		return
	}
	c.done += n
	c.p.Add(n)
}
