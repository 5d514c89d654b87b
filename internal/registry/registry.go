// Package registry maps URL schemes to the code that opens them, so that
// each database target and file store registers itself from its own file
// and no switch statement grows when one is added (golang-migrate's habit).
package registry

import (
	"slices"
	"strings"
	"sync"
)

// Registry holds the openers of one kind of thing, by lower-case scheme.
// It is safe for concurrent use.
type Registry[T any] struct {
	mu      sync.RWMutex
	openers map[string]T
}

// Register makes open handle the given schemes. It is meant for init
// functions; registering a scheme twice is a programming error and panics,
// so two packages can never silently fight over one scheme.
func (r *Registry[T]) Register(open T, schemes ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.openers == nil {
		r.openers = map[string]T{}
	}
	for _, s := range schemes {
		s = strings.ToLower(s)
		if _, dup := r.openers[s]; dup {
			panic("registry: scheme registered twice: " + s)
		}
		r.openers[s] = open
	}
}

// Lookup returns the opener of scheme (case-insensitive).
func (r *Registry[T]) Lookup(scheme string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	open, ok := r.openers[strings.ToLower(scheme)]
	return open, ok
}

// Schemes lists the registered schemes, sorted.
func (r *Registry[T]) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.openers))
	for s := range r.openers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
