// Package typemap maps PostgreSQL column types to SQL Server column types
// and converts values into the values that go-mssqldb's bulk copy writes,
// exactly or not at all: from the text of a dump's COPY data
// (Column.ConvertText, Table.ConvertFields) or from the values pgx reads
// from PostgreSQL (Column.Convert, Table.ConvertRow). Both give the same
// value, or the same error, for the same PostgreSQL value. BulkRow is
// ConvertFields for the bulk copy's hot path: nvarchar and nchar values
// come as the UTF-16LE bytes go-mssqldb would send for ConvertFields's
// strings, encoded straight from the COPY field into a reused buffer.
//
// # COPY text
//
// ConvertText reads each type's output text as pg_dump's session writes
// it: DateStyle ISO (BC after the offset), extra_float_digits 3 (shortest
// round-trip floats; 17 significant digits from servers before 12),
// timestamptz at the offset of the dump's time zone (with seconds for
// local mean time, e.g. +05:53:28), bytea in hex or escape format,
// whichever bytea_output the dump had. Text that is not the type's output
// form is an error whatever the rule says, not a value to clamp or null:
// it means a damaged dump or a column of another type. A column mapped to
// a character type takes the output text as it is, except where the
// staging query's ::text cast differed: boolean is true/false, inet has
// its mask, bytea is hex. Other session-dependent text stays as the dump
// has it: timestamptz in the dump's time zone, floats with the digits the
// dump's server wrote.
//
// # Built-in rules
//
//	PostgreSQL                    SQL Server
//	bigint                        bigint
//	integer                       int
//	smallint                      smallint
//	numeric(p,s), p <= 38         decimal(p,s)   (numeric(p,-s): decimal(p+s,0))
//	numeric(p,s), p > 38          error: needs a rule
//	numeric (unconstrained)       error: needs a rule
//	boolean                       bit
//	character varying(n), n<=4000 nvarchar(n)
//	character varying(n), n>4000  nvarchar(max)  (also: no length)
//	character(n), n<=4000         nchar(n)       (n>4000: nvarchar(max))
//	text                          nvarchar(max)
//	json, jsonb                   nvarchar(max)  (PostgreSQL's text form)
//	timestamp(p)                  datetime2(p)   (p defaults to 6: microseconds)
//	timestamptz(p)                datetimeoffset(p), stored at offset +00:00
//	date                          date
//	time(p)                       time(p)        (p defaults to 6)
//	bytea                         varbinary(max)
//	uuid                          uniqueidentifier
//	double precision              float
//	real                          real
//
// Any other type (enums, intervals, arrays, time with time zone ...) needs
// a user rule; a rule to a character type reads the value as PostgreSQL's
// text form.
//
// # Values that do not fit
//
// A value the target type cannot hold exactly is an error that names the
// table, column, primary key and value: timestamps of ±infinity, dates
// before year 1 or after 9999, numerics with more digits than the target's
// precision or scale, NaN, float infinities (SQL Server's float has none),
// text longer than the target's length (counted in UTF-16 code units, as
// SQL Server counts nvarchar), non-ASCII text for varchar/char targets,
// time 24:00:00. A rule's onInvalid chooses instead:
//
//	"error"  the default: stop the load with that error.
//	"null"   store NULL (the column must be nullable).
//	"clamp"  store the nearest value the target holds: ±infinity and
//	         out-of-range dates become 0001-01-01 / 9999-12-31 23:59:59.999999,
//	         numerics are rounded half away from zero to the target's scale
//	         and limited to its largest magnitude, float infinities become
//	         ±max, text and bytes are cut at the target's length. NaN and
//	         text a varchar cannot hold still fail: they have no nearest
//	         value.
//
// # The rules file (--type-map FILE)
//
// A JSON object with two optional members. "types" maps a PostgreSQL type
// to a rule, "columns" maps "table.column" (split at the last dot) to a
// rule. A rule has "to" (a SQL Server type), "onInvalid", or both; what it
// leaves out comes from the less specific rule. Precedence, most specific
// first: column, type with modifiers ("numeric(40,2)", "varchar(8000)"),
// type ("numeric"), built-in. Type names may be written as PostgreSQL
// prints them or by their usual aliases (varchar, timestamptz, int4 ...).
//
//	{
//	  "types": {
//	    "numeric":   {"to": "decimal(38,10)", "onInvalid": "clamp"},
//	    "timestamp": {"onInvalid": "clamp"}
//	  },
//	  "columns": {
//	    "myfirstmodule$order.notes": {"to": "nvarchar(4000)", "onInvalid": "clamp"}
//	  }
//	}
//
// Targets a rule may name: bigint, int, smallint, tinyint, bit,
// decimal(p,s) / numeric(p,s), float, real, nvarchar(n|max), nchar(n),
// varchar(n|max), char(n), varbinary(n|max), binary(n), uniqueidentifier,
// datetime2(n), datetimeoffset(n), date, time(n). A column rule for a
// column that does not exist is an error, so that a typo is not ignored.
package typemap
