package pgcatalog

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/mxmigrate/mxmigrate/internal/exitcode"
	"github.com/mxmigrate/mxmigrate/snapshot/pgdump"
)

// visibleSchema is the schema on PostgreSQL's default search_path
// ("$user", public). Read prints names through such a connection, so
// format_type and pg_get_expr leave that schema's names unqualified where
// pg_dump, which runs with an empty search_path, qualifies them.
const visibleSchema = "public"

// ignoredKinds are the kinds of TOC entries that have no part in a
// table copy's schema, and Read does not read either: objects of other
// kinds than tables and sequences, CHECK constraints, triggers, rules,
// comments, grants, data. Any kind neither here nor read by FromArchive
// is an error, so that a pg_dump that writes something new is noticed.
var ignoredKinds = map[string]bool{
	"ACCESS METHOD": true, "ACL": true, "AGGREGATE": true, "BLOB": true, "BLOBS": true,
	"BLOB METADATA": true, "CAST": true, "CHECK CONSTRAINT": true, "COLLATION": true, "COMMENT": true,
	"CONVERSION": true, "DATABASE": true, "DATABASE PROPERTIES": true, "DEFAULT ACL": true,
	"ENCODING": true, "EVENT TRIGGER": true, "EXTENSION": true, "FOREIGN DATA WRAPPER": true,
	"FUNCTION": true, "INDEX ATTACH": true, "LARGE OBJECT": true, "LARGE OBJECTS": true,
	"MATERIALIZED VIEW DATA": true, "OPERATOR": true, "OPERATOR CLASS": true, "OPERATOR FAMILY": true,
	"POLICY": true, "PROCEDURAL LANGUAGE": true, "PROCEDURE": true, "PUBLICATION": true,
	"PUBLICATION TABLE": true, "PUBLICATION TABLES IN SCHEMA": true, "ROW SECURITY": true, "RULE": true,
	"SCHEMA": true, "SEARCHPATH": true, "SECURITY LABEL": true, "SEQUENCE OWNED BY": true, "SERVER": true,
	"SHELL TYPE": true, "STATISTICS": true, "STATISTICS DATA": true, "STDSTRINGS": true,
	"SUBSCRIPTION": true, "SUBSCRIPTION TABLE": true, "TABLE DATA": true,
	"TEXT SEARCH CONFIGURATION": true, "TEXT SEARCH DICTIONARY": true, "TEXT SEARCH PARSER": true,
	"TEXT SEARCH TEMPLATE": true, "TRANSFORM": true, "TRIGGER": true, "USER MAPPING": true,
	// Relations that are not tables: their names are noted, so that
	// their indexes and defaults are passed over too.
	"VIEW": true, "MATERIALIZED VIEW": true, "FOREIGN TABLE": true,
}

// readKinds are the kinds FromArchive reads.
var readKinds = map[string]bool{
	"TABLE": true, "TABLE ATTACH": true, "TYPE": true, "DOMAIN": true, "SEQUENCE": true,
	"SEQUENCE SET": true, "DEFAULT": true, "CONSTRAINT": true, "FK CONSTRAINT": true, "INDEX": true,
}

