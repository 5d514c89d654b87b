package typemap

import (
	"fmt"
	"strconv"
	"strings"
)

// Max is the Length of a (max) type: nvarchar(max), varbinary(max).
const Max = -1

// Target is a SQL Server column type.
type Target struct {
	// Name is the type's lower-case name: "decimal", "nvarchar" ...
	Name string
	// Length is the length of character and binary types (characters for
	// nvarchar and nchar, bytes for the others), Max for (max).
	Length int
	// Precision and Scale are decimal's; Scale is also the fractional
	// second digits of datetime2, datetimeoffset and time.
	Precision int
	Scale     int
}

// String is the type as DDL writes it.
func (t Target) String() string {
	switch t.kind() {
	case kindString, kindBinary:
		if t.Length == Max {
			return t.Name + "(max)"
		}
		return t.Name + "(" + strconv.Itoa(t.Length) + ")"
	case kindDecimal:
		return fmt.Sprintf("%s(%d,%d)", t.Name, t.Precision, t.Scale)
	case kindDatetime2, kindDatetimeOffset, kindTime:
		return t.Name + "(" + strconv.Itoa(t.Scale) + ")"
	}
	return t.Name
}

// IsMax reports whether the type is a (max) type, which SQL Server cannot
// use as an index key.
func (t Target) IsMax() bool { return t.Length == Max }

// IsText reports whether the type holds characters (nvarchar, nchar,
// varchar, char), whose comparisons follow a collation.
func (t Target) IsText() bool { return t.kind() == kindString }

// targetKind groups target types that take the same Go values.
type targetKind int

const (
	kindUnknown targetKind = iota
	kindInt
	kindFloat
	kindDecimal
	kindBit
	kindString
	kindBinary
	kindGUID
	kindDatetime2
	kindDatetimeOffset
	kindDate
	kindTime
)

type targetSpec struct {
	kind targetKind
	// maxLength bounds n in name(n); 0 for types without a length.
	maxLength int
	// hasMax says name(max) exists.
	hasMax bool
}

var targetSpecs = map[string]targetSpec{
	"bigint":           {kind: kindInt},
	"int":              {kind: kindInt},
	"smallint":         {kind: kindInt},
	"tinyint":          {kind: kindInt},
	"bit":              {kind: kindBit},
	"decimal":          {kind: kindDecimal},
	"numeric":          {kind: kindDecimal},
	"float":            {kind: kindFloat},
	"real":             {kind: kindFloat},
	"nvarchar":         {kind: kindString, maxLength: 4000, hasMax: true},
	"nchar":            {kind: kindString, maxLength: 4000},
	"varchar":          {kind: kindString, maxLength: 8000, hasMax: true},
	"char":             {kind: kindString, maxLength: 8000},
	"varbinary":        {kind: kindBinary, maxLength: 8000, hasMax: true},
	"binary":           {kind: kindBinary, maxLength: 8000},
	"uniqueidentifier": {kind: kindGUID},
	"datetime2":        {kind: kindDatetime2},
	"datetimeoffset":   {kind: kindDatetimeOffset},
	"date":             {kind: kindDate},
	"time":             {kind: kindTime},
}

func (t Target) kind() targetKind { return targetSpecs[t.Name].kind }

// ParseTarget reads a SQL Server type as a rule names it, e.g.
// "decimal(38,10)", "NVARCHAR(MAX)", "datetime2". Omitted modifiers take
// SQL Server's defaults (decimal: 18,0; datetime2, datetimeoffset, time:
// 7), except for character and binary types, whose default length of 1 is
// never what was meant.
func ParseTarget(s string) (Target, error) {
	text := strings.ToLower(strings.Join(strings.Fields(s), ""))
	name, args, hasArgs := strings.Cut(text, "(")
	spec, ok := targetSpecs[name]
	if !ok {
		return Target{}, fmt.Errorf("unknown or unsupported SQL Server type %q", s)
	}
	var params []string
	if hasArgs {
		if !strings.HasSuffix(args, ")") {
			return Target{}, fmt.Errorf("type %q: missing )", s)
		}
		params = strings.Split(strings.TrimSuffix(args, ")"), ",")
	}
	t := Target{Name: name}
	switch spec.kind {
	case kindString, kindBinary:
		if len(params) != 1 {
			return Target{}, fmt.Errorf("type %q: give a length, e.g. %s(200)", s, name)
		}
		if params[0] == "max" && spec.hasMax {
			t.Length = Max
			return t, nil
		}
		n, err := strconv.Atoi(params[0])
		if err != nil || n < 1 || n > spec.maxLength {
			return Target{}, fmt.Errorf("type %q: length must be %s", s, spec.lengthRange())
		}
		t.Length = n
	case kindDecimal:
		t.Precision, t.Scale = 18, 0
		if len(params) > 2 {
			return Target{}, fmt.Errorf("type %q: decimal takes (precision, scale)", s)
		}
		var err error
		if len(params) >= 1 {
			if t.Precision, err = strconv.Atoi(params[0]); err != nil || t.Precision < 1 || t.Precision > 38 {
				return Target{}, fmt.Errorf("type %q: precision must be 1 to 38", s)
			}
		}
		if len(params) == 2 {
			if t.Scale, err = strconv.Atoi(params[1]); err != nil || t.Scale < 0 || t.Scale > t.Precision {
				return Target{}, fmt.Errorf("type %q: scale must be 0 to the precision", s)
			}
		}
	case kindDatetime2, kindDatetimeOffset, kindTime:
		t.Scale = 7
		if len(params) > 1 {
			return Target{}, fmt.Errorf("type %q: takes one fractional-seconds scale", s)
		}
		if len(params) == 1 {
			n, err := strconv.Atoi(params[0])
			if err != nil || n < 0 || n > 7 {
				return Target{}, fmt.Errorf("type %q: scale must be 0 to 7", s)
			}
			t.Scale = n
		}
	default:
		if hasArgs {
			return Target{}, fmt.Errorf("type %q: %s takes no modifiers", s, name)
		}
	}
	return t, nil
}

func (s targetSpec) lengthRange() string {
	r := "1 to " + strconv.Itoa(s.maxLength)
	if s.hasMax {
		r += " or max"
	}
	return r
}
