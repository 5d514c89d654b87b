package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// describeDump turns the archive's header and table of contents into a
// dbcopy.Source (without row counts: see countRows).
func describeDump(a *pgdump.Archive, dumpPath string) *dbcopy.Source {
	src := &dbcopy.Source{
		DumpPath:        dumpPath,
		Fingerprint:     a.Fingerprint(),
		ArchiveVersion:  a.Header.Version(),
		MinRestoreMajor: a.Header.MinRestoreMajor(),
		ServerVersion:   a.Header.ServerVersion,
		DumpVersion:     a.Header.DumpVersion,
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		if src.Schema == "" && e.Desc == "TABLE" {
			src.Schema = e.Namespace
		}
		switch e.Desc {
		case "TABLE":
			src.Tables = append(src.Tables, dbcopy.SourceTable{Name: e.Tag, Rows: -1})
		case "SEQUENCE SET":
			name, value, isCalled, err := e.SequenceValue()
			if err == nil {
				src.Sequences = append(src.Sequences, dbcopy.SourceSequence{Name: unqualified(name), Value: value, IsCalled: isCalled})
			}
		case "INDEX":
			src.Indexes = append(src.Indexes, dbcopy.SourceObject{Kind: e.Desc, Name: e.Tag, Table: tableOf(e.Defn, " ON ")})
		case "CONSTRAINT", "FK CONSTRAINT":
			table := tableOf(e.Defn, "ALTER TABLE ONLY ")
			if table == "" {
				table = tableOf(e.Defn, "ALTER TABLE ")
			}
			name := strings.TrimPrefix(e.Tag, table+" ")
			src.Constraints = append(src.Constraints, dbcopy.SourceObject{Kind: e.Desc, Name: name, Table: table})
		}
	}
	if src.Schema == "" {
		src.Schema = "public"
	}
	return src
}

// countRows counts every table's rows in the dump's own data, in one
// sequential pass over the archive at path.
func countRows(ctx context.Context, path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return countRowsFrom(ctx, f)
}

// countRowsFrom counts from a stream holding a whole archive.
func countRowsFrom(ctx context.Context, r io.Reader) (map[string]int64, error) {
	a, err := pgdump.ReadTOC(r)
	if err != nil {
		return nil, err
	}
	byID, err := a.CountAllRows(ctx, r)
	if err != nil {
		return nil, err
	}
	return rowsByTable(a, byID), nil
}

// withCounts returns a copy of src with the row counts filled in.
func withCounts(src *dbcopy.Source, counts map[string]int64) (*dbcopy.Source, error) {
	c := *src
	c.Tables = make([]dbcopy.SourceTable, len(src.Tables))
	for i, t := range src.Tables {
		n, ok := counts[t.Name]
		if !ok {
			return nil, fmt.Errorf("table %s: no row count from the dump", t.Name)
		}
		c.Tables[i] = dbcopy.SourceTable{Name: t.Name, Rows: n}
	}
	return &c, nil
}

// tableOf finds the table name after marker in a statement such as
// `CREATE INDEX x ON public."a$b" USING btree (c)` or `ALTER TABLE ONLY
// public."a$b" ADD CONSTRAINT ...`, unquoting it.
func tableOf(stmt, marker string) string {
	i := strings.Index(stmt, marker)
	if i < 0 {
		return ""
	}
	rest := stmt[i+len(marker):]
	var parts []string
	for {
		ident, tail, ok := readIdent(rest)
		if !ok {
			break
		}
		parts = append(parts, ident)
		if !strings.HasPrefix(tail, ".") {
			break
		}
		rest = tail[1:]
	}
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1]
}

// readIdent reads one SQL identifier, quoted ("a""b") or bare.
func readIdent(s string) (ident, rest string, ok bool) {
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				return b.String(), s[i+1:], true
			}
			b.WriteByte(s[i])
		}
		return "", s, false
	}
	end := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127)
	})
	if end == 0 {
		return "", s, false
	}
	if end < 0 {
		end = len(s)
	}
	return s[:end], s[end:], true
}

// unqualified strips a schema from "public.x" or `public."x$y"`.
func unqualified(name string) string {
	rest := name
	last := name
	for {
		ident, tail, ok := readIdent(rest)
		if !ok {
			return last
		}
		last = ident
		if !strings.HasPrefix(tail, ".") {
			return last
		}
		rest = tail[1:]
	}
}
