package sqlserver

import (
	"fmt"
	"sort"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// SQL Server refuses a foreign key whose referential action would give a
// row more than one cascade path or a cycle (error 1785), which PostgreSQL
// accepts. Mendix databases hit it everywhere: nearly every entity has two
// SET NULL references to system$user. fkActions decides, before anything
// is written, which actions SQL Server takes as they are; the others
// become NO ACTION (the Mendix runtime carries out delete behaviour
// itself; the database keeps referential integrity).

// fkRef names a foreign key by its table.
type fkRef struct {
	Table, Name string
}

// fkDecision is a foreign key's actions as they will be created.
type fkDecision struct {
	OnDelete, OnUpdate string
	// Changes describe each action turned into NO ACTION, for the plan,
	// the log and the report.
	Changes []string
}

// cascades reports whether an action propagates to the referencing rows:
// SQL Server counts SET NULL and SET DEFAULT as cascading like CASCADE.
func cascades(action string) bool {
	switch action {
	case "CASCADE", "SET NULL", "SET DEFAULT":
		return true
	}
	return false
}

// cascadeGraph holds the cascading actions accepted so far: an edge from
// the referenced table to the referencing one, once per foreign key
// (two keys between the same tables are two paths).
type cascadeGraph map[string][]string

func (g cascadeGraph) reachable(from string) map[string]bool {
	seen := map[string]bool{from: true}
	stack := []string{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, next := range g[n] {
			if !seen[next] {
				seen[next] = true
				stack = append(stack, next)
			}
		}
	}
	return seen
}

// accepts reports whether SQL Server takes a cascading action from parent
// to child given the edges already accepted, and why not. The edge is
// refused when it closes a cycle (a self-reference is one), or when a
// table that reaches parent already reaches child or a table below it:
// the new edge would be a second path.
func (g cascadeGraph) accepts(parent, child string) (bool, string) {
	if parent == child {
		return false, "it references its own table (a cycle)"
	}
	below := g.reachable(child)
	if below[parent] {
		return false, "it would close a cycle of cascading actions"
	}
	for top := range g.ancestors(parent) {
		for n := range g.reachable(top) {
			if below[n] {
				return false, fmt.Sprintf("table %q would be reached by more than one cascade path", n)
			}
		}
	}
	return true, ""
}

// ancestors are the tables that reach t, t included.
func (g cascadeGraph) ancestors(t string) map[string]bool {
	reverse := map[string][]string{}
	for from, tos := range g {
		for _, to := range tos {
			reverse[to] = append(reverse[to], from)
		}
	}
	return cascadeGraph(reverse).reachable(t)
}

// fkActions decides every foreign key of schema. Keys are taken in order
// of name (then table), so the same dump always gives the same decision,
// and each is judged against the cascading keys accepted before it, as
// SQL Server would judge them created in that order. Delete and update
// actions form separate graphs, as SQL Server checks them. Keys left out
// of the plan (skip) are not considered.
func fkActions(tables []*pgcatalog.Table, skip func(table string, fk pgcatalog.ForeignKey) bool) map[fkRef]fkDecision {
	type keyed struct {
		table string
		fk    pgcatalog.ForeignKey
	}
	var all []keyed
	for _, t := range tables {
		for _, fk := range t.ForeignKeys {
			if skip == nil || !skip(t.Name, fk) {
				all = append(all, keyed{t.Name, fk})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].fk.Name != all[j].fk.Name {
			return all[i].fk.Name < all[j].fk.Name
		}
		return all[i].table < all[j].table
	})
	deletes, updates := cascadeGraph{}, cascadeGraph{}
	out := map[fkRef]fkDecision{}
	for _, k := range all {
		d := fkDecision{OnDelete: k.fk.OnDelete, OnUpdate: k.fk.OnUpdate}
		decide := func(g cascadeGraph, action *string, what string) {
			if !cascades(*action) {
				return
			}
			ok, why := g.accepts(k.fk.RefTable, k.table)
			if ok {
				g[k.fk.RefTable] = append(g[k.fk.RefTable], k.table)
				return
			}
			d.Changes = append(d.Changes, fmt.Sprintf("table %q foreign key %q: ON %s %s becomes NO ACTION, as SQL Server refuses it: %s (the Mendix runtime applies delete behaviour itself)",
				k.table, k.fk.Name, what, *action, why))
			*action = "NO ACTION"
		}
		decide(deletes, &d.OnDelete, "DELETE")
		decide(updates, &d.OnUpdate, "UPDATE")
		out[fkRef{k.table, k.fk.Name}] = d
	}
	return out
}
