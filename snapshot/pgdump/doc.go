// Package pgdump reads PostgreSQL custom-format archives (pg_dump -Fc) in
// pure Go: the header, the table of contents and the table data.
//
// It is the independent source of truth that verification compares a
// migrated database against, so it reads the data exactly as pg_restore
// would and refuses, with a clear message, anything it does not understand:
// archive versions outside 1.12-1.16, other archive formats (tar, directory,
// plain SQL) and unknown compression. Every length in the input is bounded,
// so no input makes it panic or allocate without limit.
//
// The format is defined by PostgreSQL's src/bin/pg_dump/pg_backup_archiver.c
// (header and TOC) and pg_backup_custom.c (data blocks): integers are a sign
// byte followed by IntSize little-endian magnitude bytes, strings are an
// integer length (negative for NULL) followed by the bytes, and each data
// block is a type byte, the owning entry's dump ID and a run of
// length-prefixed chunks of compressed COPY text, ended by a zero length.
//
// The package is also the one reader of the SQL that pg_dump stores in the
// entries, through methods of Entry: a table's columns and their types
// (TableColumns) or its whole CREATE TABLE (TableDefinition), a COPY
// statement's columns (CopyColumns), a sequence's value (SequenceValue) and
// definition (SequenceDefinition, identity columns included), constraints
// (ConstraintDefinition, PrimaryKeyColumns), indexes (IndexDefinition),
// column defaults (DefaultDefinition), types and domains (TypeDefinition),
// and the table an index or constraint belongs to (OwningTable,
// ConstraintName). ParseTypeName and UnqualifyNames read the type names and
// expressions inside those definitions.
package pgdump