// FromArchive returns the tables and sequences of schema as the archive
// defines them: the same Schema that Read returns for a database that
// pg_restore restored the archive into, read through a connection with
// the default search_path. schema "" is the dump's own: "public" when it
// has tables there, else the schema of its first table.
//
// Partitions, views and other relations that Read does not list are
// passed over with their indexes and constraints; kinds of entries that
// do not matter to a table copy are listed in ignoredKinds. An entry of
// another kind, a definition that cannot be read, or a table FromArchive
// cannot describe exactly (typed tables, inheritance) is an error naming
// the TOC entry.
func FromArchive(a *pgdump.Archive, schema string) (*Schema, error) {
	if schema == "" {
		schema = dumpSchema(a)
	}
	b := &fromDump{
		schema:     schema,
		types:      map[qualifiedName]*pgdump.TypeDef{},
		relations:  map[qualifiedName]string{},
		partitions: map[qualifiedName]bool{},
		tables:     map[string]*Table{},
		sequences:  map[string]*Sequence{},
	}
	for i := range a.Entries {
		if err := b.learn(&a.Entries[i]); err != nil {
			return nil, err
		}
	}
	// Tables first: the other entries refer to them, whatever their
	// order in the archive.
	for _, pass := range [][]string{{"TABLE"}, {"SEQUENCE", "DEFAULT"}, {"SEQUENCE SET", "CONSTRAINT", "FK CONSTRAINT", "INDEX"}} {
		for i := range a.Entries {
			e := &a.Entries[i]
			if e.Namespace != schema || !contains(pass, e.Desc) {
				continue
			}
			if err := b.read(e); err != nil {
				return nil, err
			}
		}
	}
	s := &Schema{Name: schema, Sequences: []*Sequence{}}
	for _, t := range b.tables {
		sort.Slice(t.Uniques, func(i, j int) bool { return t.Uniques[i].Name < t.Uniques[j].Name })
		sort.Slice(t.ForeignKeys, func(i, j int) bool { return t.ForeignKeys[i].Name < t.ForeignKeys[j].Name })
		sort.Slice(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
		s.Tables = append(s.Tables, t)
	}
	for _, q := range b.sequences {
		s.Sequences = append(s.Sequences, q)
	}
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	sort.Slice(s.Sequences, func(i, j int) bool { return s.Sequences[i].Name < s.Sequences[j].Name })
	return s, nil
}

// dumpSchema is the schema of the dump's tables: "public" when it has
// any (Mendix's), else the schema of its first table, else "public".
func dumpSchema(a *pgdump.Archive) string {
	first := ""
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Desc == "TABLE" && e.Namespace != "" {
			if e.Namespace == visibleSchema {
				return e.Namespace
			}
			if first == "" {
				first = e.Namespace
			}
		}
	}
	return orDefault(first, visibleSchema)
}

type qualifiedName struct{ schema, name string }

type fromDump struct {
	schema string
	// types are the dump's types and domains, of every schema.
	types map[qualifiedName]*pgdump.TypeDef
	// relations are the kinds ("TABLE", "VIEW", ...) of the dump's
	// relations, of every schema; partitions are the tables attached
	// to a partitioned table.
	relations     map[qualifiedName]string
	partitions    map[qualifiedName]bool
	hasExtensions bool

	tables    map[string]*Table
	sequences map[string]*Sequence
}

// learn notes the types and relations of every schema, and rejects
// kinds of entries it does not know.
func (b *fromDump) learn(e *pgdump.Entry) error {
	switch e.Desc {
	case "TYPE", "DOMAIN":
		t, err := e.TypeDefinition()
		if err != nil {
			return err
		}
		schema := orDefault(t.Schema, e.Namespace)
		b.types[qualifiedName{schema, t.Name}] = t
		if t.Kind == 'r' {
			b.types[qualifiedName{orDefault(t.MultirangeSchema, schema), t.Multirange}] = &pgdump.TypeDef{
				Schema: t.MultirangeSchema, Name: t.Multirange, Kind: 'm'}
		}
	case "TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "SEQUENCE":
		b.relations[qualifiedName{e.Namespace, e.Tag}] = e.Desc
	case "TABLE ATTACH":
		// Tagged with the partition's name, in the partition's schema.
		b.partitions[qualifiedName{e.Namespace, e.Tag}] = true
	case "EXTENSION":
		b.hasExtensions = true
	}
	if !readKinds[e.Desc] && !ignoredKinds[e.Desc] {
		return badEntry(e, "unknown kind of entry %q: this pg_dump writes something mxmigrate does not know", e.Desc)
	}
	return nil
}

