package pgdump

import (
	"fmt"
	"strconv"
)

// Section is the part of a restore a TOC entry belongs to (teSection in
// pg_backup.h; the values are the archive's own).
type Section int

const (
	SectionNone     Section = 1 // comments, ACLs: anywhere
	SectionPreData  Section = 2 // tables, sequences, types, functions
	SectionData     Section = 3 // table data, sequence values, large objects
	SectionPostData Section = 4 // indexes, constraints, triggers
)

func (s Section) String() string {
	switch s {
	case SectionNone:
		return "none"
	case SectionPreData:
		return "pre-data"
	case SectionData:
		return "data"
	case SectionPostData:
		return "post-data"
	default:
		return fmt.Sprintf("Section(%d)", int(s))
	}
}

// Entry is one item of the archive's table of contents.
type Entry struct {
	// DumpID identifies the entry within the archive; data blocks and
	// dependencies refer to it.
	DumpID int
	// HadDumper is true when pg_dump had a data dumper for the entry,
	// i.e. the entry has a data block (TABLE DATA, BLOBS).
	HadDumper bool
	// TableOID and OID are the catalog identity of the dumped object, as
	// decimal strings ("0" when there is none).
	TableOID, OID string
	// Tag is the object's name, e.g. the table name for TABLE and TABLE
	// DATA entries.
	Tag string
	// Desc is the kind of entry: "TABLE", "TABLE DATA", "SEQUENCE",
	// "SEQUENCE SET", "INDEX", "CONSTRAINT", "FK CONSTRAINT", "BLOBS", ...
	Desc    string
	Section Section
	// Defn creates the object; DropStmt drops it; CopyStmt is the COPY
	// ... FROM stdin; statement that loads a TABLE DATA entry's data.
	Defn, DropStmt, CopyStmt string
	Namespace                string // the schema, "" when not in one
	Tablespace               string
	TableAM                  string // table access method (archive 1.14+)
	Owner                    string
	// RelKind is the relation kind of a TABLE entry ('r', 'p', ...) in
	// archives of version 1.16 and later, 0 otherwise.
	RelKind byte
	// Dependencies are the dump IDs of the entries this one depends on.
	Dependencies []int
	// DataOffset is where the entry's data block starts in the archive.
	// HasDataOffset is false when pg_dump wrote to a pipe and could not
	// go back to record it; the block must then be found by scanning.
	DataOffset    int64
	HasDataOffset bool

	// dataState is the K_OFFSET_* flag: whether the entry has a data
	// block at all.
	dataState byte
}

// hasData reports whether the archive holds a data block for the entry.
func (e *Entry) hasData() bool { return e.dataState != offsetNoData }

// String names the entry for messages, e.g.
// `TOC entry 3353 (TABLE DATA public.myfirstmodule$order)`.
func (e *Entry) String() string {
	name := e.Tag
	if e.Namespace != "" {
		name = e.Namespace + "." + e.Tag
	}
	return fmt.Sprintf("TOC entry %d (%s %s)", e.DumpID, e.Desc, name)
}

// readTOC reads the table of contents that follows the header (ReadToc
// plus the custom format's _ReadExtraToc).
func readTOC(d *decoder, h Header) ([]Entry, error) {
	at := d.off
	count, err := d.readInt("the number of TOC entries")
	if err != nil {
		return nil, err
	}
	if count < 0 || count > maxEntries {
		return nil, malformed(at, "TOC entry count %d is not between 0 and %d", count, maxEntries)
	}
	// Grow as entries really arrive: the count itself is not trusted.
	entries := make([]Entry, 0, min(count, 1024))
	for i := range int(count) {
		var e Entry
		if err := readEntry(d, h, &e); err != nil {
			return nil, fmt.Errorf("TOC entry #%d of %d: %w", i+1, count, err)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func readEntry(d *decoder, h Header, e *Entry) error {
	var err error
	at := d.off
	if e.DumpID, err = d.readInt32("the dump ID"); err != nil {
		return err
	}
	if e.DumpID <= 0 {
		return malformed(at, "dump ID %d is not positive (corrupt TOC)", e.DumpID)
	}
	hadDumper, err := d.readInt("the had-dumper flag")
	if err != nil {
		return err
	}
	e.HadDumper = hadDumper != 0

	str := func(dst *string, what string) {
		if err == nil {
			*dst, _, err = d.readStr(what)
		}
	}
	str(&e.TableOID, "the table OID")
	str(&e.OID, "the OID")
	str(&e.Tag, "the tag")
	str(&e.Desc, "the description")
	if err != nil {
		return err
	}
	at = d.off
	section, err := d.readInt32("the section")
	if err != nil {
		return err
	}
	e.Section = Section(section)
	if e.Section < SectionNone || e.Section > SectionPostData {
		return malformed(at, "dump ID %d: unknown section %d", e.DumpID, section)
	}
	str(&e.Defn, "the definition")
	str(&e.DropStmt, "the drop statement")
	str(&e.CopyStmt, "the COPY statement")
	str(&e.Namespace, "the namespace")
	str(&e.Tablespace, "the tablespace")
	if h.atLeast(14) {
		str(&e.TableAM, "the table access method")
	}
	if err != nil {
		return err
	}
	if h.atLeast(16) {
		at = d.off
		kind, err := d.readInt("the relation kind")
		if err != nil {
			return err
		}
		if kind < 0 || kind > 255 {
			return malformed(at, "dump ID %d: relation kind %d is not a character", e.DumpID, kind)
		}
		e.RelKind = byte(kind)
	}
	str(&e.Owner, "the owner")
	// The obsolete WITH OIDS flag: "true" or "false".
	var withOIDs string
	str(&withOIDs, "the WITH OIDS flag")
	if err != nil {
		return err
	}
	if e.Dependencies, err = readDependencies(d, e.DumpID); err != nil {
		return err
	}
	flag, pos, err := d.readOffset("the data offset")
	if err != nil {
		return err
	}
	e.dataState = flag
	if flag == offsetPosSet {
		e.DataOffset, e.HasDataOffset = pos, true
	}
	return nil
}

// readDependencies reads the list of dependency dump IDs, written as
// decimal strings and ended by a NULL string.
func readDependencies(d *decoder, dumpID int) ([]int, error) {
	var deps []int
	for {
		at := d.off
		s, null, err := d.readStr("a dependency")
		if err != nil {
			return nil, err
		}
		if null {
			return deps, nil
		}
		if len(deps) >= maxDependencies {
			return nil, malformed(at, "dump ID %d has more than %d dependencies", dumpID, maxDependencies)
		}
		id, err := strconv.Atoi(s)
		if err != nil || id <= 0 {
			return nil, malformed(at, "dump ID %d: dependency %q is not a dump ID", dumpID, s)
		}
		deps = append(deps, id)
	}
}
