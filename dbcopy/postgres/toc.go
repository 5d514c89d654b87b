package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// tocItem is one line of `pg_restore -l`: "ID; TABLEOID OID DESC SCHEMA TAG
// OWNER", where DESC may have several words (TABLE DATA, FK CONSTRAINT) and
// TAG may too (a constraint's is "table name").
type tocItem struct {
	line   string
	id     int
	desc   string
	schema string
	tag    string
}

// multiWordDescs are the item kinds whose names have spaces, longest first
// so that "MATERIALIZED VIEW DATA" wins over "MATERIALIZED VIEW".
var multiWordDescs = []string{
	"PUBLICATION TABLES IN SCHEMA", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
	"MATERIALIZED VIEW DATA", "TEXT SEARCH TEMPLATE", "FOREIGN DATA WRAPPER",
	"TEXT SEARCH PARSER", "PROCEDURAL LANGUAGE", "DATABASE PROPERTIES",
	"SEQUENCE OWNED BY", "PUBLICATION TABLE", "MATERIALIZED VIEW", "CHECK CONSTRAINT",
	"OPERATOR FAMILY", "OPERATOR CLASS", "FOREIGN SERVER", "ACCESS METHOD",
	"BLOB METADATA", "EVENT TRIGGER", "FK CONSTRAINT", "FOREIGN TABLE", "INDEX ATTACH",
	"LARGE OBJECT", "SEQUENCE SET", "TABLE ATTACH", "USER MAPPING", "ROW SECURITY",
	"DEFAULT ACL", "SHELL TYPE", "TABLE DATA",
}

// parseTOCLine parses one list line; ok is false for comments and blanks.
func parseTOCLine(line string) (item tocItem, ok bool, err error) {
	// Keep trailing spaces: an empty owner leaves the line ending in one.
	text := strings.TrimLeft(strings.TrimRight(line, "\r\n"), " \t")
	if strings.TrimSpace(text) == "" || strings.HasPrefix(text, ";") {
		return tocItem{}, false, nil
	}
	idText, rest, found := strings.Cut(text, ";")
	id, convErr := strconv.Atoi(strings.TrimSpace(idText))
	if !found || convErr != nil {
		return tocItem{}, false, fmt.Errorf("unexpected pg_restore -l line %q", line)
	}
	// Skip the table OID and the object OID.
	fields := strings.SplitN(strings.TrimLeft(rest, " "), " ", 3)
	if len(fields) < 3 {
		return tocItem{}, false, fmt.Errorf("unexpected pg_restore -l line %q", line)
	}
	rest = fields[2]
	item = tocItem{line: line, id: id}
	for _, d := range multiWordDescs {
		if strings.HasPrefix(rest, d+" ") {
			item.desc, rest = d, rest[len(d)+1:]
			break
		}
	}
	if item.desc == "" {
		item.desc, rest, _ = strings.Cut(rest, " ")
	}
	// rest is "SCHEMA TAG OWNER"; the owner may be empty, the tag may have
	// spaces, the schema has none in any dump we read.
	item.schema, rest, _ = strings.Cut(rest, " ")
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		item.tag = rest[:i]
	} else {
		item.tag = rest
	}
	return item, true, nil
}

// tocList is one section of the archive's table of contents.
type tocList struct {
	lines []string  // every line, comments included, in order
	items []tocItem // the items among them
}

func parseTOC(text []byte) (*tocList, error) {
	l := &tocList{}
	for _, line := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		l.lines = append(l.lines, line)
		item, ok, err := parseTOCLine(line)
		if err != nil {
			return nil, err
		}
		if ok {
			l.items = append(l.items, item)
		}
	}
	return l, nil
}

// render writes the list with every item for which keep is false commented
// out, as pg_restore -L expects, and says how many items remain.
func (l *tocList) render(keep func(tocItem) bool) (text []byte, kept int) {
	keepID := map[int]bool{}
	for _, it := range l.items {
		if keep(it) {
			keepID[it.id] = true
			kept++
		}
	}
	var b bytes.Buffer
	for _, line := range l.lines {
		item, ok, _ := parseTOCLine(line)
		if ok && !keepID[item.id] {
			b.WriteString(";")
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.Bytes(), kept
}

// readSection lists the items of one archive section (pre-data, data or
// post-data) with `pg_restore -l --section`.
func readSection(ctx context.Context, tool restoreTool, dump, section string) (*tocList, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, tool.path, "-l", "--section="+section, dump)
	cmd.Stdout = &out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("pg_restore -l %s: %w: %s", dump, err, strings.TrimSpace(stderr.String()))
	}
	return parseTOC(out.Bytes())
}

// writeList puts a list file for pg_restore -L in dir, readable by us only.
func writeList(dir, section string, text []byte) (path string, err error) {
	f, err := os.CreateTemp(dir, "mxmigrate-"+section+"-*.list")
	if err != nil {
		return "", fmt.Errorf("write the pg_restore list: %w", err)
	}
	if _, err := f.Write(text); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write the pg_restore list: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write the pg_restore list: %w", err)
	}
	return f.Name(), nil
}