func (b *fromDump) read(e *pgdump.Entry) error {
	switch e.Desc {
	case "TABLE":
		return b.readTable(e)
	case "SEQUENCE":
		return b.readSequence(e)
	case "SEQUENCE SET":
		q := b.sequences[e.Tag]
		if q == nil {
			return badEntry(e, "sets a sequence the dump does not define")
		}
		_, value, isCalled, err := e.SequenceValue()
		if err != nil {
			return err
		}
		q.LastValue, q.IsCalled = value, isCalled
	case "DEFAULT":
		d, err := e.DefaultDefinition()
		if err != nil {
			return err
		}
		t, err := b.owner(e, d.Schema, d.Table)
		if t == nil {
			return err
		}
		c := t.Column(d.Column)
		if c == nil {
			return badEntry(e, "sets the default of column %q, which table %q does not have", d.Column, d.Table)
		}
		c.Default = pgdump.UnqualifyNames(d.Expr, visibleSchema)
	case "CONSTRAINT", "FK CONSTRAINT":
		return b.readConstraint(e)
	case "INDEX":
		return b.readIndex(e)
	}
	return nil
}

func (b *fromDump) readTable(e *pgdump.Entry) error {
	if b.partitions[qualifiedName{e.Namespace, e.Tag}] {
		return nil // Read lists no partitions
	}
	def, err := e.TableDefinition()
	if err != nil {
		return err
	}
	switch {
	case def.PartitionOf != "":
		return nil
	case def.OfType != "":
		return badEntry(e, "is a typed table (OF %s), whose columns mxmigrate cannot read from the dump", def.OfType)
	case len(def.Inherits) > 0:
		return badEntry(e, "inherits from %v, whose columns mxmigrate cannot merge from the dump", def.Inherits)
	case len(def.OtherConstraints) > 0:
		return badEntry(e, "has a constraint in its CREATE TABLE that pg_dump does not write there: %s", def.OtherConstraints[0])
	case def.Schema != "" && def.Schema != e.Namespace:
		return badEntry(e, "defines a table of schema %q in schema %q", def.Schema, e.Namespace)
	}
	if b.tables[def.Name] != nil {
		return badEntry(e, "defines table %q a second time", def.Name)
	}
	t := &Table{Name: def.Name}
	for _, c := range def.Columns {
		typ, err := b.columnType(e, c.Type)
		if err != nil {
			return err
		}
		col := Column{Name: c.Name, Type: typ, NotNull: c.NotNull, Identity: c.Identity, Generated: c.Generated}
		if c.Default != "" {
			col.Default = pgdump.UnqualifyNames(c.Default, visibleSchema)
		}
		t.Columns = append(t.Columns, col)
	}
	b.tables[t.Name] = t
	return nil
}

// columnType describes a column's type as Read does: format_type's text,
// the type without modifiers (a domain's base type's), the modifiers and
// the kind of type.
func (b *fromDump) columnType(e *pgdump.Entry, text string) (Type, error) {
	name, ok := pgdump.ParseTypeName(text)
	if !ok {
		return Type{}, badEntry(e, "type %q cannot be read", text)
	}
	display := pgdump.UnqualifyNames(text, visibleSchema)
	if name.ArrayDims > 0 { // an array type: typtype 'b', no modifiers decoded
		return newType(display, unmodified(name), -1, 'b'), nil
	}
	if name.Schema == "" {
		typmod, err := typmodOf(name)
		if err != nil {
			return Type{}, badEntry(e, "type %q: %v", text, err)
		}
		return newType(display, unmodified(name), typmod, builtinKind(name.Name)), nil
	}
	unquoted := pgdump.UnqualifiedName(name.Name)
	if def := b.types[qualifiedName{name.Schema, unquoted}]; def != nil {
		if def.Kind != 'd' {
			return newType(display, unmodified(name), -1, def.Kind), nil
		}
		base, ok := pgdump.ParseTypeName(def.BaseType)
		if !ok {
			return Type{}, badEntry(e, "type %q of domain %s cannot be read", def.BaseType, text)
		}
		typmod := int32(-1)
		if base.ArrayDims == 0 && base.Schema == "" {
			var err error
			if typmod, err = typmodOf(base); err != nil {
				return Type{}, badEntry(e, "type %q of domain %s: %v", def.BaseType, text, err)
			}
		}
		return newType(display, unmodified(base), typmod, 'd'), nil
	}
	if _, ok := b.relations[qualifiedName{name.Schema, unquoted}]; ok {
		return newType(display, unmodified(name), -1, 'c'), nil // a table's row type
	}
	if b.hasExtensions {
		// Types of extensions (citext, hstore, geometry) are base types.
		return newType(display, unmodified(name), -1, 'b'), nil
	}
	return Type{}, badEntry(e, "type %q is not defined in the dump", text)
}

