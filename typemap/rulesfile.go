package typemap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/mxmigrate/mxmigrate/dbcopy/pgcatalog"
	"github.com/mxmigrate/mxmigrate/internal/exitcode"
)

// Action says what to do with a value the target type cannot hold.
type Action string

const (
	Fail  Action = "error" // stop the load (the default)
	Null  Action = "null"  // store NULL
	Clamp Action = "clamp" // store the nearest value the target holds
)

// Rule is one user rule: a target type, an action, or both.
type Rule struct {
	To        *Target
	OnInvalid Action
}

// Mapper applies the built-in rules and the user's rules.
type Mapper struct {
	types   map[string]Rule // by normalised type key
	columns map[string]Rule // by "table.column"
}

// New returns a Mapper with the built-in rules only.
func New() *Mapper {
	return &Mapper{types: map[string]Rule{}, columns: map[string]Rule{}}
}

// Load reads the rules file at path; an empty path means the built-in
// rules only. Errors carry exit code BadInput.
func Load(path string) (*Mapper, error) {
	if path == "" {
		return New(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("--type-map: %w", err))
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("--type-map %s: %w", path, err)
	}
	return m, nil
}

type fileRule struct {
	To        string `json:"to"`
	OnInvalid string `json:"onInvalid"`
}

type fileFormat struct {
	Types   map[string]fileRule `json:"types"`
	Columns map[string]fileRule `json:"columns"`
}

// Parse reads a rules file (see the package documentation). Errors carry
// exit code BadInput and name every bad rule.
func Parse(r io.Reader) (*Mapper, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileFormat
	if err := dec.Decode(&f); err != nil {
		return nil, exitcode.With(exitcode.BadInput, fmt.Errorf("not a rules file: %w", err))
	}
	m := New()
	var errs []error
	for _, key := range sortedKeys(f.Types) {
		rule, err := f.Types[key].parse()
		if err == nil && strings.TrimSpace(key) == "" {
			err = errors.New("empty type name")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("types %q: %w", key, err))
			continue
		}
		m.types[normaliseTypeKey(key)] = rule
	}
	for _, key := range sortedKeys(f.Columns) {
		rule, err := f.Columns[key].parse()
		if err == nil {
			if dot := strings.LastIndexByte(key, '.'); dot <= 0 || dot == len(key)-1 {
				err = errors.New(`name a column as "table.column"`)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("columns %q: %w", key, err))
			continue
		}
		m.columns[key] = rule
	}
	if len(errs) > 0 {
		return nil, exitcode.With(exitcode.BadInput, errors.Join(errs...))
	}
	return m, nil
}

func (f fileRule) parse() (Rule, error) {
	var r Rule
	if f.To == "" && f.OnInvalid == "" {
		return r, errors.New(`a rule needs "to", "onInvalid" or both`)
	}
	if f.To != "" {
		t, err := ParseTarget(f.To)
		if err != nil {
			return r, err
		}
		r.To = &t
	}
	switch a := Action(f.OnInvalid); a {
	case "", Fail, Null, Clamp:
		r.OnInvalid = a
	default:
		return r, fmt.Errorf("onInvalid %q: use \"error\", \"null\" or \"clamp\"", f.OnInvalid)
	}
	return r, nil
}

// UnknownColumns lists the column rules that name no column of s: a typo
// must not pass silently.
func (m *Mapper) UnknownColumns(s *pgcatalog.Schema) []string {
	var out []string
	for key := range m.columns {
		dot := strings.LastIndexByte(key, '.')
		t := s.Table(key[:dot])
		if t == nil || t.Column(key[dot+1:]) == nil {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// typeAliases maps the names people write to the names format_type prints.
var typeAliases = map[string]string{
	"int8": "bigint", "int": "integer", "int4": "integer", "int2": "smallint",
	"decimal": "numeric", "bool": "boolean",
	"varchar": "character varying", "char": "character", "bpchar": "character",
	"float8": "double precision", "double": "double precision", "float4": "real",
	"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone",
	"time": "time without time zone", "timetz": "time with time zone",
}

var typeKeyRE = regexp.MustCompile(`^([^(]*)(\([^)]*\))?(.*)$`)

// normaliseTypeKey turns "VARCHAR(200)", "timestamp(3) without time zone"
// or "timestamptz" into the form typeKey builds from a column's type:
// format_type's base name, then the modifiers.
func normaliseTypeKey(key string) string {
	m := typeKeyRE.FindStringSubmatch(strings.ToLower(strings.ReplaceAll(key, `"`, "")))
	name := strings.Join(strings.Fields(m[1]+" "+m[3]), " ")
	if alias, ok := typeAliases[name]; ok {
		name = alias
	}
	return name + strings.Join(strings.Fields(m[2]), "")
}

// typeKey is t's base name followed by its declared modifiers.
func typeKey(t pgcatalog.Type) string {
	switch {
	case t.Base == "numeric" && t.Precision >= 0:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case t.Length >= 0:
		return fmt.Sprintf("%s(%d)", t.Base, t.Length)
	case t.Precision >= 0:
		return fmt.Sprintf("%s(%d)", t.Base, t.Precision)
	}
	return t.Base
}

func sortedKeys(m map[string]fileRule) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
