package typemap

import (
	"fmt"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
)

// sourceKind groups PostgreSQL types whose values pgx decodes alike.
type sourceKind int

const (
	srcOther sourceKind = iota // read as text: enums, intervals, arrays ...
	srcInt
	srcFloat
	srcNumeric
	srcBool
	srcText
	srcBytes
	srcUUID
	srcTimestamp
	srcTimestampTZ
	srcDate
	srcTime
	srcJSON
	srcInet // inet and cidr: read as text, but ::text differs from the output
)

var sourceKinds = map[string]sourceKind{
	"bigint":                      srcInt,
	"integer":                     srcInt,
	"smallint":                    srcInt,
	"double precision":            srcFloat,
	"real":                        srcFloat,
	"numeric":                     srcNumeric,
	"boolean":                     srcBool,
	"character varying":           srcText,
	"character":                   srcText,
	"text":                        srcText,
	"bytea":                       srcBytes,
	"uuid":                        srcUUID,
	"timestamp without time zone": srcTimestamp,
	"timestamp with time zone":    srcTimestampTZ,
	"date":                        srcDate,
	"time without time zone":      srcTime,
	"json":                        srcJSON,
	"jsonb":                       srcJSON,
	"inet":                        srcInet,
	"cidr":                        srcInet,
}

func kindOf(t pgcatalog.Type) sourceKind {
	if t.Kind == 'e' {
		return srcOther
	}
	return sourceKinds[t.Base]
}

// builtinRules holds the default target of each PostgreSQL base type.
var builtinRules = map[string]func(pgcatalog.Type) (Target, error){
	"bigint":           fixed(Target{Name: "bigint"}),
	"integer":          fixed(Target{Name: "int"}),
	"smallint":         fixed(Target{Name: "smallint"}),
	"boolean":          fixed(Target{Name: "bit"}),
	"text":             fixed(Target{Name: "nvarchar", Length: Max}),
	"json":             fixed(Target{Name: "nvarchar", Length: Max}),
	"jsonb":            fixed(Target{Name: "nvarchar", Length: Max}),
	"date":             fixed(Target{Name: "date"}),
	"bytea":            fixed(Target{Name: "varbinary", Length: Max}),
	"uuid":             fixed(Target{Name: "uniqueidentifier"}),
	"double precision": fixed(Target{Name: "float"}),
	"real":             fixed(Target{Name: "real"}),
	"numeric":          numericRule,
	"character varying": func(t pgcatalog.Type) (Target, error) {
		if t.Length < 0 || t.Length > 4000 {
			return Target{Name: "nvarchar", Length: Max}, nil
		}
		return Target{Name: "nvarchar", Length: t.Length}, nil
	},
	"character": func(t pgcatalog.Type) (Target, error) {
		switch {
		case t.Length > 4000:
			return Target{Name: "nvarchar", Length: Max}, nil
		case t.Length < 0: // bare "character" is character(1)
			return Target{Name: "nchar", Length: 1}, nil
		}
		return Target{Name: "nchar", Length: t.Length}, nil
	},
	// PostgreSQL keeps microseconds: 6 digits unless the column says fewer.
	"timestamp without time zone": fractional("datetime2"),
	"timestamp with time zone":    fractional("datetimeoffset"),
	"time without time zone":      fractional("time"),
}

func fixed(t Target) func(pgcatalog.Type) (Target, error) {
	return func(pgcatalog.Type) (Target, error) { return t, nil }
}

func fractional(name string) func(pgcatalog.Type) (Target, error) {
	return func(t pgcatalog.Type) (Target, error) {
		scale := 6
		if t.Precision >= 0 && t.Precision < 6 {
			scale = t.Precision
		}
		return Target{Name: name, Scale: scale}, nil
	}
}

func numericRule(t pgcatalog.Type) (Target, error) {
	switch {
	case t.Precision < 0:
		return Target{}, fmt.Errorf("unconstrained numeric has no SQL Server equivalent: add a rule, e.g. \"numeric\": {\"to\": \"decimal(38,10)\"}")
	case t.Scale < 0:
		// numeric(p,-s) holds integers of up to p+s digits.
		if t.Precision-t.Scale > 38 {
			return Target{}, fmt.Errorf("%s holds up to %d digits, SQL Server's decimal at most 38: add a rule", t.Text, t.Precision-t.Scale)
		}
		return Target{Name: "decimal", Precision: t.Precision - t.Scale}, nil
	case t.Precision > 38:
		return Target{}, fmt.Errorf("%s exceeds SQL Server's decimal precision of 38: add a rule, e.g. \"%s\": {\"to\": \"decimal(38,%d)\"}", t.Text, t.Text, min(t.Scale, 38))
	}
	return Target{Name: "decimal", Precision: t.Precision, Scale: t.Scale}, nil
}

// builtinTarget is the built-in rule's target for t.
func builtinTarget(t pgcatalog.Type) (Target, error) {
	if rule, ok := builtinRules[t.Base]; ok && t.Kind != 'e' {
		return rule(t)
	}
	return Target{}, fmt.Errorf("no built-in rule for PostgreSQL type %s: add a rule, e.g. %q: {\"to\": \"nvarchar(max)\"}", t.Text, t.Base)
}