// unmodified is format_type(type, NULL): the type without modifiers, as
// Read's connection prints it. A character type without a length is
// "bpchar" with one (-1) and "character" without.
func unmodified(t pgdump.TypeName) string {
	if t.Schema == "" && t.Name == "bpchar" && t.ArrayDims == 0 {
		return "character"
	}
	return pgdump.UnqualifyNames(t.Unmodified(), visibleSchema)
}

// builtinKind is the typtype of a pg_catalog type.
func builtinKind(name string) byte {
	switch name {
	case "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange":
		return 'r'
	case "int4multirange", "int8multirange", "nummultirange", "tsmultirange", "tstzmultirange", "datemultirange":
		return 'm'
	}
	return 'b'
}

// typmodOf encodes a built-in type's modifiers as atttypmod, the way the
// type's typmodin function does.
func typmodOf(t pgdump.TypeName) (int32, error) {
	mods := make([]int32, len(t.Modifiers))
	for i, m := range t.Modifiers {
		v, err := strconv.ParseInt(m, 10, 32)
		if err != nil {
			return -1, fmt.Errorf("modifier %q is not a number", m)
		}
		mods[i] = int32(v)
	}
	switch t.Name {
	case "numeric":
		switch len(mods) {
		case 0:
			return -1, nil
		case 1:
			return mods[0]<<16 + varHeaderSize, nil
		case 2:
			return (mods[0]<<16 | mods[1]&0x7ff) + varHeaderSize, nil
		}
	case "character varying", "character":
		switch len(mods) {
		case 0:
			return -1, nil
		case 1:
			return mods[0] + varHeaderSize, nil
		}
	case "bit", "bit varying",
		"timestamp without time zone", "timestamp with time zone",
		"time without time zone", "time with time zone":
		switch len(mods) {
		case 0:
			return -1, nil
		case 1:
			return mods[0], nil
		}
	case "interval":
		// The low 16 bits hold the precision, 0xffff when not given;
		// the fields above them only matter to interval's own output.
		switch {
		case len(mods) == 1:
			return 0x7fff<<16 | mods[0]&0xffff, nil
		case len(mods) == 0 && t.Fields != "":
			return 0x7fff<<16 | 0xffff, nil
		case len(mods) == 0:
			return -1, nil
		}
	default:
		return -1, nil
	}
	return -1, fmt.Errorf("%d modifiers are more than %s takes", len(mods), t.Name)
}

func (b *fromDump) readSequence(e *pgdump.Entry) error {
	def, err := e.SequenceDefinition()
	if err != nil {
		return err
	}
	if def.Identity != "" {
		t, err := b.owner(e, def.IdentitySchema, def.IdentityTable)
		if err != nil {
			return err
		}
		dataType := ""
		if t != nil {
			c := t.Column(def.IdentityColumn)
			if c == nil {
				return badEntry(e, "makes column %q an identity, which table %q does not have", def.IdentityColumn, def.IdentityTable)
			}
			c.Identity = def.Identity
			dataType = c.Type.Base
		}
		if dataType == "" {
			return badEntry(e, "is the identity sequence of a column whose type the dump does not give")
		}
		if err := def.SetDataType(dataType); err != nil {
			return badEntry(e, "%v", err)
		}
	}
	if b.sequences[def.Name] != nil {
		return badEntry(e, "defines sequence %q a second time", def.Name)
	}
	// A sequence that no SEQUENCE SET sets is as CREATE SEQUENCE left it.
	b.sequences[def.Name] = &Sequence{
		Name: def.Name, DataType: def.DataType, Start: def.Start, Increment: def.Increment,
		Min: def.Min, Max: def.Max, Cycle: def.Cycle, LastValue: def.Start,
	}
	return nil
}

// owner returns the table of the schema that an index, constraint or
// default belongs to. It is nil with no error when the relation is one
// that Read does not list (a partition, a view, a table of another
// schema), and an error when the dump does not define it.
func (b *fromDump) owner(e *pgdump.Entry, schema, table string) (*Table, error) {
	schema = orDefault(schema, e.Namespace)
	if schema == b.schema {
		if t := b.tables[table]; t != nil {
			return t, nil
		}
	}
	key := qualifiedName{schema, table}
	if _, known := b.relations[key]; known || b.partitions[key] {
		return nil, nil
	}
	return nil, badEntry(e, "belongs to %s.%s, which the dump does not define", schema, table)
}

func (b *fromDump) readConstraint(e *pgdump.Entry) error {
	c, err := e.ConstraintDefinition()
	if err != nil {
		return err
	}
	t, err := b.owner(e, c.Schema, c.Table)
	if t == nil {
		return err
	}
	switch c.Kind {
	case 'p':
		if t.PrimaryKey != nil {
			return badEntry(e, "is a second primary key of table %q", t.Name)
		}
		t.PrimaryKey = &Constraint{Name: c.Name, Columns: c.Columns}
	case 'u':
		t.Uniques = append(t.Uniques, Constraint{Name: c.Name, Columns: c.Columns, NullsNotDistinct: c.NullsNotDistinct})
	case 'f':
		t.ForeignKeys = append(t.ForeignKeys, ForeignKey{
			Name: c.Name, Columns: c.Columns, RefSchema: orDefault(c.RefSchema, e.Namespace),
			RefTable: c.RefTable, RefColumns: c.RefColumns,
			OnDelete: actionWithoutColumns(c.OnDelete), OnUpdate: actionWithoutColumns(c.OnUpdate),
		})
	}
	// CHECK and exclusion constraints are not read, as by Read.
	return nil
}

// actionWithoutColumns drops the column list of SET NULL (a, b), which
// Read's action names do not have.
func actionWithoutColumns(action string) string {
	for _, a := range []string{"SET NULL", "SET DEFAULT"} {
		if len(action) > len(a) && action[:len(a)] == a {
			return a
		}
	}
	return action
}

func (b *fromDump) readIndex(e *pgdump.Entry) error {
	d, err := e.IndexDefinition()
	if err != nil {
		return err
	}
	t, err := b.owner(e, d.Schema, d.Table)
	if t == nil {
		return err
	}
	tail := d.StatementTail()
	idx := Index{
		Name: d.Name, Unique: d.Unique, Method: d.Method, Include: d.Include, NullsNotDistinct: d.NullsNotDistinct,
		Definition: d.Statement[:len(d.Statement)-len(tail)] + pgdump.UnqualifyNames(tail, visibleSchema),
	}
	expression := false
	for _, c := range d.Columns {
		expression = expression || c.Name == ""
		idx.Columns = append(idx.Columns, IndexColumn{Name: c.Name, Descending: c.Descending, NullsFirst: c.NullsFirst})
	}
	switch {
	case d.Where != "":
		idx.NotConvertible = "partial index"
	case expression:
		idx.NotConvertible = "expression index"
	case d.Method != "btree":
		idx.NotConvertible = d.Method + " index"
	}
	t.Indexes = append(t.Indexes, idx)
	return nil
}

func badEntry(e *pgdump.Entry, format string, args ...any) error {
	return exitcode.With(exitcode.BadInput, fmt.Errorf("%s: %s", e, fmt.Sprintf(format, args...)))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
